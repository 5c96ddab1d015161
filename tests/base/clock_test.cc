#include "base/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace kpp {
namespace {

using namespace std::chrono_literals;

TEST(FakeClockTest, OnlyMovesWhenAdvanced) {
  FakeClock clock;
  const auto start = clock.Now();
  const auto mono = clock.Monotonic();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(5s);
  EXPECT_EQ(clock.Now() - start, 5s);
  EXPECT_EQ(clock.Monotonic() - mono, 5s);
}

TEST(FakeClockTest, SleepWaitsForAdvance) {
  FakeClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(10s);
    woke = true;
  });
  while (clock.Sleepers() == 0)
    std::this_thread::yield();
  clock.Advance(9s);
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(woke);
  clock.Advance(1s);
  sleeper.join();
  EXPECT_TRUE(woke);
}

TEST(FakeClockTest, SettingBackwardsKeepsMonotonicTime) {
  FakeClock clock;
  const auto mono = clock.Monotonic();
  clock.Set(clock.Now() - 1h);
  EXPECT_GE(clock.Monotonic(), mono);
}

TEST(RealClockTest, AdvancesOnItsOwn) {
  const auto a = RealClock().Monotonic();
  RealClock().SleepFor(1ms);
  EXPECT_GT(RealClock().Monotonic(), a);
}

}  // namespace
}  // namespace kpp
