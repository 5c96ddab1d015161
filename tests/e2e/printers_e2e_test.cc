// `kubectl get` against kpp prints what it prints against upstream: the server sends each kind's
// own Table columns (apiserver/printers), and kubectl 1.27 and 1.33 lay them out. Checked on the
// header and the rows of pods, deployments, services, nodes, events, config maps and a kind
// without columns of its own, in normal and wide output, paged, sorted and watched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <regex>

#include "base/files.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using ::testing::ElementsAre;
using testing::KppServer;

// RFC 3339 for `seconds_ago` before now.
std::string TimeAgo(int seconds_ago) {
  const std::time_t then = std::time(nullptr) - seconds_ago;
  std::tm utc{};
  gmtime_r(&then, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

// A table line's fields: kubectl separates columns by at least three spaces (two at the least
// once trailing padding is trimmed), while cells hold single spaces ("NOMINATED NODE").
std::vector<std::string> Fields(const std::string& line) {
  static const std::regex kSeparator(" {2,}");
  std::vector<std::string> fields;
  std::sregex_token_iterator it(line.begin(), line.end(), kSeparator, -1);
  for (; it != std::sregex_token_iterator(); ++it) {
    if (!it->str().empty()) fields.push_back(*it);
  }
  return fields;
}

MATCHER(IsAge, "an age such as 5s or 2m") {
  return std::regex_match(arg, std::regex("[0-9]+(s|m[0-9]*s?|h)"));
}

class PrintersE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The objects are hand-made, events included: no scheduler may add its own.
    ASSERT_TRUE(server_.Start({"--disable-scheduler"}));
    const std::string manifest = server_.root_dir() + "/objects.yaml";
    const std::string objects =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "  - name: nginx\n    image: nginx:1.25\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n"
        "    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n"
        "      - name: nginx\n        image: nginx:1.25\n"
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
        "  clusterIP: 10.43.0.10\n  selector:\n    app: web\n  ports:\n  - port: 80\n"
        "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n  labels:\n"
        "    node-role.kubernetes.io/control-plane: \"\"\nstatus:\n  conditions:\n"
        "  - type: Ready\n    status: \"True\"\n  nodeInfo:\n    kubeletVersion: v1.32.0\n"
        "    machineID: \"\"\n    systemUUID: \"\"\n    bootID: \"\"\n    kernelVersion: 6.1.0\n"
        "    osImage: Debian GNU/Linux 12 (bookworm)\n    containerRuntimeVersion: "
        "containerd://1.6.20\n"
        "    kubeProxyVersion: \"\"\n    operatingSystem: linux\n    architecture: amd64\n"
        "  addresses:\n  - type: InternalIP\n    address: 192.168.1.10\n"
        "---\napiVersion: v1\nkind: Event\nmetadata:\n  name: web.1\ninvolvedObject:\n"
        "  kind: Pod\n  name: web\n  namespace: default\nreason: Scheduled\n"
        "message: Successfully assigned default/web to node-1\ntype: Normal\n"
        "source:\n  component: default-scheduler\ncount: 1\nfirstTimestamp: \"" +
        TimeAgo(120) + "\"\nlastTimestamp: \"" + TimeAgo(120) +
        "\"\n"
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
        "  name: reader\nrules: []\n";
    ASSERT_TRUE(WriteFileAtomic(manifest, objects, 0644).ok());
    auto created = server_.Kubectl({"create", "-f", manifest});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    for (const char* name : {"c-one", "c-two", "c-three"}) {
      ASSERT_EQ(server_.Kubectl({"create", "configmap", name, "--from-literal=a=1"}).exit_code, 0);
    }
  }

  // The lines `kubectl get` prints with kubectl `minor`.
  std::vector<std::string> Get(const std::vector<std::string>& args, const std::string& minor) {
    std::vector<std::string> argv = {"get"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = server_.Kubectl(argv, minor);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return Lines(result.out);
  }

  KppServer server_;
};

std::vector<std::string> Versions() {
  std::vector<std::string> versions;
  for (const auto& minor : testing::InstalledKubectlVersions()) {
    if (minor == "1.27" || minor == "1.33") versions.push_back(minor);
  }
  EXPECT_EQ(versions.size(), 2u) << "kubectl 1.27 and 1.33 are needed";
  return versions;
}

TEST_F(PrintersE2ETest, PodsInNormalAndWideOutput) {
  for (const auto& minor : Versions()) {
    SCOPED_TRACE(minor);
    auto lines = Get({"pods"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "READY", "STATUS", "RESTARTS", "AGE"));
    EXPECT_THAT(Fields(lines[1]), ElementsAre("web", "0/1", "Pending", "0", IsAge()));
    lines = Get({"pods", "-o", "wide"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP",
                                              "NODE", "NOMINATED NODE", "READINESS GATES"));
    EXPECT_THAT(Fields(lines[1]), ElementsAre("web", "0/1", "Pending", "0", IsAge(), "<none>",
                                              "<none>", "<none>", "<none>"));
  }
}

TEST_F(PrintersE2ETest, DeploymentsServicesNodesAndEvents) {
  for (const auto& minor : Versions()) {
    SCOPED_TRACE(minor);
    auto lines = Get({"deployments"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"));
    EXPECT_THAT(Fields(lines[1]), ElementsAre("web", "0/2", "0", "0", IsAge()));
    lines = Get({"deploy", "-o", "wide"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
                                              "CONTAINERS", "IMAGES", "SELECTOR"));
    EXPECT_THAT(Fields(lines[1]),
                ElementsAre("web", "0/2", "0", "0", IsAge(), "nginx", "nginx:1.25", "app=web"));

    lines = Get({"svc", "-o", "wide"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP",
                                              "PORT(S)", "AGE", "SELECTOR"));
    EXPECT_THAT(Fields(lines[1]), ElementsAre("web", "ClusterIP", "10.43.0.10", "<none>", "80/TCP",
                                              IsAge(), "app=web"));

    lines = Get({"nodes"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "STATUS", "ROLES", "AGE", "VERSION"));
    EXPECT_THAT(Fields(lines[1]),
                ElementsAre("node-1", "Ready", "control-plane", IsAge(), "v1.32.0"));
    lines = Get({"nodes", "-o", "wide"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]),
                ElementsAre("NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP",
                            "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"));
    EXPECT_THAT(
        Fields(lines[1]),
        ElementsAre("node-1", "Ready", "control-plane", IsAge(), "v1.32.0", "192.168.1.10",
                    "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0", "containerd://1.6.20"));

    lines = Get({"events"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"));
    EXPECT_THAT(Fields(lines[1]),
                ElementsAre(::testing::MatchesRegex("2m([0-9]+s)?"), "Normal", "Scheduled",
                            "pod/web", "Successfully assigned default/web to node-1"));
  }
}

TEST_F(PrintersE2ETest, PagedSortedAndGenericTables) {
  for (const auto& minor : Versions()) {
    SCOPED_TRACE(minor);
    // Every page carries the columns; kubectl prints one header over all rows.
    // Three configmaps and the root CA publisher's kube-root-ca.crt.
    auto lines = Get({"configmaps", "--chunk-size=1"}, minor);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "DATA", "AGE"));
    EXPECT_THAT(Fields(lines[1]), ElementsAre("c-one", "1", IsAge()));
    // --sort-by makes kubectl ask for whole objects in the rows (includeObject=Object).
    lines = Get({"configmaps", "--sort-by=.metadata.name"}, minor);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(Fields(lines[1])[0], "c-one");
    EXPECT_EQ(Fields(lines[2])[0], "c-three");
    EXPECT_EQ(Fields(lines[3])[0], "c-two");
    // Labels come from the rows' metadata.
    lines = Get({"pods", "--show-labels", "-A"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]),
                ElementsAre("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS"));
    EXPECT_EQ(Fields(lines[1])[0], "default");
    // Role has no printer upstream either: the generic Name and Created At. (The bootstrap
    // policy's roles are there too; one is asked for by name.)
    lines = Get({"clusterroles", "reader"}, minor);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "CREATED AT"));
    EXPECT_EQ(Fields(lines[1])[0], "reader");
    EXPECT_TRUE(
        std::regex_match(Fields(lines[1])[1], std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z")));
  }
}

TEST_F(PrintersE2ETest, WatchPrintsRowsUnderOneHeader) {
  auto watched = server_.Kubectl({"get", "pods", "--watch", "--request-timeout=3s"}, "1.33");
  const auto lines = Lines(watched.out);
  ASSERT_GE(lines.size(), 2u) << watched.out << watched.err;
  EXPECT_THAT(Fields(lines[0]), ElementsAre("NAME", "READY", "STATUS", "RESTARTS", "AGE"));
  EXPECT_THAT(Fields(lines[1]), ElementsAre("web", "0/1", "Pending", "0", IsAge()));
}

TEST_F(PrintersE2ETest, TableRequestsValidateIncludeObject) {
  const std::string dir = server_.data_dir() + "/tls/";
  const auto get = [&](const std::string& include_object) {
    return testing::RunProcess(
        {"curl", "-sS", "-w", "\n%{http_code}", "--cacert", dir + "ca.crt", "--cert",
         dir + "admin.crt", "--key", dir + "admin.key", "-H",
         "Accept: application/json;as=Table;v=v1;g=meta.k8s.io",
         "https://127.0.0.1:" + std::to_string(server_.port()) +
             "/api/v1/namespaces/default/pods?includeObject=" + include_object},
        std::chrono::seconds(30));
  };
  auto bad = get("Everything");
  EXPECT_TRUE(bad.out.ends_with("\n400")) << bad.out;
  EXPECT_NE(bad.out.find("must be 'Metadata', 'Object', 'None', or empty"), std::string::npos);
  auto none = get("None");
  EXPECT_TRUE(none.out.ends_with("\n200")) << none.out;
  EXPECT_NE(none.out.find("\"object\":null"), std::string::npos) << none.out;
}

}  // namespace
}  // namespace kpp
