#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <sstream>
#include <thread>

#include "apiserver/audit/auditor.h"
#include "apiserver/audit/policy.h"
#include "base/files.h"

namespace kpp::apiserver::audit {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

Policy MustParse(const std::string& text) {
  auto policy = ParsePolicy(text);
  EXPECT_TRUE(policy.ok()) << policy.error().message();
  return policy.ok() ? *policy : Policy{};
}

const std::string kPolicyHeader = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";

ops::RequestInfo Info(std::string_view method, std::string_view path) {
  return ops::ParseRequestInfo(method, path, {});
}

UserInfo User(std::string name, std::vector<std::string> groups = {}) {
  return UserInfo{std::move(name), std::move(groups), "", {}};
}

TEST(AuditPolicyTest, FirstMatchingRuleDecides) {
  const Policy policy = MustParse(kPolicyHeader + R"(omitStages: [RequestReceived]
rules:
- level: None
  users: ["system:kube-proxy"]
- level: None
  nonResourceURLs: ["/healthz*", "/version"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["pods/log", "configmaps"]
- level: Request
  userGroups: [developers]
  verbs: [create, update]
  namespaces: [dev]
- level: Metadata
  resources:
  - group: apps
    resources: ["deployments/*"]
    resourceNames: [web]
  omitStages: [ResponseStarted]
  omitManagedFields: true
- level: Metadata
  nonResourceURLs: ["*"]
)");
  const UserInfo alice = User("alice", {"developers"});
  EXPECT_EQ(Evaluate(policy, User("system:kube-proxy"), Info("GET", "/api/v1/pods")).level,
            Level::kNone);
  EXPECT_EQ(Evaluate(policy, alice, Info("GET", "/healthz/etcd")).level, Level::kNone);
  EXPECT_EQ(Evaluate(policy, alice, Info("GET", "/version")).level, Level::kNone);
  EXPECT_EQ(Evaluate(policy, alice, Info("GET", "/openapi/v2")).level, Level::kMetadata);
  EXPECT_EQ(Evaluate(policy, alice, Info("GET", "/api/v1/namespaces/a/pods/p/log")).level,
            Level::kRequestResponse);
  // "pods/log" is not "pods".
  EXPECT_EQ(Evaluate(policy, alice, Info("GET", "/api/v1/namespaces/a/pods/p")).level,
            Level::kNone);
  EXPECT_EQ(Evaluate(policy, alice, Info("POST", "/api/v1/namespaces/dev/services")).level,
            Level::kRequest);
  EXPECT_EQ(Evaluate(policy, alice, Info("POST", "/api/v1/namespaces/prod/services")).level,
            Level::kNone);
  EXPECT_EQ(Evaluate(policy, User("bob"), Info("POST", "/api/v1/namespaces/dev/services")).level,
            Level::kNone);
  EXPECT_EQ(Evaluate(policy, alice, Info("DELETE", "/api/v1/namespaces/dev/services/s")).level,
            Level::kNone);

  const Decision scale =
      Evaluate(policy, alice, Info("PUT", "/apis/apps/v1/namespaces/a/deployments/web/scale"));
  EXPECT_EQ(scale.level, Level::kMetadata);
  EXPECT_TRUE(scale.Omits(Stage::kRequestReceived)) << "the policy's omitStages";
  EXPECT_TRUE(scale.Omits(Stage::kResponseStarted)) << "the rule's omitStages";
  EXPECT_FALSE(scale.Omits(Stage::kResponseComplete));
  EXPECT_TRUE(scale.omit_managed_fields);
  EXPECT_EQ(Evaluate(policy, alice, Info("PUT", "/apis/apps/v1/namespaces/a/deployments/api/scale"))
                .level,
            Level::kNone)
      << "resourceNames";
  EXPECT_EQ(
      Evaluate(policy, alice, Info("GET", "/apis/apps/v1/namespaces/a/deployments/web")).level,
      Level::kNone)
      << "deployments/* names subresources only";
}

TEST(AuditPolicyTest, ClusterScopedAndWildcards) {
  const Policy policy = MustParse(kPolicyHeader + R"(rules:
- level: Request
  namespaces: [""]
- level: Metadata
  resources: [{group: "", resources: ["*/status"]}]
- level: RequestResponse
  resources: [{group: "batch"}]
)");
  EXPECT_EQ(Evaluate(policy, User("u"), Info("GET", "/api/v1/nodes/n1")).level, Level::kRequest);
  EXPECT_EQ(Evaluate(policy, User("u"), Info("PUT", "/api/v1/namespaces/a/pods/p/status")).level,
            Level::kMetadata);
  EXPECT_EQ(Evaluate(policy, User("u"), Info("GET", "/apis/batch/v1/namespaces/a/jobs")).level,
            Level::kRequestResponse);
  EXPECT_EQ(Evaluate(policy, User("u"), Info("GET", "/api/v1/namespaces/a/pods")).level,
            Level::kNone);
}

TEST(AuditPolicyTest, ValidationMessages) {
  auto bad_level = ParsePolicy(kPolicyHeader + "rules:\n- level: Everything\n");
  ASSERT_FALSE(bad_level.ok());
  EXPECT_EQ(bad_level.error().message(),
            "rules[0].level: Unsupported value: \"Everything\": supported values: \"None\", "
            "\"Metadata\", \"Request\", \"RequestResponse\"");
  auto missing = ParsePolicy(kPolicyHeader + "rules:\n- users: [a]\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "rules[0].level: Required value");
  auto stage = ParsePolicy(kPolicyHeader + "omitStages: [Whenever]\n");
  ASSERT_FALSE(stage.ok());
  EXPECT_THAT(stage.error().message(), HasSubstr("omitStages[0]: Unsupported value: \"Whenever\""));
  auto both = ParsePolicy(kPolicyHeader +
                          "rules:\n- level: None\n  nonResourceURLs: [/x]\n  resources: [{}]\n");
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(both.error().message(),
              HasSubstr("rules cannot apply to both regular resources and non-resource URLs"));
  auto kind = ParsePolicy("apiVersion: v1\nkind: ConfigMap\n");
  ASSERT_FALSE(kind.ok());
  EXPECT_THAT(kind.error().message(), HasSubstr("must be an audit.k8s.io/v1 Policy"));
}

class AuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-audit-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
  }
  void TearDown() override { RemoveAll(dir_); }

  void Start(const std::string& rules) {
    LogWriterOptions options;
    options.path = dir_ + "/audit.log";
    auto writer = LogWriter::Open(options);
    ASSERT_TRUE(writer.ok()) << writer.error().message();
    auditor_ =
        std::make_unique<Auditor>(MustParse(kPolicyHeader + rules), std::move(writer).value());
  }

  // Serves `request` as the API server does: the user is known once authenticated.
  http::Response Serve(http::Request request, http::Response answer,
                       std::optional<UserInfo> user = User("alice", {"system:authenticated"})) {
    request.remote_address = "10.1.2.3:50000";
    request.headers.push_back({"User-Agent", "kubectl/v1.33.0"});
    if (request.target.empty()) request.target = request.path;
    return auditor_->Handle(request, [&](const http::Request&) {
      if (user) SetRequestUser(*user);
      AddRequestAnnotation("authorization.k8s.io/decision", "allow");
      return answer;
    });
  }

  std::vector<json::object> Events() {
    auditor_->Flush();
    std::vector<json::object> events;
    std::istringstream lines(*ReadFile(dir_ + "/audit.log"));
    for (std::string line; std::getline(lines, line);) {
      events.push_back(json::parse(line).as_object());
    }
    return events;
  }

  std::string dir_;
  std::unique_ptr<Auditor> auditor_;
};

http::Response Json(int status, std::string body) {
  return http::Response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

TEST_F(AuditorTest, RequestResponseEventsWithUpstreamFields) {
  Start("rules:\n- level: RequestResponse\n  omitManagedFields: true\n");
  http::Request create = http::Request::LocalJson(
      "POST", "/api/v1/namespaces/default/configmaps",
      R"({"kind":"ConfigMap","metadata":{"name":"c","managedFields":[{}]},"data":{"a":"b"}})");
  const auto response = Serve(create, Json(201, R"({"kind":"ConfigMap","metadata":{"name":"c"}})"));
  const std::string* audit_id = nullptr;
  for (const auto& header : response.headers) {
    if (header.name == "Audit-Id") audit_id = &header.value;
  }
  ASSERT_NE(audit_id, nullptr);
  EXPECT_EQ(audit_id->size(), 36u);

  const auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  const json::object& received = events[0];
  EXPECT_EQ(received.at("kind"), "Event");
  EXPECT_EQ(received.at("apiVersion"), "audit.k8s.io/v1");
  EXPECT_EQ(received.at("stage"), "RequestReceived");
  EXPECT_EQ(received.at("level"), "RequestResponse");
  EXPECT_EQ(received.at("auditID").as_string(), *audit_id);
  EXPECT_FALSE(received.contains("responseStatus"));
  const json::object& complete = events[1];
  EXPECT_EQ(complete.at("stage"), "ResponseComplete");
  EXPECT_EQ(complete.at("auditID").as_string(), *audit_id);
  EXPECT_EQ(complete.at("verb"), "create");
  EXPECT_EQ(complete.at("requestURI"), "/api/v1/namespaces/default/configmaps");
  EXPECT_EQ(complete.at("user").at("username"), "alice");
  EXPECT_EQ(complete.at("user").at("groups").at(0), "system:authenticated");
  EXPECT_EQ(complete.at("sourceIPs"), json::parse(R"(["10.1.2.3"])"));
  EXPECT_EQ(complete.at("userAgent"), "kubectl/v1.33.0");
  // As upstream: the name comes from the created object once the handler has read it.
  EXPECT_EQ(received.at("objectRef"),
            json::parse(R"({"resource":"configmaps","namespace":"default","apiVersion":"v1"})"));
  EXPECT_EQ(complete.at("objectRef"),
            json::parse(R"({"resource":"configmaps","namespace":"default","name":"c",)"
                        R"("apiVersion":"v1"})"));
  EXPECT_EQ(complete.at("responseStatus"), json::parse(R"({"metadata":{},"code":201})"));
  EXPECT_EQ(complete.at("requestObject").at("data").at("a"), "b");
  EXPECT_FALSE(complete.at("requestObject").at("metadata").as_object().contains("managedFields"));
  EXPECT_EQ(complete.at("responseObject").at("metadata").at("name"), "c");
  EXPECT_EQ(complete.at("annotations").at("authorization.k8s.io/decision"), "allow");
  const std::string received_at(complete.at("requestReceivedTimestamp").as_string());
  EXPECT_EQ(received_at.size(), std::string("2026-11-24T06:18:40.123456Z").size()) << received_at;
  EXPECT_LE(received_at, std::string(complete.at("stageTimestamp").as_string()));
}

TEST_F(AuditorTest, MetadataLevelCompletesObjectRefFromTheObjectWithoutLoggingIt) {
  Start("rules:\n- level: Metadata\n");
  Serve(http::Request::LocalJson(
            "POST", "/api/v1/namespaces/default/secrets",
            R"({"kind":"Secret","metadata":{"name":"s","uid":"u-1"},"data":{"k":"c2VjcmV0"}})"),
        Json(201, "{}"));
  Serve(http::Request::LocalJson(
            "PUT", "/api/v1/namespaces/default/configmaps/c",
            R"({"kind":"ConfigMap","metadata":{"name":"c","namespace":"default",)"
            R"("resourceVersion":"42"}})"),
        Json(200, "{}"));
  // A delete's DeleteOptions has no object metadata: objectRef stays the path's.
  Serve(http::Request::LocalJson("DELETE", "/api/v1/namespaces/default/configmaps/c",
                                 R"({"kind":"DeleteOptions","metadata":{"name":"x"}})"),
        Json(200, "{}"));
  const auto events = Events();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[1].at("objectRef"),
            json::parse(R"({"resource":"secrets","namespace":"default","name":"s","uid":"u-1",)"
                        R"("apiVersion":"v1"})"));
  EXPECT_FALSE(events[1].contains("requestObject"));
  EXPECT_EQ(events[3].at("objectRef"),
            json::parse(R"({"resource":"configmaps","namespace":"default","name":"c",)"
                        R"("apiVersion":"v1","resourceVersion":"42"})"));
  EXPECT_EQ(events[5].at("objectRef"),
            json::parse(R"({"resource":"configmaps","namespace":"default","name":"c",)"
                        R"("apiVersion":"v1"})"));
  for (const auto& event : events)
    EXPECT_EQ(json::serialize(event).find("c2VjcmV0"), std::string::npos);
}

TEST_F(AuditorTest, TextIsEscapedAsJson) {
  Start("rules:\n- level: Metadata\n");
  http::Request request = http::Request::LocalJson("GET", "/api/v1/pods");
  request.target = "/api/v1/pods?labelSelector=a%3D%22b%22";
  request.headers.push_back({"X-Forwarded-For", "192.0.2.1, 198.51.100.2"});
  UserInfo user{"we\"ird\\user\x01\n", {"g\tx"}, "uid-1", {{"scopes", {"a", "b"}}}};
  Serve(request, Json(200, "{}"), user);
  const auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at("user").at("username").as_string(), user.name);
  EXPECT_EQ(events[1].at("user").at("groups").at(0).as_string(), "g\tx");
  EXPECT_EQ(events[1].at("user").at("uid"), "uid-1");
  EXPECT_EQ(events[1].at("user").at("extra"), json::parse(R"({"scopes":["a","b"]})"));
  EXPECT_EQ(events[1].at("requestURI"), "/api/v1/pods?labelSelector=a%3D%22b%22");
  EXPECT_EQ(events[1].at("sourceIPs"), json::parse(R"(["192.0.2.1","198.51.100.2","10.1.2.3"])"));
}

