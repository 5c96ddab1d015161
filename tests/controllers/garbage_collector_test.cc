#include "controllers/garbagecollector/garbage_collector.h"

#include <gtest/gtest.h>

#include <map>

namespace kpp::controllers {
namespace {

using api::meta::v1::OwnerReference;
using api::meta::v1::PartialObjectMetadata;

// The API server as a map by uid, recording requests.
class FakeAccess final : public ObjectAccess {
 public:
  Result<std::optional<std::string>> GetUid(const ObjectId& id) override {
    for (const auto& [uid, name] : existing) {
      if (name == id.name) return std::optional<std::string>(uid);
    }
    return std::optional<std::string>();
  }
  Status Delete(const ObjectId& id, const std::string& policy) override {
    actions.push_back("delete " + id.name + " " + policy);
    return Ok();
  }
  Status PatchOwnerReferences(const ObjectId& id, const std::string& strategic,
                              const std::string&) override {
    actions.push_back("patch " + id.name + " " + strategic);
    return Ok();
  }
  Status SetFinalizers(const ObjectId& id, const std::vector<std::string>& finalizers,
                       const std::string&) override {
    std::string list;
    for (const auto& f : finalizers)
      list += f + ",";
    actions.push_back("finalizers " + id.name + " [" + list + "]");
    return Ok();
  }
  std::map<std::string, std::string> existing;  // uid -> name
  std::vector<std::string> actions;
};

OwnerReference Ref(const std::string& name, bool block = true) {
  OwnerReference ref;
  ref.api_version = "apps/v1";
  ref.kind = "ReplicaSet";
  ref.name = name;
  ref.uid = "uid-" + name;
  ref.controller = true;
  ref.block_owner_deletion = block;
  return ref;
}

api::TypedObject<PartialObjectMetadata> Object(const std::string& name,
                                               std::vector<OwnerReference> owners = {},
                                               std::vector<std::string> finalizers = {},
                                               bool deleting = false) {
  PartialObjectMetadata object;
  object.api_version = "v1";
  object.kind = "Pod";
  object.metadata.name = name;
  object.metadata.namespace_ = "default";
  object.metadata.uid = "uid-" + name;
  object.metadata.owner_references = std::move(owners);
  object.metadata.finalizers = std::move(finalizers);
  if (deleting) object.metadata.deletion_timestamp = api::Time::FromUnixSeconds(1);
  return api::TypedObject<PartialObjectMetadata>(object);
}

// Runs every queued decision until none is left.
void Settle(GarbageCollector& gc) {
  for (int round = 0; round < 10; ++round) {
    auto to_delete = gc.TakeToDelete();
    auto to_orphan = gc.TakeToOrphan();
    if (to_delete.empty() && to_orphan.empty()) return;
    for (const auto& uid : to_delete)
      ASSERT_TRUE(gc.AttemptToDelete(uid).ok());
    for (const auto& uid : to_orphan)
      ASSERT_TRUE(gc.AttemptToOrphan(uid).ok());
  }
}

TEST(GarbageCollectorTest, DependentsOfAnOwnerThatIsGoneAreDeleted) {
  FakeAccess access;
  access.existing = {{"uid-rs", "rs"}, {"uid-a", "a"}};
  GarbageCollector gc(access);
  gc.Observe(Object("rs"));
  gc.Observe(Object("a", {Ref("rs")}));
  Settle(gc);
  EXPECT_TRUE(access.actions.empty());
  EXPECT_EQ(gc.DependentsOf("uid-rs"), std::set<std::string>{"uid-a"});

  access.existing.erase("uid-rs");
  gc.ObserveDeleted(Object("rs"));
  Settle(gc);
  EXPECT_EQ(access.actions, std::vector<std::string>{"delete a Background"});
}

TEST(GarbageCollectorTest, OwnerNeverSeenIsCheckedWithTheServerFirst) {
  struct Case {
    std::string why;
    bool owner_exists;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"owner exists though no informer showed it yet", true, {}},
      {"dangling reference", false, {"delete a Background"}},
  };
  for (const auto& c : cases) {
    FakeAccess access;
    if (c.owner_exists) access.existing["uid-rs"] = "rs";
    GarbageCollector gc(access);
    gc.Observe(Object("a", {Ref("rs")}));
    Settle(gc);
    EXPECT_EQ(access.actions, c.want) << c.why;
  }
}

TEST(GarbageCollectorTest, OnlyTheReferencesToGoneOwnersGoWhenAnotherOwnerRemains) {
  FakeAccess access;
  access.existing = {{"uid-kept", "kept"}};
  GarbageCollector gc(access);
  gc.Observe(Object("kept"));
  auto second = Ref("kept");
  second.controller = false;
  gc.Observe(Object("a", {Ref("gone"), second}));
  Settle(gc);
  ASSERT_EQ(access.actions.size(), 1u);
  EXPECT_EQ(access.actions[0],
            "patch a {\"metadata\":{\"ownerReferences\":[{\"$patch\":\"delete\",\"uid\":"
            "\"uid-gone\"}],\"uid\":\"uid-a\"}}");
}

TEST(GarbageCollectorTest, ForegroundDeletionDeletesDependentsThenRemovesItsFinalizer) {
  FakeAccess access;
  access.existing = {{"uid-rs", "rs"}, {"uid-a", "a"}, {"uid-b", "b"}};
  GarbageCollector gc(access);
  gc.Observe(Object("a", {Ref("rs")}));
  gc.Observe(Object("b", {Ref("rs", false)}));
  gc.Observe(Object("rs"));
  Settle(gc);
  ASSERT_TRUE(access.actions.empty());

  gc.Observe(Object("rs", {}, {kForegroundFinalizer}, true));
  Settle(gc);
  // Both dependents go; the owner waits for the blocking one.
  EXPECT_EQ(access.actions,
            (std::vector<std::string>{"delete a Background", "delete b Background"}));
  access.actions.clear();
  gc.ObserveDeleted(Object("b"));
  Settle(gc);
  EXPECT_TRUE(access.actions.empty());
  gc.ObserveDeleted(Object("a"));
  Settle(gc);
  EXPECT_EQ(access.actions, std::vector<std::string>{"finalizers rs []"});
}

TEST(GarbageCollectorTest, OrphanDeletionReleasesDependentsThenRemovesItsFinalizer) {
  FakeAccess access;
  access.existing = {{"uid-rs", "rs"}, {"uid-a", "a"}};
  GarbageCollector gc(access);
  gc.Observe(Object("rs"));
  gc.Observe(Object("a", {Ref("rs")}));
  Settle(gc);
  gc.Observe(Object("rs", {}, {"example.com/keep", kOrphanFinalizer}, true));
  Settle(gc);
  EXPECT_EQ(access.actions,
            (std::vector<std::string>{
                "patch a {\"metadata\":{\"ownerReferences\":[{\"$patch\":\"delete\",\"uid\":"
                "\"uid-rs\"}],\"uid\":\"uid-a\"}}",
                "finalizers rs [example.com/keep,]"}));
}

TEST(GarbageCollectorTest, ObjectsWithoutOwnersAreLeftAlone) {
  FakeAccess access;
  GarbageCollector gc(access);
  gc.Observe(Object("a"));
  gc.Observe(Object("b", {}, {kForegroundFinalizer}, true));  // no dependents: finalizer goes
  Settle(gc);
  EXPECT_EQ(access.actions, std::vector<std::string>{"finalizers b []"});
}

}  // namespace
}  // namespace kpp::controllers
