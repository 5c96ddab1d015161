// The scheduler cache: assumed pods, confirmation by the informer, forgetting, snapshots that
// share unchanged nodes.
#include "scheduler/cache/cache.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace kpp::scheduler {
namespace {

using testing::NodeBuilder;
using testing::PodBuilder;

TEST(Cache, AssumeConfirmForget) {
  Cache cache;
  cache.AddNode(NodeBuilder("n1").Build());
  cache.AddNode(NodeBuilder("n2").Build());
  Snapshot snapshot;
  cache.UpdateSnapshot(snapshot);
  ASSERT_EQ(snapshot.nodes.size(), 2u);
  auto n2_before = snapshot.nodes[1];

  auto pod = PodBuilder("p").Container("1", "1Gi").Node("n1").Build();
  ASSERT_TRUE(cache.AssumePod(std::make_shared<const PodInfo>(pod)).ok());
  EXPECT_TRUE(cache.IsAssumedPod("uid-p"));
  EXPECT_FALSE(cache.AssumePod(std::make_shared<const PodInfo>(pod)).ok());
  cache.UpdateSnapshot(snapshot);
  EXPECT_EQ(snapshot.Get("n1")->requested.milli_cpu, 1000);
  EXPECT_EQ(snapshot.nodes[1], n2_before);  // unchanged nodes are shared, not copied

  // The informer reports the binding: no longer assumed, still counted once.
  cache.FinishBinding("uid-p");
  cache.AddPod(pod);
  EXPECT_FALSE(cache.IsAssumedPod("uid-p"));
  cache.UpdateSnapshot(snapshot);
  EXPECT_EQ(snapshot.Get("n1")->requested.milli_cpu, 1000);
  EXPECT_EQ(snapshot.Get("n1")->pods.size(), 1u);

  auto other = PodBuilder("q").Container("2", "").Node("n2").Build();
  ASSERT_TRUE(cache.AssumePod(std::make_shared<const PodInfo>(other)).ok());
  cache.ForgetPod("uid-q");
  cache.UpdateSnapshot(snapshot);
  EXPECT_EQ(snapshot.Get("n2")->requested.milli_cpu, 0);

  cache.RemovePod("uid-p");
  cache.UpdateSnapshot(snapshot);
  EXPECT_EQ(snapshot.Get("n1")->requested.milli_cpu, 0);
}

TEST(Cache, SnapshotDoesNotChangeUnderTheReader) {
  Cache cache;
  cache.AddNode(NodeBuilder("n1").Build());
  Snapshot snapshot;
  cache.UpdateSnapshot(snapshot);
  NodeInfoPtr held = snapshot.nodes[0];
  cache.AddPod(PodBuilder("p").Container("1", "").Node("n1").Build());
  EXPECT_EQ(held->requested.milli_cpu, 0);  // copied on write, the old view stays
  cache.UpdateSnapshot(snapshot);
  EXPECT_EQ(snapshot.nodes[0]->requested.milli_cpu, 1000);
}

TEST(Cache, PodsBeforeTheirNodeAndNodeRemoval) {
  Cache cache;
  cache.AddPod(PodBuilder("p").Container("1", "").Node("late").Build());
  Snapshot snapshot;
  cache.UpdateSnapshot(snapshot);
  EXPECT_TRUE(snapshot.nodes.empty());  // a node only pods name is not schedulable
  cache.AddNode(NodeBuilder("late").Image("nginx:1", 100).Build());
  cache.UpdateSnapshot(snapshot);
  ASSERT_EQ(snapshot.nodes.size(), 1u);
  EXPECT_EQ(snapshot.nodes[0]->requested.milli_cpu, 1000);
  EXPECT_EQ(snapshot.NodesWithImage("nginx:1"), 1);
  cache.RemoveNode("late");
  cache.UpdateSnapshot(snapshot);
  EXPECT_TRUE(snapshot.nodes.empty());
  EXPECT_EQ(snapshot.NodesWithImage("nginx:1"), 0);
  EXPECT_EQ(cache.NodeCount(), 0u);
}

// The name kept beside the flags follows the node through updates, copies and removal.
TEST(Cache, NodeInfoNameViewFollowsItsNode) {
  NodeInfo info;
  EXPECT_TRUE(info.name_view.empty());
  info.SetNode(NodeBuilder("a-node-with-a-longer-name").Build());
  EXPECT_EQ(info.name_view, "a-node-with-a-longer-name");
  EXPECT_EQ(info.name_view, info.name());
  NodeInfo copy = info;
  info.SetNode(NodeBuilder("n2").Build());
  EXPECT_EQ(info.name_view, "n2");
  EXPECT_EQ(copy.name_view, "a-node-with-a-longer-name");
  info.ClearNode();
  EXPECT_TRUE(info.name_view.empty());

  Cache cache;
  cache.AddNode(NodeBuilder("n1").Build());
  cache.AddPod(PodBuilder("p").Container("1", "").Node("n1").Build());  // copied on write
  Snapshot snapshot;
  cache.UpdateSnapshot(snapshot);
  ASSERT_EQ(snapshot.nodes.size(), 1u);
  EXPECT_EQ(snapshot.nodes[0]->name_view, "n1");
}

}  // namespace
}  // namespace kpp::scheduler
