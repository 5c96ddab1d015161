#include <gtest/gtest.h>

#include "apiserver/registry/resource_handler.h"
#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::apiserver {
namespace {

constexpr api::KindInfo kKinds[] = {
    {"", "v1", "Namespace", "namespaces", "namespace", "NamespaceList", false},
    {"", "v1", "ConfigMap", "configmaps", "configmap", "ConfigMapList", true},
    {"apps", "v1", "Deployment", "deployments", "deployment", "DeploymentList", true},
};

class ResourcePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-resource-path-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    auto store = storage::OpenSqliteStore({.dir = dir_});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(store).value();
    handler_ = std::make_unique<ResourceHandler>(*store_, RealClock(), kKinds);
  }
  void TearDown() override {
    handler_.reset();
    store_.reset();
    RemoveAll(dir_);
  }

  std::string Describe(std::string_view path) {
    auto parsed = handler_->Parse(path);
    if (!parsed) return "none";
    return std::string(parsed->kind->kind) + "|" + parsed->namespace_ + "|" + parsed->name + "|" +
           parsed->subresource;
  }

  std::string dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ResourceHandler> handler_;
};

TEST_F(ResourcePathTest, ParsesCollectionsObjectsAndSubresources) {
  EXPECT_EQ(Describe("/api/v1/namespaces"), "Namespace|||");
  EXPECT_EQ(Describe("/api/v1/namespaces/team"), "Namespace||team|");
  EXPECT_EQ(Describe("/api/v1/namespaces/team/status"), "Namespace||team|status");
  EXPECT_EQ(Describe("/api/v1/namespaces/team/configmaps"), "ConfigMap|team||");
  EXPECT_EQ(Describe("/api/v1/namespaces/team/configmaps/web"), "ConfigMap|team|web|");
  EXPECT_EQ(Describe("/api/v1/configmaps"), "ConfigMap|||");
  EXPECT_EQ(Describe("/apis/apps/v1/namespaces/a/deployments/d/scale"), "Deployment|a|d|scale");
  EXPECT_EQ(Describe("/apis/apps/v1/deployments"), "Deployment|||");
}

TEST_F(ResourcePathTest, RejectsWhatIsNotAResource) {
  EXPECT_EQ(Describe("/api/v1"), "none");
  EXPECT_EQ(Describe("/apis/apps/v1"), "none");
  EXPECT_EQ(Describe("/api/v1/pods"), "none");
  EXPECT_EQ(Describe("/api/v1/configmaps/web"), "none");  // namespaced kinds need a namespace
  EXPECT_EQ(Describe("/apis/apps/v2/deployments"), "none");
  EXPECT_EQ(Describe("/api/v1/namespaces/a/configmaps/b/c/d"), "none");
  EXPECT_EQ(Describe("/version"), "none");
}

TEST(StorageKeyTest, GroupResourceNamespaceName) {
  EXPECT_EQ(StorageKey(kKinds[1], "team", "web"), "/registry/core/configmaps/team/web");
  EXPECT_EQ(StorageKey(kKinds[0], "", "team"), "/registry/core/namespaces/team");
  EXPECT_EQ(StorageKey(kKinds[2], "a", ""), "/registry/apps/deployments/a/");
}

}  // namespace
}  // namespace kpp::apiserver
