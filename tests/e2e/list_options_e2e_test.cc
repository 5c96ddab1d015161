// List options as real clients use them: kubectl's chunked lists (limit/continue over one
// snapshot), per-kind field selectors, resourceVersion semantics, deletes of many objects with
// selectors and deletecollection, with upstream's answers to mistakes.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;
using testing::ProcessResult;

struct HttpResult {
  int status = 0;
  boost::json::value body;
};

class ListOptionsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  ProcessResult Kubectl(const std::vector<std::string>& args, const std::string& minor = "") {
    return server_.Kubectl(args, minor);
  }

  void CreateConfigMap(const std::string& name, const std::string& app) {
    auto created = Kubectl({"create", "configmap", name, "--from-literal=k=v"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    auto labelled = Kubectl({"label", "configmap", name, "app=" + app});
    ASSERT_EQ(labelled.exit_code, 0) << labelled.err;
  }

  void CreatePod(const std::string& name, const std::string& node) {
    std::string yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
                       "\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
    if (!node.empty()) yaml += "  nodeName: " + node + "\n";
    auto created = Kubectl({"create", "-f", server_.WriteFile(name + ".yaml", yaml)});
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }

  // A request with curl and the admin certificate; the JSON body and the HTTP status.
  HttpResult Request(const std::string& method, const std::string& path) {
    auto result = testing::RunProcess(
        {"curl", "-sS", "-X", method, "-w", "\n%{http_code}", "--cacert",
         server_.data_dir() + "/tls/ca.crt", "--cert", server_.data_dir() + "/tls/admin.crt",
         "--key", server_.data_dir() + "/tls/admin.key",
         "https://127.0.0.1:" + std::to_string(server_.port()) + path});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const auto newline = result.out.rfind('\n');
    if (newline == std::string::npos) return {};
    HttpResult http;
    http.status = std::stoi(result.out.substr(newline + 1));
    boost::system::error_code error;
    http.body = boost::json::parse(result.out.substr(0, newline), error);
    return http;
  }

  // The names of a list's items, but the root CA publisher's kube-root-ca.crt, which every
  // namespace has (and which comes back within 200 ms when a test deletes it).
  static std::vector<std::string> ItemNames(const boost::json::value& list) {
    std::vector<std::string> names;
    for (const auto& item : list.at("items").as_array()) {
      if (item.at("metadata").at("name") == "kube-root-ca.crt") continue;
      names.emplace_back(item.at("metadata").at("name").as_string());
    }
    return names;
  }

  KppServer server_;
};

TEST_F(ListOptionsE2ETest, KubectlChunkedListsSeeEverything) {
  for (int i = 1; i <= 7; ++i)
    CreateConfigMap("cm-" + std::to_string(i), i % 2 == 0 ? "web" : "db");
  std::string expected;
  for (int i = 1; i <= 7; ++i)
    expected += "configmap/cm-" + std::to_string(i) + "\n";
  // Every namespace has the cluster's CA, as upstream's root CA publisher keeps it.
  expected += "configmap/kube-root-ca.crt\n";
  std::vector<std::string> versions = {""};
  const auto installed = testing::InstalledKubectlVersions();
  if (!installed.empty()) versions.push_back(installed.front());
  for (const auto& minor : versions) {
    auto names = Kubectl({"get", "configmaps", "--chunk-size=2", "-o", "name"}, minor);
    ASSERT_EQ(names.exit_code, 0) << minor << ": " << names.err;
    EXPECT_EQ(names.out, expected) << minor;
    // The default output asks for Tables, which carry the continue token too.
    auto table = Kubectl({"get", "configmaps", "--chunk-size=2"}, minor);
    ASSERT_EQ(table.exit_code, 0) << minor << ": " << table.err;
    for (int i = 1; i <= 7; ++i) {
      EXPECT_NE(table.out.find("cm-" + std::to_string(i) + " "), std::string::npos)
          << minor << ": " << table.out;
    }
    auto selected =
        Kubectl({"get", "configmaps", "--chunk-size=1", "-l", "app=web", "-o", "name"}, minor);
    ASSERT_EQ(selected.exit_code, 0) << selected.err;
    EXPECT_EQ(selected.out, "configmap/cm-2\nconfigmap/cm-4\nconfigmap/cm-6\n") << minor;
  }
}

TEST_F(ListOptionsE2ETest, ContinueTokensPageThroughOneSnapshot) {
  for (int i = 1; i <= 7; ++i)
    CreateConfigMap("cm-" + std::to_string(i), "web");
  const std::string path = "/api/v1/namespaces/default/configmaps?limit=3";
  auto first = Request("GET", path);
  ASSERT_EQ(first.status, 200) << first.body;
  const auto& meta = first.body.at("metadata");
  EXPECT_EQ(ItemNames(first.body), (std::vector<std::string>{"cm-1", "cm-2", "cm-3"}));
  EXPECT_EQ(meta.at("remainingItemCount"), 5);  // with kube-root-ca.crt
  const std::string snapshot(meta.at("resourceVersion").as_string());
  std::string token(meta.at("continue").as_string());
  ASSERT_FALSE(token.empty());

  // Written after the first page: the next pages do not show it.
  CreateConfigMap("cm-0", "web");
  std::vector<std::string> rest;
  while (!token.empty()) {
    auto page = Request("GET", path + "&continue=" + token);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.body.at("metadata").at("resourceVersion").as_string(), snapshot);
    for (auto& name : ItemNames(page.body))
      rest.push_back(name);
    const auto* next = page.body.at("metadata").as_object().if_contains("continue");
    token = next != nullptr ? std::string(next->as_string()) : "";
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"cm-4", "cm-5", "cm-6", "cm-7"}));

  auto malformed = Request("GET", path + "&continue=not-a-token");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.body.at("reason"), "BadRequest");
  EXPECT_TRUE(malformed.body.at("message").as_string().starts_with(
      "invalid continue token: continue key is not valid"))
      << malformed.body;
  auto with_version = Request("GET", path + "&resourceVersion=" + snapshot + "&continue=" +
                                         std::string(meta.at("continue").as_string()));
  EXPECT_EQ(with_version.status, 400);
  EXPECT_EQ(with_version.body.at("message"),
            "specifying resource version is not allowed when using continue");
}

