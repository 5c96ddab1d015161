// Admission webhooks against a fake caller: rule and selector matching (tables), the review
// sent, JSONPatch answers applied, reinvocation, denials, failure policies and dry runs.
#include "apiserver/admission/webhook.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/admission/fake_reader.h"
#include "base/encoding.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::object;

object Parse(std::string_view json) {
  return boost::json::parse(json).as_object();
}

Attributes PodAttributes(object* pod, Operation operation = Operation::kCreate) {
  Attributes attributes;
  attributes.version = "v1";
  attributes.kind = "Pod";
  attributes.resource = "pods";
  attributes.namespace_ = "ns";
  attributes.name = "p";
  attributes.operation = operation;
  attributes.object = pod;
  attributes.user = UserInfo{"alice", {"dev"}, "", {}};
  return attributes;
}

TEST(WebhookRulesTest, RuleMatching) {
  struct Case {
    std::string_view name, rule, subresource;
    bool matches;
  };
  const Case cases[] = {
      {"exact", R"({"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],
          "resources":["pods"]})",
       "", true},
      {"other operation", R"({"operations":["UPDATE"],"apiGroups":[""],"apiVersions":["v1"],
          "resources":["pods"]})",
       "", false},
      {"wildcards", R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],
          "resources":["*"]})",
       "", true},
      {"* leaves out subresources", R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],
          "resources":["*"]})",
       "status", false},
      {"*/* takes them", R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],
          "resources":["*/*"]})",
       "status", true},
      {"pods/status", R"({"operations":["*"],"apiGroups":[""],"apiVersions":["v1"],
          "resources":["pods/status"]})",
       "status", true},
      {"pods/* ", R"({"operations":["*"],"apiGroups":[""],"apiVersions":["v1"],
          "resources":["pods/*"]})",
       "", false},
      {"other group", R"({"operations":["*"],"apiGroups":["apps"],"apiVersions":["*"],
          "resources":["*"]})",
       "", false},
      {"cluster scope", R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],
          "resources":["*"],"scope":"Cluster"})",
       "", false},
      {"namespaced scope", R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],
          "resources":["*"],"scope":"Namespaced"})",
       "", true},
  };
  object pod;
  for (const auto& c : cases) {
    auto attributes = PodAttributes(&pod);
    attributes.subresource = std::string(c.subresource);
    EXPECT_EQ(webhook::RuleMatches(Parse(c.rule), attributes), c.matches) << c.name;
  }
}

TEST(WebhookRulesTest, SelectorMatching) {
  struct Case {
    std::string_view selector, labels;
    bool matches;
  };
  const Case cases[] = {
      {R"({})", R"({})", true},
      {R"({"matchLabels":{"a":"1"}})", R"({"a":"1","b":"2"})", true},
      {R"({"matchLabels":{"a":"1"}})", R"({"a":"2"})", false},
      {R"({"matchExpressions":[{"key":"a","operator":"In","values":["1","2"]}]})", R"({"a":"2"})",
       true},
      {R"({"matchExpressions":[{"key":"a","operator":"NotIn","values":["1"]}]})", R"({})", true},
      {R"({"matchExpressions":[{"key":"a","operator":"Exists"}]})", R"({})", false},
      {R"({"matchExpressions":[{"key":"a","operator":"DoesNotExist"}]})", R"({"b":"1"})", true},
  };
  for (const auto& c : cases) {
    const object selector = Parse(c.selector), labels = Parse(c.labels);
    EXPECT_EQ(webhook::SelectorMatches(&selector, &labels), c.matches)
        << c.selector << " " << c.labels;
  }
}

// Answers every review with `respond(request)`; records the reviews.
struct FakeWebhooks {
  std::vector<object> reviews;
  std::vector<std::string> urls;
  std::function<object(const object& request, const std::string& url)> respond;
  std::optional<std::string> failure;

