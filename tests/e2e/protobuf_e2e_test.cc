// The protobuf encoding as real clients use it: kubectl 1.32+ sends built-in kinds from its typed
// commands (`kubectl create configmap ...`) as protobuf and prefers protobuf answers; raw
// requests check both directions of the envelope.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/core/v1/codec.h"
#include "api/runtime/protobuf.h"
#include "base/files.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;
using testing::ProcessResult;

// The installed kubectls that send protobuf (1.32 and later).
std::vector<std::string> ProtobufKubectls() {
  std::vector<std::string> found;
  for (const auto& minor : testing::InstalledKubectlVersions()) {
    if (minor >= "1.32") found.push_back(minor);
  }
  return found;
}

class ProtobufE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    ASSERT_FALSE(ProtobufKubectls().empty()) << "kubectl 1.32 or later is needed";
  }

  boost::json::value GetJson(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"get"};
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.end(), {"-o", "json"});
    auto result = server_.Kubectl(full);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.exit_code == 0 ? boost::json::parse(result.out) : boost::json::value();
  }

  // curl against the server with the admin certificate; the body goes to `output`.
  ProcessResult Curl(const std::vector<std::string>& args, const std::string& output) {
    std::vector<std::string> argv = {"curl",     "-sS",
                                     "-o",       output,
                                     "-w",       "%{http_code} %{content_type}",
                                     "--cacert", server_.data_dir() + "/tls/ca.crt",
                                     "--cert",   server_.data_dir() + "/tls/admin.crt",
                                     "--key",    server_.data_dir() + "/tls/admin.key"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv);
  }

  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server_.port()) + path;
  }

  KppServer server_;
};

TEST_F(ProtobufE2ETest, TypedCreateCommandsOfNewKubectlsWork) {
  for (const auto& minor : ProtobufKubectls()) {
    const std::string suffix = minor.substr(2);
    auto expect_created = [&](const std::vector<std::string>& args, const std::string& what) {
      auto result = server_.Kubectl(args, minor);
      ASSERT_EQ(result.exit_code, 0) << minor << ": " << result.err;
      EXPECT_EQ(result.out, what + " created\n");
    };
    expect_created({"create", "configmap", "cm-" + suffix, "--from-literal=greeting=hello"},
                   "configmap/cm-" + suffix);
    expect_created(
        {"create", "secret", "generic", "s-" + suffix, "--from-literal=password=hunter2"},
        "secret/s-" + suffix);
    expect_created({"create", "serviceaccount", "sa-" + suffix}, "serviceaccount/sa-" + suffix);
    expect_created({"create", "service", "clusterip", "svc-" + suffix, "--tcp=80:8080"},
                   "service/svc-" + suffix);
    expect_created({"create", "namespace", "ns-" + suffix}, "namespace/ns-" + suffix);
    expect_created({"create", "quota", "q-" + suffix, "--hard=pods=3,requests.cpu=500m"},
                   "resourcequota/q-" + suffix);
    expect_created({"create", "priorityclass", "pc-" + suffix, "--value=1000"},
                   "priorityclass.scheduling.k8s.io/pc-" + suffix);
    expect_created({"create", "role", "r-" + suffix, "--verb=get", "--resource=pods"},
                   "role.rbac.authorization.k8s.io/r-" + suffix);
    expect_created({"create", "deployment", "d-" + suffix, "--image=nginx:1.27", "--replicas=2"},
                   "deployment.apps/d-" + suffix);
    expect_created({"create", "job", "j-" + suffix, "--image=busybox", "--", "true"},
                   "job.batch/j-" + suffix);
    expect_created(
        {"create", "cronjob", "cj-" + suffix, "--image=busybox", "--schedule=*/5 * * * *"},
        "cronjob.batch/cj-" + suffix);
    expect_created({"create", "poddisruptionbudget", "pdb-" + suffix, "--selector=app=web",
                    "--min-available=1"},
                   "poddisruptionbudget.policy/pdb-" + suffix);
    expect_created(
        {"create", "ingress", "ing-" + suffix, "--rule=example.com/*=svc-" + suffix + ":80"},
        "ingress.networking.k8s.io/ing-" + suffix);

    const auto configmap = GetJson({"configmap", "cm-" + suffix});
    EXPECT_EQ(configmap.at("data").at("greeting"), "hello");
    const auto secret = GetJson({"secret", "s-" + suffix});
    EXPECT_EQ(secret.at("data").at("password"), "aHVudGVyMg==");
    EXPECT_EQ(secret.at("type"), "Opaque");
    const auto service = GetJson({"service", "svc-" + suffix});
    const auto& port = service.at("spec").at("ports").at(0);
    EXPECT_EQ(port.at("port"), 80);
    EXPECT_EQ(port.at("targetPort"), 8080);
    EXPECT_EQ(port.at("protocol"), "TCP");
    EXPECT_EQ(port.at("name"), "80-8080");
    const auto quota = GetJson({"quota", "q-" + suffix});
    EXPECT_EQ(quota.at("spec").at("hard").at("pods"), "3");
    EXPECT_EQ(quota.at("spec").at("hard").at("requests.cpu"), "500m");
    const auto deployment = GetJson({"deployment", "d-" + suffix});
    EXPECT_EQ(deployment.at("spec").at("replicas"), 2);
    EXPECT_EQ(deployment.at("spec").at("strategy").at("rollingUpdate").at("maxSurge"), "25%");
    EXPECT_EQ(deployment.at("spec").at("template").at("spec").at("containers").at(0).at("image"),
              "nginx:1.27");
    const auto cronjob = GetJson({"cronjob", "cj-" + suffix});
    EXPECT_EQ(cronjob.at("spec").at("schedule"), "*/5 * * * *");
    const auto ingress = GetJson({"ingress", "ing-" + suffix});
    const auto& path = ingress.at("spec").at("rules").at(0).at("http").at("paths").at(0);
    EXPECT_EQ(path.at("pathType"), "Prefix");
    EXPECT_EQ(path.at("backend").at("service").at("port").at("number"), 80);
    const auto role = GetJson({"role", "r-" + suffix});
    EXPECT_EQ(role.at("rules").at(0).at("verbs").at(0), "get");
    EXPECT_EQ(role.at("rules").at(0).at("resources").at(0), "pods");
  }
}