TEST_F(AuditorTest, LevelsDecideWhatIsRecorded) {
  Start(R"(rules:
- level: None
  resources: [{group: "", resources: [events]}]
- level: Metadata
  resources: [{group: "", resources: [pods]}]
- level: Request
  resources: [{group: "", resources: [services]}]
)");
  Serve(http::Request::LocalJson("POST", "/api/v1/namespaces/a/events", "{}"), Json(201, "{}"));
  Serve(http::Request::LocalJson("POST", "/api/v1/namespaces/a/pods", R"({"kind":"Pod"})"),
        Json(201, R"({"kind":"Pod"})"));
  Serve(http::Request::LocalJson("POST", "/api/v1/namespaces/a/services", R"({"kind":"Service"})"),
        Json(201, R"({"kind":"Service"})"));
  const auto events = Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].at("level"), "Metadata");
  EXPECT_FALSE(events[1].contains("requestObject"));
  EXPECT_FALSE(events[1].contains("responseObject"));
  EXPECT_EQ(events[3].at("level"), "Request");
  EXPECT_EQ(events[3].at("requestObject").at("kind"), "Service");
  EXPECT_FALSE(events[3].contains("responseObject"));
}

TEST_F(AuditorTest, SecretsNeverBeyondMetadata) {
  Start("rules:\n- level: RequestResponse\n");
  Serve(http::Request::LocalJson("POST", "/api/v1/namespaces/a/secrets",
                                 R"({"kind":"Secret","data":{"password":"c2VjcmV0"}})"),
        Json(201, R"({"kind":"Secret","data":{"password":"c2VjcmV0"}})"));
  Serve(http::Request::LocalJson("GET", "/api/v1/secrets"),
        Json(200, R"({"kind":"SecretList","items":[{"data":{"password":"c2VjcmV0"}}]})"));
  Serve(http::Request::LocalJson("POST", "/api/v1/namespaces/a/serviceaccounts/default/token",
                                 R"({"kind":"TokenRequest"})"),
        Json(201, R"({"status":{"token":"eyJhbGciOi"}})"));
  const auto events = Events();
  ASSERT_EQ(events.size(), 6u);
  for (const auto& event : events) {
    EXPECT_EQ(event.at("level"), "Metadata");
    const std::string text = json::serialize(event);
    EXPECT_EQ(text.find("c2VjcmV0"), std::string::npos) << text;
    EXPECT_EQ(text.find("eyJhbGciOi"), std::string::npos) << text;
  }
}

