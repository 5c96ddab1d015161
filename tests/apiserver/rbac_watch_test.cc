// RBAC follows the watch cache: a binding written straight into the store (not through this
// server's API, as another server on the same etcd or a tool would) takes effect at once.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "apiserver/apiserver.h"
#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/test_pki.h"

namespace kpp::apiserver {
namespace {

class RbacWatchIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok());
    auto store = storage::OpenSqliteStore({.dir = pki_.dir() + "/db", .compaction_interval = {}});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(store).value();
    const std::string tokens = pki_.dir() + "/tokens.csv";
    ASSERT_TRUE(WriteFileAtomic(tokens, "alice-token,alice,uid-1\n", 0600).ok());
    ApiServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.tls = {pki_.serving().certificate_pem, pki_.serving().private_key_pem,
                   pki_.ca().certificate_pem};
    options.token_auth_file = tokens;
    options.store = store_.get();
    auto server = ApiServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(server).value();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  int AliceStatus(const std::string& path) {
    auto result = pki_.Curl(server_->port(), path, "", {"-H", "Authorization: Bearer alice-token"});
    const auto newline = result.out.rfind('\n');
    if (newline == std::string::npos) return 0;
    return std::stoi(result.out.substr(newline + 1));
  }

  // Writes a ClusterRoleBinding of `role` to alice into the store itself, shaped as the stored
  // bootstrap binding `model`.
  void PutBindingInStore(const std::string& name, const std::string& role) {
    const std::string prefix = "/registry/rbac.authorization.k8s.io/clusterrolebindings/";
    auto model = store_->Range({.key = prefix + "system:basic-user"});
    ASSERT_TRUE(model.ok() && model->kvs.size() == 1);
    auto object = boost::json::parse(model->kvs[0].value).as_object();
    auto& metadata = object["metadata"].as_object();
    metadata["name"] = name;
    metadata["uid"] = "0b6c5b6e-1111-4222-8333-944445555666";
    metadata.erase("annotations");
    metadata.erase("labels");
    metadata.erase("managedFields");
    object["roleRef"] = boost::json::object{
        {"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}};
    object["subjects"] = boost::json::array{boost::json::object{
        {"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", "alice"}}};
    storage::TxnRequest put;
    put.success.push_back(storage::TxnOp::Put(prefix + name, boost::json::serialize(object)));
    ASSERT_TRUE(store_->Txn(put).ok());
  }

  testing::TestPki pki_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(RbacWatchIntegrationTest, BindingWrittenIntoTheStoreTakesEffectWithoutPolling) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  ASSERT_EQ(AliceStatus(pods), 403);
  PutBindingInStore("alice-views", "view");
  // The old authorizer re-listed every second; the watch brings the binding within
  // milliseconds. Half a second, well under that period, allows for a loaded machine.
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  while ((status = AliceStatus(pods)) != 200 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));

  // A delete by another writer takes effect the same way; the cached "allow" is dropped.
  storage::TxnRequest remove;
  remove.success.push_back(storage::TxnOp::Delete(
      "/registry/rbac.authorization.k8s.io/clusterrolebindings/alice-views"));
  ASSERT_TRUE(store_->Txn(remove).ok());
  const auto removed = std::chrono::steady_clock::now();
  while ((status = AliceStatus(pods)) != 403 &&
         std::chrono::steady_clock::now() - removed < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 403);
}

// HandleAs (the scheduler inside `kpp server`): a request in process is authorized as the user its
// identity names, as the same request over HTTPS with that client certificate would be.
TEST_F(RbacWatchIntegrationTest, InProcessRequestsAreAuthorizedAsTheirIdentity) {
  const http::ClientCertificate scheduler{"system:kube-scheduler", {}};
  auto nodes = server_->HandleAs(scheduler, http::Request::LocalJson("GET", "/api/v1/nodes", ""));
  EXPECT_EQ(nodes.status, 200) << nodes.body;

  const http::ClientCertificate alice{"alice", {}};
  auto refused = server_->HandleAs(
      alice, http::Request::LocalJson("GET", "/api/v1/namespaces/default/pods", ""));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find(R"(User \"alice\" cannot list resource \"pods\")"), std::string::npos)
      << refused.body;

  // Without an identity the request is anonymous (system:anonymous may not list nodes).
  auto anonymous = server_->HandleAs({}, http::Request::LocalJson("GET", "/api/v1/nodes", ""));
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
}

}  // namespace
}  // namespace kpp::apiserver
