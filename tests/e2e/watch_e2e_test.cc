// Watches as clients use them: a chunked stream of WatchEvents from a resourceVersion, kubectl's
// `get -w`, and a server that still stops promptly with watches open.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "base/files.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::KppServer;
using testing::ProcessResult;
using testing::RunProcess;

ProcessResult CurlWatch(const KppServer& server, const std::string& query) {
  const std::string dir = server.data_dir() + "/tls/";
  return RunProcess({"curl", "-sSN", "--max-time", "20", "--cacert", dir + "ca.crt", "--cert",
                     dir + "admin.crt", "--key", dir + "admin.key",
                     "https://127.0.0.1:" + std::to_string(server.port()) +
                         "/api/v1/namespaces/default/configmaps?watch=true&" + query},
                    30s);
}

std::vector<boost::json::value> Events(const std::string& stream) {
  std::vector<boost::json::value> events;
  size_t start = 0;
  while (start < stream.size()) {
    const auto end = stream.find('\n', start);
    events.push_back(boost::json::parse(stream.substr(start, end - start)));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return events;
}

// Creates ConfigMap `name` in the default namespace (from <root>/cm.yaml, kept for re-use) and
// returns the resourceVersion of the list after it; empty (and a test failure) on error.
std::string CreateConfigMapAndListVersion(const KppServer& server, const std::string& name) {
  const std::string file = server.root_dir() + "/cm.yaml";
  EXPECT_TRUE(WriteFileAtomic(
                  file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n", 0644)
                  .ok());
  auto created = server.Kubectl({"create", "-f", file});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  auto list = server.Kubectl({"get", "--raw", "/api/v1/namespaces/default/configmaps"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  if (list.exit_code != 0) return "";
  return std::string(boost::json::parse(list.out).at("metadata").at("resourceVersion").as_string());
}

TEST(WatchE2ETest, StreamsAddedModifiedDeletedFromAResourceVersion) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  const std::string list_version = CreateConfigMapAndListVersion(server, "w");
  ASSERT_FALSE(list_version.empty());

  ProcessResult watched;
  std::thread watcher([&] {
    // The watch replays from the list's version, so it sees both changes however late it
    // connects; the timeout only has to outlast two kubectl runs on a loaded machine.
    watched = CurlWatch(server, "resourceVersion=" + list_version + "&timeoutSeconds=8");
  });
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(server.Kubectl({"label", "configmap", "w", "seen=yes"}).exit_code, 0);
  ASSERT_EQ(server.Kubectl({"delete", "configmap", "w"}).exit_code, 0);
  watcher.join();
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const auto events = Events(watched.out);
  ASSERT_EQ(events.size(), 2u) << watched.out;
  EXPECT_EQ(events[0].at("type"), "MODIFIED");
  EXPECT_EQ(events[0].at("object").at("kind"), "ConfigMap");
  EXPECT_EQ(events[0].at("object").at("metadata").at("labels").at("seen"), "yes");
  EXPECT_EQ(events[1].at("type"), "DELETED");
  EXPECT_EQ(events[1].at("object").at("metadata").at("name"), "w");
  EXPECT_NE(events[1].at("object").at("metadata").at("resourceVersion"),
            events[0].at("object").at("metadata").at("resourceVersion"));

  // Without a resourceVersion the current objects come first, as ADDED events.
  ASSERT_EQ(server.Kubectl({"create", "-f", server.root_dir() + "/cm.yaml"}).exit_code, 0);
  auto from_now = CurlWatch(server, "timeoutSeconds=1");
  const auto initial = Events(from_now.out);
  // w and the root CA publisher's kube-root-ca.crt.
  ASSERT_EQ(initial.size(), 2u) << from_now.out;
  EXPECT_EQ(initial[0].at("type"), "ADDED");
  EXPECT_EQ(initial[1].at("type"), "ADDED");
}

TEST(WatchE2ETest, SelectorsTurnLabelChangesIntoAddedAndDeleted) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  const std::string list_version = CreateConfigMapAndListVersion(server, "s");
  ProcessResult watched;
  std::thread watcher([&] {
    watched = CurlWatch(
        server, "labelSelector=team%3Dblue&timeoutSeconds=8&resourceVersion=" + list_version);
  });
  ASSERT_EQ(server.Kubectl({"label", "configmap", "s", "team=blue"}).exit_code, 0);
  ASSERT_EQ(server.Kubectl({"label", "configmap", "s", "extra=1"}).exit_code, 0);
  ASSERT_EQ(server.Kubectl({"label", "--overwrite", "configmap", "s", "team=red"}).exit_code, 0);
  watcher.join();
  const auto events = Events(watched.out);
  ASSERT_EQ(events.size(), 3u) << watched.out;
  EXPECT_EQ(events[0].at("type"), "ADDED");
  EXPECT_EQ(events[1].at("type"), "MODIFIED");
  EXPECT_EQ(events[2].at("type"), "DELETED");
  EXPECT_EQ(events[2].at("object").at("metadata").at("labels").at("team"), "red");
}

TEST(WatchE2ETest, KubectlGetWatchPrintsChanges) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  ProcessResult watched;
  std::thread watcher([&] {
    watched =
        server.Kubectl({"get", "configmaps", "--watch-only", "-o", "name", "--request-timeout=4s"});
  });
  std::this_thread::sleep_for(1500ms);
  const std::string file = server.root_dir() + "/cm.yaml";
  ASSERT_TRUE(
      WriteFileAtomic(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seen\n", 0644)
          .ok());
  ASSERT_EQ(server.Kubectl({"create", "-f", file}).exit_code, 0);
  watcher.join();
  EXPECT_NE(watched.out.find("configmap/seen"), std::string::npos) << watched.out << watched.err;
}

TEST(WatchE2ETest, KubectlGetWatchPrintsTableRows) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  ProcessResult watched;
  std::thread watcher([&] {
    watched = server.Kubectl({"get", "configmaps", "-w", "--request-timeout=4s"});
  });
  std::this_thread::sleep_for(1500ms);
  const std::string file = server.root_dir() + "/cm.yaml";
  ASSERT_TRUE(
      WriteFileAtomic(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: row\n", 0644)
          .ok());
  ASSERT_EQ(server.Kubectl({"create", "-f", file}).exit_code, 0);
  watcher.join();
  EXPECT_NE(watched.out.find("NAME"), std::string::npos) << watched.out << watched.err;
  EXPECT_NE(watched.out.find("row"), std::string::npos) << watched.out << watched.err;
}

// A list right after a write sees it, whichever resource the last write was to: the cache a
// consistent list is served from waits until it has reached the store's revision.
TEST(WatchE2ETest, ListsFromTheCacheSeeEveryAcknowledgedWrite) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  for (int i = 0; i < 3; ++i) {
    const std::string name = "c" + std::to_string(i);
    ASSERT_EQ(server.Kubectl({"create", "configmap", name}).exit_code, 0);
    ASSERT_EQ(server.Kubectl({"create", "serviceaccount", "sa" + std::to_string(i)}).exit_code, 0);
    auto listed = server.Kubectl({"get", "configmaps", "-o", "name"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find("configmap/" + name), std::string::npos) << listed.out;
  }
  // resourceVersion=0 may be served from any state the cache has, and is.
  auto any =
      server.Kubectl({"get", "--raw", "/api/v1/namespaces/default/configmaps?resourceVersion=0"});
  ASSERT_EQ(any.exit_code, 0) << any.err;
  // With the root CA publisher's kube-root-ca.crt.
  EXPECT_EQ(boost::json::parse(any.out).at("items").as_array().size(), 4u);
  auto one = server.Kubectl(
      {"get", "--raw", "/api/v1/namespaces/default/configmaps/c1?resourceVersion=0"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(boost::json::parse(one.out).at("metadata").at("name"), "c1");
  // A page of a cached list continues from the store at the same revision.
  auto page = server.Kubectl(
      {"get", "--raw", "/api/v1/namespaces/default/configmaps?resourceVersion=0&limit=2"});
  ASSERT_EQ(page.exit_code, 0) << page.err;
  const auto first = boost::json::parse(page.out);
  ASSERT_EQ(first.at("items").as_array().size(), 2u);
  const std::string token(first.at("metadata").at("continue").as_string());
  auto rest = server.Kubectl(
      {"get", "--raw", "/api/v1/namespaces/default/configmaps?limit=2&continue=" + token});
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  const auto second = boost::json::parse(rest.out);
  ASSERT_EQ(second.at("items").as_array().size(), 2u);
  EXPECT_EQ(second.at("items").at(0).at("metadata").at("name"), "c2");
  EXPECT_EQ(second.at("metadata").at("resourceVersion"),
            first.at("metadata").at("resourceVersion"));
}

TEST(WatchE2ETest, WatchListSendsTheStateThenABookmarkThatEndsIt) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  const std::string list_version = CreateConfigMapAndListVersion(server, "initial");
  auto watched = CurlWatch(server,
                           "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&"
                           "allowWatchBookmarks=true&timeoutSeconds=2");
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const auto events = Events(watched.out);
  // The namespace's state: initial and the root CA publisher's kube-root-ca.crt.
  ASSERT_EQ(events.size(), 3u) << watched.out;
  EXPECT_EQ(events[0].at("type"), "ADDED");
  EXPECT_EQ(events[0].at("object").at("metadata").at("name"), "initial");
  EXPECT_EQ(events[1].at("type"), "ADDED");
  EXPECT_EQ(events[1].at("object").at("metadata").at("name"), "kube-root-ca.crt");
  EXPECT_EQ(events[2].at("type"), "BOOKMARK");
  const auto& metadata = events[2].at("object").at("metadata");
  EXPECT_EQ(events[2].at("object").at("kind"), "ConfigMap");
  EXPECT_EQ(metadata.at("annotations").at("k8s.io/initial-events-end"), "true");
  EXPECT_GE(std::stoll(std::string(metadata.at("resourceVersion").as_string())),
            std::stoll(list_version));

  // Inconsistent watch-list options are refused as upstream refuses them.
  auto refused = server.Kubectl(
      {"get", "--raw", "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("sendInitialEvents requires setting resourceVersionMatch to "
                             "NotOlderThan"),
            std::string::npos)
      << refused.err;
}

TEST(WatchE2ETest, AWatchFromBeforeTheCachesHistoryGets410Expired) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  auto watched = CurlWatch(server, "resourceVersion=1&timeoutSeconds=2");
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const auto events = Events(watched.out);
  ASSERT_EQ(events.size(), 1u) << watched.out;
  EXPECT_EQ(events[0].at("type"), "ERROR");
  EXPECT_EQ(events[0].at("object").at("code"), 410);
  EXPECT_EQ(events[0].at("object").at("reason"), "Expired");
}

TEST(WatchE2ETest, ServerStopsPromptlyWithWatchesOpen) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  std::thread watcher([&] { CurlWatch(server, ""); });
  std::this_thread::sleep_for(500ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(server.Stop());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 8s);
  watcher.join();
}

}  // namespace
}  // namespace kpp
