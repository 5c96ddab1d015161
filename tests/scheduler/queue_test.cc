// The scheduling queue: priority order, back-off, moves on cluster events, the 5 minute flush,
// gates.
#include <gtest/gtest.h>

#include "scheduler/queue/scheduling_queue.h"
#include "test_util.h"

namespace kpp::scheduler {
namespace {

using namespace std::chrono_literals;
using testing::PodBuilder;

class QueueTest : public ::testing::Test {
 protected:
  QueueTest()
      : queue_(Less(), Options(), nullptr,
               {{"NodeResourcesFit", {{EventResource::kNode, kAdd, ""}}},
                {"TaintToleration", {{EventResource::kNode, kUpdateNodeTaint, ""}}}}) {}
  static SchedulingQueue::LessFunction Less() {
    return [](const QueuedPodInfo& a, const QueuedPodInfo& b) {
      const int pa = a.pod().spec.priority.value_or(0);
      const int pb = b.pod().spec.priority.value_or(0);
      return pa > pb || (pa == pb && a.timestamp < b.timestamp);
    };
  }
  QueueOptions Options() {
    QueueOptions options;
    options.clock = &clock_;
    return options;
  }
  // Pops a pod and reports it unschedulable by `plugin`.
  QueuedPodInfoPtr FailWith(const std::string& plugin) {
    auto pod = queue_.Pop();
    pod->unschedulable_plugins = {plugin};
    queue_.AddUnschedulableIfNotPresent(pod, queue_.SchedulingCycle());
    return pod;
  }

  FakeClock clock_;
  SchedulingQueue queue_;
};

TEST_F(QueueTest, PopsByPriorityThenAge) {
  queue_.Add(PodBuilder("low").Priority(1).Build());
  clock_.Advance(1s);
  queue_.Add(PodBuilder("high").Priority(5).Build());
  clock_.Advance(1s);
  queue_.Add(PodBuilder("low2").Priority(1).Build());
  EXPECT_EQ(queue_.Pop()->pod().metadata.name, "high");
  EXPECT_EQ(queue_.Pop()->pod().metadata.name, "low");
  EXPECT_EQ(queue_.Pop()->pod().metadata.name, "low2");
}

TEST_F(QueueTest, UnschedulablePodsMoveOnlyOnTheirEvents) {
  queue_.Add(PodBuilder("p").Build());
  FailWith("NodeResourcesFit");
  EXPECT_EQ(queue_.PendingCounts().unschedulable, 1u);
  // A taint change does not help a pod that lacked room.
  queue_.MoveAllToActiveOrBackoffQueue({EventResource::kNode, kUpdateNodeTaint, "NodeUpdate"});
  EXPECT_EQ(queue_.PendingCounts().unschedulable, 1u);
  // A node added may: it goes to backoffQ (1 s after its first attempt) then activeQ.
  queue_.MoveAllToActiveOrBackoffQueue(kEventNodeAdd);
  EXPECT_EQ(queue_.PendingCounts().backoff, 1u);
  clock_.Advance(1100ms);
  queue_.FlushBackoffCompleted();
  EXPECT_EQ(queue_.PendingCounts().active, 1u);
  EXPECT_EQ(queue_.Pop()->attempts, 2);
}

TEST_F(QueueTest, BackoffDoublesUpToTheMaximum) {
  queue_.Add(PodBuilder("p").Build());
  std::vector<std::chrono::milliseconds> waits = {1000ms, 2000ms, 4000ms, 8000ms, 10000ms, 10000ms};
  for (auto wait : waits) {
    auto pod = queue_.Pop();
    pod->unschedulable_plugins = {};  // an error: straight to backoffQ
    queue_.AddUnschedulableIfNotPresent(pod, queue_.SchedulingCycle());
    clock_.Advance(wait - 10ms);
    queue_.FlushBackoffCompleted();
    EXPECT_EQ(queue_.PendingCounts().backoff, 1u) << wait.count();
    clock_.Advance(20ms);
    queue_.FlushBackoffCompleted();
    EXPECT_EQ(queue_.PendingCounts().active, 1u) << wait.count();
  }
}

TEST_F(QueueTest, MoveRequestDuringTheCycleSendsToBackoff) {
  queue_.Add(PodBuilder("p").Build());
  auto pod = queue_.Pop();
  const int64_t cycle = queue_.SchedulingCycle();
  queue_.MoveAllToActiveOrBackoffQueue(kEventNodeAdd);  // while the pod was being scheduled
  pod->unschedulable_plugins = {"NodeResourcesFit"};
  queue_.AddUnschedulableIfNotPresent(pod, cycle);
  EXPECT_EQ(queue_.PendingCounts().backoff, 1u);
}

TEST_F(QueueTest, LeftoverUnschedulablePodsAreFlushedAfterFiveMinutes) {
  queue_.Add(PodBuilder("p").Build());
  FailWith("NodeResourcesFit");
  clock_.Advance(299s);
  queue_.FlushUnschedulableLeftover();
  EXPECT_EQ(queue_.PendingCounts().unschedulable, 1u);
  clock_.Advance(2s);
  queue_.FlushUnschedulableLeftover();
  EXPECT_EQ(queue_.PendingCounts().active, 1u);
}

TEST_F(QueueTest, DeleteAndUpdate) {
  auto pod = PodBuilder("p").Build();
  queue_.Add(pod);
  queue_.Delete(pod->metadata.uid);
  EXPECT_FALSE(queue_.Contains(pod->metadata.uid));
  queue_.Add(pod);
  FailWith("TaintToleration");
  // A spec update of an unschedulable pod (a new toleration) retries it.
  auto updated = PodBuilder("p").Toleration("a", "Exists", "", "").Build();
  clock_.Advance(2s);
  queue_.Update(pod, updated);
  EXPECT_EQ(queue_.PendingCounts().active, 1u);
  EXPECT_EQ(queue_.Pop()->pod().spec.tolerations.size(), 1u);
}

TEST(QueueGates, GatedPodsWaitUntilPreEnqueueLetsThemIn) {
  bool open = false;
  FakeClock clock;
  QueueOptions options;
  options.clock = &clock;
  SchedulingQueue queue(
      [](const QueuedPodInfo& a, const QueuedPodInfo& b) { return a.timestamp < b.timestamp; },
      options, [&](const Pod&) { return open; });
  queue.Add(PodBuilder("p").Build());
  EXPECT_EQ(queue.PendingCounts().gated, 1u);
  open = true;
  queue.MoveAllToActiveOrBackoffQueue(kEventNodeAdd);
  EXPECT_EQ(queue.PendingCounts().active, 1u);
}

}  // namespace
}  // namespace kpp::scheduler
