#include "client/informers/store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "api/core/v1/codec.h"
#include "client/informers/shared_informer.h"

namespace kpp::client::informers {
namespace {

using api::core::v1::Pod;

ObjectRef MakePod(const std::string& ns, const std::string& name, const std::string& node,
                  const std::string& owner_uid = "") {
  Pod pod;
  pod.kind = "Pod";
  pod.api_version = "v1";
  pod.metadata.namespace_ = ns;
  pod.metadata.name = name;
  pod.spec.node_name = node;
  if (!owner_uid.empty()) {
    api::meta::v1::OwnerReference owner;
    owner.uid = owner_uid;
    owner.name = "rs";
    owner.kind = "ReplicaSet";
    pod.metadata.owner_references.push_back(owner);
  }
  return std::make_shared<api::TypedObject<Pod>>(std::move(pod));
}

std::vector<std::string> Keys(const Result<std::vector<ObjectRef>>& objects) {
  std::vector<std::string> keys;
  if (!objects.ok()) return {"error: " + objects.error().message()};
  for (const auto& object : *objects)
    keys.push_back(MetaNamespaceKey(*object));
  std::sort(keys.begin(), keys.end());
  return keys;
}

using Strings = std::vector<std::string>;

TEST(ClientStoreTest, IndexesFollowUpsertsAndDeletes) {
  Store store({{kNamespaceIndex, NamespaceIndexFunc()},
               {kNodeNameIndex, PodNodeNameIndexFunc()},
               {kOwnerUidIndex, OwnerUidIndexFunc()}});
  store.Upsert("a/p1", MakePod("a", "p1", "n1", "rs-1"));
  store.Upsert("a/p2", MakePod("a", "p2", "", "rs-1"));
  store.Upsert("b/p3", MakePod("b", "p3", "n1"));
  EXPECT_EQ(Keys(store.ByIndex(kNamespaceIndex, "a")), (Strings{"a/p1", "a/p2"}));
  EXPECT_EQ(Keys(store.ByIndex(kNodeNameIndex, "n1")), (Strings{"a/p1", "b/p3"}));
  EXPECT_EQ(Keys(store.ByIndex(kOwnerUidIndex, "rs-1")), (Strings{"a/p1", "a/p2"}));
  // Binding p2 moves it into the node index; moving p1 takes it out of n1.
  store.Upsert("a/p2", MakePod("a", "p2", "n1", "rs-1"));
  store.Upsert("a/p1", MakePod("a", "p1", "n2", "rs-1"));
  EXPECT_EQ(Keys(store.ByIndex(kNodeNameIndex, "n1")), (Strings{"a/p2", "b/p3"}));
  EXPECT_EQ(Keys(store.ByIndex(kNodeNameIndex, "n2")), (Strings{"a/p1"}));
  store.Delete("a/p2");
  EXPECT_EQ(Keys(store.ByIndex(kNodeNameIndex, "n1")), (Strings{"b/p3"}));
  EXPECT_EQ(Keys(store.ByIndex(kOwnerUidIndex, "rs-1")), (Strings{"a/p1"}));
  EXPECT_EQ(store.Size(), 2u);
  EXPECT_FALSE(store.ByIndex("nope", "x").ok());
  EXPECT_EQ(*store.IndexKeys(kNamespaceIndex, "b"), (Strings{"b/p3"}));
}

TEST(ClientStoreTest, ReplaceRebuildsIndexesAndReturnsTheOldContent) {
  Store store({{kNodeNameIndex, PodNodeNameIndexFunc()}});
  store.Upsert("a/p1", MakePod("a", "p1", "n1"));
  auto old = store.Replace({{"a/p2", MakePod("a", "p2", "n2")}});
  EXPECT_EQ(old.size(), 1u);
  EXPECT_TRUE(old.contains("a/p1"));
  EXPECT_EQ(Keys(store.ByIndex(kNodeNameIndex, "n1")), Strings{});
  EXPECT_EQ(Keys(store.ByIndex(kNodeNameIndex, "n2")), (Strings{"a/p2"}));
  EXPECT_EQ(store.Get("a/p1"), nullptr);
}

TEST(ClientStoreTest, IndexersAddedLaterIndexWhatIsThere) {
  Store store;
  store.Upsert("a/p1", MakePod("a", "p1", "n1"));
  ASSERT_TRUE(store.AddIndexers({{kNodeNameIndex, PodNodeNameIndexFunc()}}).ok());
  EXPECT_EQ(Keys(store.ByIndex(kNodeNameIndex, "n1")), (Strings{"a/p1"}));
  EXPECT_FALSE(store.AddIndexers({{kNodeNameIndex, PodNodeNameIndexFunc()}}).ok());
}

TEST(ClientStoreTest, KeysOfClusterScopedObjectsHaveNoNamespace) {
  EXPECT_EQ(MetaNamespaceKey(*MakePod("", "n", "")), "n");
  EXPECT_EQ(MetaNamespaceKey(*MakePod("ns", "n", "")), "ns/n");
}

TEST(ClientListerTest, TypedViewsShareTheCachedObjects) {
  Store store({{kNamespaceIndex, NamespaceIndexFunc()}});
  auto pod = MakePod("a", "p1", "n1");
  store.Upsert("a/p1", pod);
  auto typed = As<Pod>(pod);
  ASSERT_NE(typed, nullptr);
  EXPECT_EQ(typed->spec.node_name, "n1");
  EXPECT_EQ(As<api::core::v1::ConfigMap>(pod), nullptr);
}

}  // namespace
}  // namespace kpp::client::informers