TEST_F(ListOptionsE2ETest, ResourceVersionsOnListAndGet) {
  CreateConfigMap("a", "web");
  auto before = Request("GET", "/api/v1/namespaces/default/configmaps");
  ASSERT_EQ(before.status, 200);
  const std::string revision(before.body.at("metadata").at("resourceVersion").as_string());
  CreateConfigMap("b", "web");

  auto exact = Request("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=" + revision +
                                  "&resourceVersionMatch=Exact");
  ASSERT_EQ(exact.status, 200) << exact.body;
  EXPECT_EQ(ItemNames(exact.body), (std::vector<std::string>{"a"}));
  EXPECT_EQ(exact.body.at("metadata").at("resourceVersion").as_string(), revision);
  auto not_older =
      Request("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=" + revision +
                         "&resourceVersionMatch=NotOlderThan");
  ASSERT_EQ(not_older.status, 200);
  EXPECT_EQ(ItemNames(not_older.body), (std::vector<std::string>{"a", "b"}));
  auto any = Request("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0");
  ASSERT_EQ(any.status, 200);
  EXPECT_EQ(ItemNames(any.body), (std::vector<std::string>{"a", "b"}));

  auto no_version =
      Request("GET", "/api/v1/namespaces/default/configmaps?resourceVersionMatch=NotOlderThan");
  EXPECT_EQ(no_version.status, 422);
  EXPECT_EQ(no_version.body.at("reason"), "Invalid");
  EXPECT_EQ(no_version.body.at("message"),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "resourceVersionMatch is forbidden unless resourceVersion is provided");
  auto exact_zero = Request(
      "GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0&resourceVersionMatch=Exact");
  EXPECT_EQ(exact_zero.status, 422);
  auto future = Request("GET",
                        "/api/v1/namespaces/default/configmaps?resourceVersion=999999999&"
                        "resourceVersionMatch=NotOlderThan");
  EXPECT_EQ(future.status, 504);
  EXPECT_EQ(future.body.at("reason"), "Timeout");
  EXPECT_TRUE(future.body.at("message").as_string().starts_with(
      "Timeout: Too large resource version: 999999999, current: "))
      << future.body;
  auto bad = Request("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=abc");
  EXPECT_EQ(bad.status, 400);

  auto get = Request("GET", "/api/v1/namespaces/default/configmaps/a?resourceVersion=" + revision);
  EXPECT_EQ(get.status, 200);
  auto get_future =
      Request("GET", "/api/v1/namespaces/default/configmaps/a?resourceVersion=999999999");
  EXPECT_EQ(get_future.status, 504);
}

TEST_F(ListOptionsE2ETest, PodsSelectedByTheirFields) {
  CreatePod("on-n1", "n1");
  CreatePod("also-n1", "n1");
  CreatePod("on-n2", "n2");
  CreatePod("unscheduled", "");
  auto on_n1 = Kubectl({"get", "pods", "--field-selector", "spec.nodeName=n1", "-o", "name"});
  ASSERT_EQ(on_n1.exit_code, 0) << on_n1.err;
  EXPECT_EQ(on_n1.out, "pod/also-n1\npod/on-n1\n");
  auto unscheduled = Kubectl({"get", "pods", "--field-selector", "spec.nodeName=", "-o", "name"});
  EXPECT_EQ(unscheduled.out, "pod/unscheduled\n");
  auto pending =
      Kubectl({"get", "pods", "-A", "--field-selector", "status.phase=Pending", "-o", "name"});
  ASSERT_EQ(pending.exit_code, 0) << pending.err;
  EXPECT_EQ(pending.out, "pod/also-n1\npod/on-n1\npod/on-n2\npod/unscheduled\n");
  auto running = Kubectl({"get", "pods", "--field-selector", "status.phase=Running", "-o", "name"});
  ASSERT_EQ(running.exit_code, 0) << running.err;
  EXPECT_EQ(running.out, "");
  auto combined = Kubectl({"get", "pods", "--field-selector",
                           "spec.nodeName!=n1,spec.restartPolicy=Always,metadata.namespace=default",
                           "-o", "name"});
  ASSERT_EQ(combined.exit_code, 0) << combined.err;
  EXPECT_EQ(combined.out, "pod/on-n2\npod/unscheduled\n");

  auto unsupported = Kubectl({"get", "pods", "--field-selector", "foo=bar"});
  EXPECT_NE(unsupported.exit_code, 0);
  EXPECT_NE(unsupported.err.find("field label not supported: foo"), std::string::npos)
      << unsupported.err;
  auto not_for_configmaps =
      Request("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=spec.nodeName%3Dn1");
  EXPECT_EQ(not_for_configmaps.status, 400);
  EXPECT_EQ(not_for_configmaps.body.at("message"), "field label not supported: spec.nodeName");
}

