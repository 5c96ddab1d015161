// RbacAuthorizer follows roles and bindings by watches (watch-list, then events), never by LIST:
// a fake loopback serves the watches and refuses lists.
#include "apiserver/authz/rbac_authorizer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

namespace kpp::apiserver::authz {
namespace {

class FakeStream : public http::BodyStream {
 public:
  std::optional<std::string> Next() override {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(100),
                      [this] { return cancelled_ || !lines_.empty(); });
    if (cancelled_) return std::nullopt;
    std::string out;
    while (!lines_.empty()) {
      out += lines_.front();
      lines_.pop_front();
    }
    return out;
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }
  void Push(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line) + "\n");
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> lines_;
  bool cancelled_ = false;
};

// The RBAC resources of a server that only answers watches.
class FakeRbacServer {
 public:
  http::Response Serve(const http::Request& request) {
    std::lock_guard lock(mutex_);
    const std::string plural = request.path.substr(request.path.rfind('/') + 1);
    if (request.method != "GET" || !request.QueryFlag("watch")) {
      ++other_requests_;
      return http::Response{404, {}, "{}"};
    }
    ++watches_;
    auto stream = std::make_shared<FakeStream>();
    if (request.QueryFlag("sendInitialEvents")) {
      for (const auto& [key, object] : objects_[plural]) {
        stream->Push(Event("ADDED", object));
      }
      stream->Push(Event(
          "BOOKMARK",
          boost::json::parse(fmt::format(R"({{"metadata":{{"resourceVersion":"{}","annotations":)"
                                         R"({{"k8s.io/initial-events-end":"true"}}}}}})",
                                         revision_))
              .as_object()));
    }
    streams_[plural].push_back(stream);
    return http::Response{200, {}, "", stream};
  }

  // Writes an object as another writer would: the watches see it.
  int64_t Put(const std::string& plural, boost::json::object object) {
    std::lock_guard lock(mutex_);
    auto& metadata = object["metadata"].as_object();
    metadata["resourceVersion"] = std::to_string(++revision_);
    const std::string key = fmt::format("{}/{}", metadata["namespace"].as_string().c_str(),
                                        metadata["name"].as_string().c_str());
    const bool existed = objects_[plural].contains(key);
    objects_[plural][key] = object;
    for (auto& stream : streams_[plural])
      stream->Push(Event(existed ? "MODIFIED" : "ADDED", object));
    return revision_;
  }
  void Delete(const std::string& plural, const std::string& key) {
    std::lock_guard lock(mutex_);
    auto object = objects_[plural].at(key);
    objects_[plural].erase(key);
    object["metadata"].as_object()["resourceVersion"] = std::to_string(++revision_);
    for (auto& stream : streams_[plural])
      stream->Push(Event("DELETED", object));
  }

  int other_requests() {
    std::lock_guard lock(mutex_);
    return other_requests_;
  }
  int watches() {
    std::lock_guard lock(mutex_);
    return watches_;
  }

 private:
  static std::string Event(std::string_view type, const boost::json::object& object) {
    boost::json::object event;
    event["type"] = type;
    event["object"] = object;
    return boost::json::serialize(event);
  }

  std::mutex mutex_;
  int64_t revision_ = 10;
  std::map<std::string, std::map<std::string, boost::json::object>> objects_;
  std::map<std::string, std::vector<std::shared_ptr<FakeStream>>> streams_;
  int other_requests_ = 0;
  int watches_ = 0;
};

boost::json::object Parse(std::string_view json) {
  return boost::json::parse(json).as_object();
}

Attributes AliceListsPods() {
  Attributes a;
  a.user.name = "alice";
  a.user.groups = {"system:authenticated"};
  a.verb = "list";
  a.resource_request = true;
  a.api_version = "v1";
  a.resource = "pods";
  a.namespace_ = "team";
  return a;
}

TEST(RbacWatchTest, FollowsWatchEventsWithoutListing) {
  FakeRbacServer server;
  server.Put("clusterroles", Parse(R"({"metadata":{"namespace":"","name":"pod-reader"},
      "rules":[{"verbs":["list"],"apiGroups":[""],"resources":["pods"]}]})"));
  RbacAuthorizer rbac([&server](const http::Request& r) { return server.Serve(r); });
  ASSERT_TRUE(rbac.Start(std::chrono::seconds(10)));
  EXPECT_EQ(server.watches(), 4);
  // A decision is made, and cached, before the binding exists.
  EXPECT_NE(rbac.Authorize(AliceListsPods()).decision, Decision::kAllow);
  EXPECT_NE(rbac.Authorize(AliceListsPods()).decision, Decision::kAllow);

  const int64_t written = server.Put("rolebindings", Parse(R"({"metadata":{"namespace":"team",
      "name":"alice-reads"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io",
      "kind":"ClusterRole","name":"pod-reader"},
      "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}]})"));
  rbac.AwaitWrite("rolebindings", written, std::chrono::seconds(10));
  EXPECT_EQ(rbac.Authorize(AliceListsPods()).decision, Decision::kAllow);

  server.Delete("rolebindings", "team/alice-reads");
  rbac.AwaitDelete("rolebindings", "team/alice-reads", std::chrono::seconds(10));
  EXPECT_NE(rbac.Authorize(AliceListsPods()).decision, Decision::kAllow);

  // Not a single LIST (or any request other than the four watches).
  EXPECT_EQ(server.other_requests(), 0);
  EXPECT_EQ(server.watches(), 4);
  rbac.Stop();
}

TEST(RbacWatchTest, AChangedRoleDropsCachedDecisions) {
  FakeRbacServer server;
  server.Put("roles", Parse(R"({"metadata":{"namespace":"team","name":"r"},"rules":[]})"));
  server.Put("rolebindings", Parse(R"({"metadata":{"namespace":"team","name":"b"},
      "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"},
      "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}]})"));
  RbacAuthorizer rbac([&server](const http::Request& r) { return server.Serve(r); });
  ASSERT_TRUE(rbac.Start(std::chrono::seconds(10)));
  EXPECT_NE(rbac.Authorize(AliceListsPods()).decision, Decision::kAllow);
  const int64_t written = server.Put("roles", Parse(R"({"metadata":{"namespace":"team",
      "name":"r"},"rules":[{"verbs":["*"],"apiGroups":[""],"resources":["pods"]}]})"));
  rbac.AwaitWrite("roles", written, std::chrono::seconds(10));
  EXPECT_EQ(rbac.Authorize(AliceListsPods()).decision, Decision::kAllow);
  EXPECT_EQ(server.other_requests(), 0);
}

}  // namespace
}  // namespace kpp::apiserver::authz