  webhook::Caller Caller() {
    return [this](const webhook::Call& call,
                  const std::string& body) -> std::variant<webhook::Answer, std::string> {
      urls.push_back(call.url);
      if (failure) return *failure;
      auto review = Parse(body);
      reviews.push_back(review);
      object response = respond(review.at("request").as_object(), call.url);
      response["uid"] = review.at("request").at("uid");
      object answer{{"apiVersion", "admission.k8s.io/v1"},
                    {"kind", "AdmissionReview"},
                    {"response", response}};
      return webhook::Answer{200, boost::json::serialize(answer)};
    };
  }
};

std::string Hook(std::string_view name, std::string_view url, std::string_view extra = "") {
  return fmt::format(
      R"({{"name":"{}","clientConfig":{{"url":"{}"}},"sideEffects":"None",
          "rules":[{{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],
                    "resources":["pods"]}}]{}}})",
      name, url, extra);
}

class WebhookPluginTest : public ::testing::Test {
 protected:
  void AddConfiguration(std::string_view resource, std::string_view name,
                        const std::vector<std::string>& hooks) {
    std::string list;
    for (const auto& hook : hooks)
      list += (list.empty() ? "" : ",") + hook;
    reader_.Add("admissionregistration.k8s.io", std::string(resource),
                fmt::format(R"({{"metadata":{{"name":"{}"}},"webhooks":[{}]}})", name, list));
  }
  std::optional<Rejection> Mutate(Attributes& attributes) {
    Context context{reader_, RealClock(), warnings_};
    context.audit_annotations = &audit_annotations_;
    auto rejection = MutatingWebhook(fake_.Caller()).Admit(attributes, context);
    mutated_ = context.mutated;
    return rejection;
  }
  std::optional<Rejection> Validate(Attributes& attributes) {
    Context context{reader_, RealClock(), warnings_};
    context.audit_annotations = &audit_annotations_;
    return ValidatingWebhook(fake_.Caller()).Validate(attributes, context);
  }

  FakeReader reader_;
  FakeWebhooks fake_;
  std::vector<std::string> warnings_;
  std::vector<std::pair<std::string, std::string>> audit_annotations_;
  bool mutated_ = false;
};

std::string PatchBase64(std::string_view patch) {
  return Base64Encode(patch);
}

TEST_F(WebhookPluginTest, MutatingWebhookPatchesTheObjectAndSendsTheReview) {
  AddConfiguration("mutatingwebhookconfigurations", "labeler",
                   {Hook("label.example.com", "https://hook.example/mutate")});
  fake_.respond = [](const object&, const std::string&) {
    return object{{"allowed", true},
                  {"patchType", "JSONPatch"},
                  {"patch", PatchBase64(R"([{"op":"add","path":"/metadata/labels",
                                             "value":{"mutated":"yes"}}])")},
                  {"warnings", boost::json::array{"be careful"}},
                  {"auditAnnotations", object{{"reason", "labelled"}}}};
  };
  object pod = Parse(R"({"metadata":{"name":"p"},"spec":{"containers":[]}})");
  auto attributes = PodAttributes(&pod);
  EXPECT_FALSE(Mutate(attributes));
  EXPECT_TRUE(mutated_);
  EXPECT_EQ(
      pod,
      Parse(R"({"metadata":{"name":"p","labels":{"mutated":"yes"}},"spec":{"containers":[]}})"));
  EXPECT_EQ(warnings_, std::vector<std::string>{"be careful"});
  // As upstream: the audit event gets the webhook's annotations under its name.
  using Annotation = std::pair<std::string, std::string>;
  const std::vector<Annotation> expected = {{"label.example.com/reason", "labelled"}};
  EXPECT_EQ(audit_annotations_, expected);
  ASSERT_EQ(fake_.reviews.size(), 1u);
  EXPECT_EQ(fake_.urls[0], "https://hook.example/mutate?timeout=10s");
  const auto& request = fake_.reviews[0].at("request").as_object();
  EXPECT_EQ(fake_.reviews[0].at("apiVersion"), "admission.k8s.io/v1");
  EXPECT_EQ(request.at("operation"), "CREATE");
  EXPECT_EQ(request.at("kind"), Parse(R"({"group":"","version":"v1","kind":"Pod"})"));
  EXPECT_EQ(request.at("resource"), Parse(R"({"group":"","version":"v1","resource":"pods"})"));
  EXPECT_EQ(request.at("namespace"), "ns");
  EXPECT_EQ(request.at("userInfo"), Parse(R"({"username":"alice","groups":["dev"]})"));
  EXPECT_EQ(request.at("object").at("apiVersion"), "v1");
  EXPECT_EQ(request.at("object").at("kind"), "Pod");
  EXPECT_TRUE(request.at("oldObject").is_null());
  EXPECT_EQ(request.at("options").at("kind"), "CreateOptions");
}