TEST_F(ListOptionsE2ETest, KubectlDeletesBySelectorAndAll) {
  for (int i = 1; i <= 4; ++i)
    CreateConfigMap("cm-" + std::to_string(i), i <= 2 ? "web" : "db");
  // kubectl sends dryRun in the DeleteOptions body.
  auto dry_run = Kubectl({"delete", "configmaps", "-l", "app=web", "--dry-run=server"});
  ASSERT_EQ(dry_run.exit_code, 0) << dry_run.err;
  EXPECT_EQ(dry_run.out,
            "configmap \"cm-1\" deleted (server dry run)\nconfigmap \"cm-2\" deleted (server dry "
            "run)\n");
  // kube-root-ca.crt is the root CA publisher's, which puts it back whenever it goes.
  EXPECT_EQ(Kubectl({"get", "configmaps", "-o", "name"}).out,
            "configmap/cm-1\nconfigmap/cm-2\nconfigmap/cm-3\nconfigmap/cm-4\n"
            "configmap/kube-root-ca.crt\n");
  auto by_label = Kubectl({"delete", "configmaps", "-l", "app=web"});
  ASSERT_EQ(by_label.exit_code, 0) << by_label.err;
  EXPECT_EQ(by_label.out, "configmap \"cm-1\" deleted\nconfigmap \"cm-2\" deleted\n");
  auto left = Kubectl({"get", "configmaps", "-o", "name"});
  EXPECT_EQ(left.out, "configmap/cm-3\nconfigmap/cm-4\nconfigmap/kube-root-ca.crt\n");
  auto all = Kubectl({"delete", "configmaps", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out,
            "configmap \"cm-3\" deleted\nconfigmap \"cm-4\" deleted\n"
            "configmap \"kube-root-ca.crt\" deleted\n");
  auto none = Kubectl({"get", "configmaps", "-o", "name"});
  EXPECT_EQ(none.out.find("configmap/cm-"), std::string::npos) << none.out;
}

TEST_F(ListOptionsE2ETest, DeleteCollectionAnswersWithTheDeletedList) {
  for (int i = 1; i <= 5; ++i)
    CreateConfigMap("cm-" + std::to_string(i), i <= 3 ? "web" : "db");
  const std::string collection = "/api/v1/namespaces/default/configmaps";
  auto dry = Request("DELETE", collection + "?labelSelector=app%3Dweb&dryRun=All");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(dry.body.at("kind"), "ConfigMapList");
  EXPECT_EQ(ItemNames(dry.body), (std::vector<std::string>{"cm-1", "cm-2", "cm-3"}));
  EXPECT_EQ(ItemNames(Request("GET", collection).body).size(), 5u);

  auto deleted = Request("DELETE", collection + "?labelSelector=app%3Dweb");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body.at("kind"), "ConfigMapList");
  EXPECT_EQ(deleted.body.at("apiVersion"), "v1");
  EXPECT_EQ(ItemNames(deleted.body), (std::vector<std::string>{"cm-1", "cm-2", "cm-3"}));
  EXPECT_EQ(ItemNames(Request("GET", collection).body), (std::vector<std::string>{"cm-4", "cm-5"}));

  auto by_field = Request("DELETE", collection + "?fieldSelector=metadata.name%3Dcm-4");
  ASSERT_EQ(by_field.status, 200) << by_field.body;
  EXPECT_EQ(ItemNames(by_field.body), (std::vector<std::string>{"cm-4"}));
  auto raw = Kubectl({"delete", "--raw", collection});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(ItemNames(boost::json::parse(raw.out)), (std::vector<std::string>{"cm-5"}));
  EXPECT_TRUE(ItemNames(Request("GET", collection).body).empty());

  auto bad_field = Request("DELETE", collection + "?fieldSelector=spec.x%3Dy");
  EXPECT_EQ(bad_field.status, 400);
  // Namespaces go through their own finalization; upstream serves no deletecollection for them.
  auto namespaces = Request("DELETE", "/api/v1/namespaces");
  EXPECT_EQ(namespaces.status, 405);
}

}  // namespace
}  // namespace kpp
