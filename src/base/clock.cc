#include "base/clock.h"

#include <thread>

namespace kpp {
namespace {

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  void SleepFor(Duration duration) override { std::this_thread::sleep_for(duration); }
};

}  // namespace

Clock& RealClock() {
  static SystemClock clock;
  return clock;
}

FakeClock::FakeClock(TimePoint start) : now_(start) {}

Clock::TimePoint FakeClock::Now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

std::chrono::steady_clock::time_point FakeClock::Monotonic() const {
  std::lock_guard lock(mutex_);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(elapsed_));
}

void FakeClock::SleepFor(Duration duration) {
  std::unique_lock lock(mutex_);
  const Duration wake_at = elapsed_ + duration;
  ++sleepers_;
  changed_.wait(lock, [&] { return elapsed_ >= wake_at; });
  --sleepers_;
}

void FakeClock::Advance(Duration duration) {
  {
    std::lock_guard lock(mutex_);
    now_ += duration;
    elapsed_ += duration;
  }
  changed_.notify_all();
}

void FakeClock::Set(TimePoint now) {
  {
    std::lock_guard lock(mutex_);
    if (now > now_) elapsed_ += now - now_;
    now_ = now;
  }
  changed_.notify_all();
}

int FakeClock::Sleepers() const {
  std::lock_guard lock(mutex_);
  return sleepers_;
}

}  // namespace kpp