// A write whose objects were not built (no webhook was configured when the registry asked)
// is left alone by a configuration that appeared since, as if made before it.
TEST_F(WebhookPluginTest, WritesCheckedBeforeAConfigurationAppearedAreLeftAlone) {
  AddConfiguration("mutatingwebhookconfigurations", "m", {Hook("m.example.com", "https://m")});
  AddConfiguration("validatingwebhookconfigurations", "v", {Hook("v.example.com", "https://v")});
  fake_.respond = [](const object&, const std::string&) { return object{{"allowed", false}}; };
  auto attributes = PodAttributes(nullptr);
  attributes.objects_omitted = true;
  EXPECT_FALSE(Mutate(attributes));
  EXPECT_FALSE(Validate(attributes));
  EXPECT_TRUE(fake_.reviews.empty());
  EXPECT_TRUE(MutatingWebhook().NeedsObjectGiven(attributes, reader_));
  EXPECT_TRUE(ValidatingWebhook().NeedsObjectGiven(attributes, reader_));
  EXPECT_FALSE(MutatingWebhook().NeedsObjectGiven(attributes, FakeReader()));
}

TEST_F(WebhookPluginTest, MutatingWebhooksMayRefuseDeletes) {
  AddConfiguration("mutatingwebhookconfigurations", "guard",
                   {R"({"name":"guard.example.com","clientConfig":{"url":"https://guard"},
                       "sideEffects":"None","rules":[{"operations":["DELETE"],"apiGroups":[""],
                       "apiVersions":["v1"],"resources":["pods"]}]})"});
  fake_.respond = [](const object& request, const std::string&) {
    EXPECT_TRUE(request.at("object").is_null());
    EXPECT_EQ(request.at("oldObject").at("metadata").at("name"), "p");
    EXPECT_EQ(request.at("options").at("kind"), "DeleteOptions");
    return object{{"allowed", false}, {"status", object{{"message", "keep it"}}}};
  };
  const object old = Parse(R"({"metadata":{"name":"p"}})");
  auto attributes = PodAttributes(nullptr, Operation::kDelete);
  attributes.old_object = &old;
  auto refused = Mutate(attributes);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "admission webhook \"guard.example.com\" denied the request: keep it");
}

TEST_F(WebhookPluginTest, IfNeededWebhooksRunAgainAfterALaterChange) {
  AddConfiguration(
      "mutatingwebhookconfigurations", "a",
      {Hook("first.example.com", "https://first", R"(,"reinvocationPolicy":"IfNeeded")"),
       Hook("second.example.com", "https://second")});
  fake_.respond = [](const object&, const std::string& url) {
    if (url.starts_with("https://second")) {
      return object{{"allowed", true},
                    {"patchType", "JSONPatch"},
                    {"patch", PatchBase64(R"([{"op":"add","path":"/metadata/labels",
                                               "value":{"second":"1"}}])")}};
    }
    return object{{"allowed", true}};
  };
  object pod = Parse(R"({"metadata":{"name":"p"}})");
  auto attributes = PodAttributes(&pod);
  EXPECT_FALSE(Mutate(attributes));
  ASSERT_EQ(fake_.urls.size(), 3u);
  EXPECT_TRUE(fake_.urls[2].starts_with("https://first"));
}