TEST_F(AuditorTest, FailuresAndUnauthenticatedRequests) {
  Start("rules:\n- level: Metadata\n");
  Serve(http::Request::LocalJson("GET", "/api/v1/namespaces/a/pods/missing"),
        Json(404, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                  R"("message":"pods \"missing\" not found","reason":"NotFound",)"
                  R"("details":{"name":"missing","kind":"pods"},"code":404})"));
  Serve(http::Request::LocalJson("GET", "/api/v1/pods"), Json(401, R"({"status":"Failure"})"),
        std::nullopt);
  const auto events = Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(
      events[1].at("responseStatus"),
      json::parse(R"({"metadata":{},"status":"Failure","message":"pods \"missing\" not found",)"
                  R"("reason":"NotFound","details":{"name":"missing","kind":"pods"},"code":404})"));
  EXPECT_EQ(events[3].at("user"), json::object());
  EXPECT_EQ(events[3].at("responseStatus").at("code"), 401);
}

class FakeWatchStream final : public http::BodyStream {
 public:
  std::optional<std::string> Next() override {
    if (sent_) return std::nullopt;
    sent_ = true;
    return std::string(R"({"type":"ADDED"})");
  }
  void Cancel() override {}

 private:
  bool sent_ = false;
};

TEST_F(AuditorTest, WatchesRecordResponseStartedThenCompleteWhenTheStreamEnds) {
  Start("rules:\n- level: RequestResponse\n");
  http::Request watch =
      http::Request::LocalJson("GET", "/api/v1/namespaces/a/pods", "", {{"watch", "true"}});
  watch.target = "/api/v1/namespaces/a/pods?watch=true";
  http::Response answer{200, {{"Content-Type", "application/json"}}, {}};
  answer.stream = std::make_shared<FakeWatchStream>();
  http::Response response = Serve(watch, answer);
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("stage"), "RequestReceived");
  EXPECT_EQ(events[1].at("stage"), "ResponseStarted");
  EXPECT_EQ(events[1].at("verb"), "watch");
  EXPECT_EQ(events[1].at("requestURI"), "/api/v1/namespaces/a/pods?watch=true");
  while (response.stream->Next()) {
  }
  response.stream.reset();
  answer.stream.reset();
  events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].at("stage"), "ResponseComplete");
  EXPECT_EQ(events[2].at("auditID"), events[0].at("auditID"));
  EXPECT_FALSE(events[2].contains("responseObject"));
}