TEST_F(ProtobufE2ETest, ServesObjectsAndListsAsProtobufWhenPreferred) {
  ASSERT_EQ(server_.Kubectl({"create", "configmap", "answer", "--from-literal=value=42"}).exit_code,
            0);
  const std::string body = server_.root_dir() + "/body";
  auto got = Curl({"-H", "Accept: application/vnd.kubernetes.protobuf,application/json",
                   Url("/api/v1/namespaces/default/configmaps/answer")},
                  body);
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "200 application/vnd.kubernetes.protobuf");
  auto bytes = ReadFile(body);
  ASSERT_TRUE(bytes.ok());
  auto envelope = api::protobuf::Unwrap(*bytes);
  ASSERT_TRUE(envelope.ok()) << envelope.error().message();
  EXPECT_EQ(envelope->api_version, "v1");
  EXPECT_EQ(envelope->kind, "ConfigMap");
  api::protobuf::Reader reader(envelope->message);
  api::core::v1::ConfigMap configmap;
  DecodeProto(reader, configmap);
  ASSERT_FALSE(reader.failed());
  EXPECT_EQ(configmap.metadata.name, "answer");
  EXPECT_EQ(configmap.data.at("value"), "42");
  EXPECT_FALSE(configmap.metadata.resource_version.empty());

  auto listed = Curl({"-H", "Accept: application/vnd.kubernetes.protobuf",
                      Url("/api/v1/namespaces/default/configmaps")},
                     body);
  EXPECT_EQ(listed.out, "200 application/vnd.kubernetes.protobuf");
  bytes = ReadFile(body);
  ASSERT_TRUE(bytes.ok());
  envelope = api::protobuf::Unwrap(*bytes);
  ASSERT_TRUE(envelope.ok()) << envelope.error().message();
  EXPECT_EQ(envelope->kind, "ConfigMapList");
  api::protobuf::Reader list_reader(envelope->message);
  api::core::v1::ConfigMapList list;
  DecodeProto(list_reader, list);
  ASSERT_FALSE(list_reader.failed());
  EXPECT_FALSE(list.metadata.resource_version.empty());
  bool found = false;
  for (const auto& item : list.items)
    found = found || item.metadata.name == "answer";
  EXPECT_TRUE(found);

  // JSON first in Accept gets JSON.
  auto json = Curl({"-H", "Accept: application/json,application/vnd.kubernetes.protobuf",
                    Url("/api/v1/namespaces/default/configmaps/answer")},
                   body);
  EXPECT_EQ(json.out, "200 application/json");
}

TEST_F(ProtobufE2ETest, AcceptsProtobufBodiesAndRejectsBrokenOnes) {
  api::core::v1::ConfigMap configmap;
  configmap.metadata.name = "from-protobuf";
  configmap.data["key"] = "value";
  api::protobuf::Writer writer;
  EncodeProto(configmap, writer);
  const std::string request = server_.root_dir() + "/request";
  ASSERT_TRUE(
      WriteFileAtomic(request, api::protobuf::Wrap("v1", "ConfigMap", writer.data()), 0600).ok());
  const std::string body = server_.root_dir() + "/body";
  auto created =
      Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kubernetes.protobuf",
            "--data-binary", "@" + request, Url("/api/v1/namespaces/default/configmaps")},
           body);
  EXPECT_EQ(created.out, "201 application/json");
  EXPECT_EQ(GetJson({"configmap", "from-protobuf"}).at("data").at("key"), "value");

  // A wrong kind in the envelope, and bytes that are not an envelope.
  ASSERT_TRUE(
      WriteFileAtomic(request, api::protobuf::Wrap("v1", "Secret", writer.data()), 0600).ok());
  auto wrong_kind =
      Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kubernetes.protobuf",
            "--data-binary", "@" + request, Url("/api/v1/namespaces/default/configmaps")},
           body);
  EXPECT_EQ(wrong_kind.out, "400 application/json");
  auto status = ReadFile(body);
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->find("the kind in the data (Secret) does not match the expected kind "
                         "(ConfigMap)"),
            std::string::npos)
      << *status;
  ASSERT_TRUE(WriteFileAtomic(request, std::string("k8s\0\x0a\xff", 6), 0600).ok());
  auto broken = Curl({"-X", "POST", "-H", "Content-Type: application/vnd.kubernetes.protobuf",
                      "--data-binary", "@" + request, Url("/api/v1/namespaces/default/configmaps")},
                     body);
  EXPECT_EQ(broken.out, "400 application/json");
}

}  // namespace
}  // namespace kpp
