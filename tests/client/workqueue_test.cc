#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "client/workqueue/queue.h"
#include "client/workqueue/rate_limiters.h"

namespace kpp::client::workqueue {
namespace {

using namespace std::chrono_literals;

// Polls `condition` until it holds or 10 s pass (a bound on a hung test, not a timing check).
template <typename F>
bool Eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

TEST(ClientQueueTest, AddsOfOneKeyBeforeProcessingAreHandedOutOnce) {
  Queue queue;
  queue.Add("a");
  queue.Add("b");
  queue.Add("a");
  EXPECT_EQ(queue.Len(), 2);
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), "b");
  EXPECT_EQ(queue.Len(), 0);
}

TEST(ClientQueueTest, KeyAddedWhileProcessingIsHandedOutAgainAfterDone) {
  Queue queue;
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.Add("a");
  // Not handed to a second worker while the first still holds it.
  EXPECT_EQ(queue.Len(), 0);
  queue.Add("a");
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 1);
  EXPECT_EQ(queue.Get(), "a");
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0);
}

TEST(ClientQueueTest, ShutDownWakesWaitersAndRefusesAdds) {
  Queue queue;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = queue.Get(); });
  queue.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  queue.Add("late");
  EXPECT_EQ(queue.Len(), 0);
  EXPECT_TRUE(queue.ShuttingDown());
}

TEST(ClientQueueTest, ShutDownHandsOutWhatIsQueuedFirst) {
  Queue queue;
  queue.Add("a");
  queue.ShutDown();
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(ClientQueueTest, ShutDownWithDrainWaitsForItemsInProcessing) {
  Queue queue;
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  std::atomic<bool> drained = false;
  std::thread drainer([&] {
    queue.ShutDownWithDrain();
    drained = true;
  });
  ASSERT_TRUE(Eventually([&] { return queue.ShuttingDown(); }));
  EXPECT_FALSE(drained);
  queue.Done("a");
  drainer.join();
  EXPECT_TRUE(drained);
}

TEST(ClientQueueTest, ManyWorkersNeverHoldOneKeyAtOnce) {
  Queue queue;
  std::mutex mutex;
  std::set<std::string> held;
  std::atomic<bool> overlap = false;
  std::atomic<int> processed = 0;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto item = queue.Get()) {
        {
          std::lock_guard lock(mutex);
          if (!held.insert(*item).second) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mutex);
          held.erase(*item);
        }
        ++processed;
        queue.Done(*item);
      }
    });
  }
  for (int i = 0; i < 2000; ++i)
    queue.Add("key-" + std::to_string(i % 5));
  queue.ShutDownWithDrain();
  for (auto& worker : workers)
    worker.join();
  EXPECT_FALSE(overlap);
  EXPECT_GT(processed, 0);
}

TEST(ClientDelayingQueueTest, AddAfterWaitsForTheClock) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("a", 10s);
  queue.AddAfter("b", 0s);
  EXPECT_EQ(queue.Len(), 1);
  EXPECT_EQ(queue.Waiting(), 1);
  clock.Advance(9s);
  EXPECT_EQ(queue.Get(), "b");
  clock.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return queue.Len() == 1; }));
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Waiting(), 0);
}

TEST(ClientDelayingQueueTest, EarlierAddAfterWins) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("a", 10s);
  queue.AddAfter("a", 2s);
  queue.AddAfter("a", 5s);
  EXPECT_EQ(queue.Waiting(), 1);
  clock.Advance(2s);
  ASSERT_TRUE(Eventually([&] { return queue.Len() == 1; }));
  EXPECT_EQ(queue.Waiting(), 0);
}

TEST(ClientRateLimitersTest, ItemExponentialBackOffDoublesUpToTheMaximum) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1000s);
  EXPECT_EQ(limiter.When("a"), 5ms);
  EXPECT_EQ(limiter.When("a"), 10ms);
  EXPECT_EQ(limiter.When("a"), 20ms);
  EXPECT_EQ(limiter.When("b"), 5ms);
  EXPECT_EQ(limiter.NumRequeues("a"), 3);
  for (int i = 0; i < 100; ++i)
    limiter.When("a");
  EXPECT_EQ(limiter.When("a"), 1000s);
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(limiter.When("a"), 5ms);
}

TEST(ClientRateLimitersTest, FastSlow) {
  ItemFastSlowRateLimiter limiter(5ms, 10s, 2);
  EXPECT_EQ(limiter.When("a"), 5ms);
  EXPECT_EQ(limiter.When("a"), 5ms);
  EXPECT_EQ(limiter.When("a"), 10s);
}

TEST(ClientRateLimitersTest, TokenBucketAllowsBurstThenPaces) {
  FakeClock clock;
  TokenBucket bucket(5, 10, clock);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(bucket.Reserve(), 0ms) << i;
  EXPECT_EQ(bucket.Reserve(), 200ms);
  EXPECT_EQ(bucket.Reserve(), 400ms);
  EXPECT_FALSE(bucket.TryAccept());
  clock.Advance(1s);  // pays back the two reserved tokens and refills three
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_FALSE(bucket.TryAccept());
}

TEST(ClientRateLimitersTest, DefaultControllerLimiterIsTheMaxOfBothLimits) {
  FakeClock clock;
  auto limiter = DefaultControllerRateLimiter(clock);
  EXPECT_EQ(limiter->When("a"), 5ms);
  EXPECT_EQ(limiter->When("a"), 10ms);
  // The bucket's burst of 100 is spent by many items; the next one waits for the bucket.
  for (int i = 0; i < 98; ++i)
    limiter->When("x" + std::to_string(i));
  EXPECT_EQ(limiter->When("y"), 100ms);
  EXPECT_EQ(limiter->NumRequeues("a"), 2);
}

TEST(ClientRateLimitingQueueTest, AddRateLimitedBacksOffPerItem) {
  FakeClock clock;
  RateLimitingQueue queue(std::make_unique<ItemExponentialFailureRateLimiter>(1s, 60s), clock);
  queue.AddRateLimited("a");
  queue.AddRateLimited("a");  // second failure: 2 s, but the 1 s entry is earlier and wins
  EXPECT_EQ(queue.NumRequeues("a"), 2);
  EXPECT_EQ(queue.Len(), 0);
  clock.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return queue.Len() == 1; }));
  queue.Forget("a");
  EXPECT_EQ(queue.NumRequeues("a"), 0);
}

}  // namespace
}  // namespace kpp::client::workqueue