TEST_F(AuditorTest, PanicStage) {
  Start("rules:\n- level: Metadata\n");
  http::Request request = http::Request::LocalJson("GET", "/api/v1/pods");
  EXPECT_THROW(auditor_->Handle(request,
                                [](const http::Request&) -> http::Response {
                                  SetRequestUser(User("alice"));
                                  throw std::runtime_error("boom");
                                }),
               std::runtime_error);
  const auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at("stage"), "Panic");
  EXPECT_EQ(events[1].at("responseStatus").at("code"), 500);
}

TEST_F(AuditorTest, ClientAuditIdIsKeptAndSetWithoutALog) {
  Auditor disabled(std::nullopt, nullptr);
  http::Request request = http::Request::LocalJson("GET", "/api/v1/pods");
  request.headers.push_back({"Audit-Id", "client-chosen"});
  const auto response =
      disabled.Handle(request, [](const http::Request&) { return Json(200, "{}"); });
  ASSERT_EQ(response.headers.back().name, "Audit-Id");
  EXPECT_EQ(response.headers.back().value, "client-chosen");
}

TEST_F(AuditorTest, LogFileIsPrivateAndRotates) {
  LogWriterOptions options;
  options.path = dir_ + "/rotating.log";
  options.max_size_mb = 1;
  options.max_backups = 2;
  auto writer = LogWriter::Open(options);
  ASSERT_TRUE(writer.ok());
  const std::string line(100 * 1024, 'x');
  for (int i = 0; i < 50; ++i) {
    (*writer)->Write(line);
    if (i % 11 == 10) {
      (*writer)->Flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // distinct backup names
    }
  }
  (*writer)->Flush();
  struct stat info {};
  ASSERT_EQ(stat(options.path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_LE(static_cast<size_t>(info.st_size), 1024u * 1024u);
  int backups = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().filename().string().starts_with("rotating-")) ++backups;
  }
  EXPECT_EQ(backups, 2);
}

}  // namespace
}  // namespace kpp::apiserver::audit
