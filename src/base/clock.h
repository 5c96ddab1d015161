// Time as a dependency: components take a Clock& so tests can drive time with FakeClock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace kpp {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

  virtual ~Clock() = default;
  // Wall-clock time, as used in API object timestamps.
  virtual TimePoint Now() const = 0;
  // Monotonic time for timeouts and intervals; never goes back.
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
  // Blocks the caller for `duration` of this clock's time.
  virtual void SleepFor(Duration duration) = 0;
};

// The process-wide real clock. Thread-safe.
Clock& RealClock();

// A clock that only moves when told to. Thread-safe. SleepFor blocks until other threads have
// advanced the clock far enough, so code under test can be stepped deterministically.
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)));

  TimePoint Now() const override;
  std::chrono::steady_clock::time_point Monotonic() const override;
  void SleepFor(Duration duration) override;

  void Advance(Duration duration);
  void Set(TimePoint now);
  // Number of threads currently blocked in SleepFor; lets tests wait for a sleeper.
  int Sleepers() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  TimePoint now_;
  Duration elapsed_{0};
  int sleepers_ = 0;
};

}  // namespace kpp