TEST_F(WebhookPluginTest, DenialsAndFailurePolicies) {
  AddConfiguration("validatingwebhookconfigurations", "deny",
                   {Hook("deny.example.com", "https://deny")});
  fake_.respond = [](const object&, const std::string&) {
    return object{{"allowed", false}, {"status", object{{"message", "no pods today"}}}};
  };
  object pod = Parse(R"({"metadata":{"name":"p","labels":{"app":"web"}}})");
  auto attributes = PodAttributes(&pod);
  auto refused = Validate(attributes);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 400);
  EXPECT_EQ(refused->error.message(),
            "admission webhook \"deny.example.com\" denied the request: no pods today");

  fake_.respond = [](const object&, const std::string&) {
    return object{{"allowed", false}, {"status", object{{"code", 403}}}};
  };
  refused = Validate(attributes);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 403);
  EXPECT_EQ(refused->error.message(),
            "admission webhook \"deny.example.com\" denied the request without explanation");

  fake_.failure = "Post \"https://deny?timeout=10s\": connection refused";
  refused = Validate(attributes);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 500);
  EXPECT_EQ(refused->error.message(),
            "Internal error occurred: failed calling webhook \"deny.example.com\": failed to call "
            "webhook: Post \"https://deny?timeout=10s\": connection refused");

  reader_ = FakeReader();
  AddConfiguration("validatingwebhookconfigurations", "ignore",
                   {Hook("ignore.example.com", "https://ignore", R"(,"failurePolicy":"Ignore")")});
  EXPECT_FALSE(Validate(attributes));
}

TEST_F(WebhookPluginTest, SelectorsAndDryRun) {
  reader_.Add("", "namespaces", R"({"metadata":{"name":"ns","labels":{"team":"a"}}})");
  AddConfiguration("validatingwebhookconfigurations", "v",
                   {Hook("team-b.example.com", "https://b",
                         R"(,"namespaceSelector":{"matchLabels":{"team":"b"}})"),
                    Hook("frontend.example.com", "https://frontend",
                         R"(,"objectSelector":{"matchLabels":{"tier":"frontend"}})"),
                    Hook("effects.example.com", "https://effects", R"(,"sideEffects":"Some")")});
  fake_.respond = [](const object&, const std::string&) { return object{{"allowed", true}}; };
  object pod = Parse(R"({"metadata":{"name":"p","labels":{"tier":"backend"}}})");
  auto attributes = PodAttributes(&pod);
  EXPECT_FALSE(Validate(attributes));
  ASSERT_EQ(fake_.urls.size(), 1u);
  EXPECT_TRUE(fake_.urls[0].starts_with("https://effects"));

  attributes.dry_run = true;
  auto refused = Validate(attributes);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "admission webhook \"effects.example.com\" does not support dry run");
}

TEST_F(WebhookPluginTest, ServiceReferencesGoToTheServicesEndpoints) {
  reader_.Add("", "services", R"({"metadata":{"name":"hook","namespace":"sys"},
      "spec":{"ports":[{"name":"https","port":443,"targetPort":8443}]}})");
  reader_.Add("", "endpoints", R"({"metadata":{"name":"hook","namespace":"sys"},
      "subsets":[{"addresses":[{"ip":"10.0.0.7"}],"ports":[{"name":"https","port":8443}]}]})");
  AddConfiguration("validatingwebhookconfigurations", "svc",
                   {R"({"name":"svc.example.com","sideEffects":"None",
          "clientConfig":{"service":{"namespace":"sys","name":"hook","path":"/check"}},
          "rules":[{"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"]}]})",
                    R"({"name":"gone.example.com","sideEffects":"None",
          "clientConfig":{"service":{"namespace":"sys","name":"gone"}},
          "rules":[{"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"]}]})"});
  fake_.respond = [](const object&, const std::string&) { return object{{"allowed", true}}; };
  object pod = Parse(R"({"metadata":{"name":"p"}})");
  auto attributes = PodAttributes(&pod);
  auto refused = Validate(attributes);
  ASSERT_EQ(fake_.urls.size(), 1u);
  EXPECT_EQ(fake_.urls[0], "https://10.0.0.7:8443/check?timeout=10s");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "Internal error occurred: failed calling webhook \"gone.example.com\": service "
            "\"sys/gone\" not found");
}

}  // namespace
}  // namespace kpp::apiserver::admission
