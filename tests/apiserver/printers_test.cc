// The Table printers: for realistic objects of each built-in kind, the columns and cells a real
// cluster prints (upstream's pkg/printers/internalversion), with ages measured against a fixed
// time.
#include "apiserver/printers/printers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/runtime/kinds.h"
#include "apiserver/printers/format.h"

namespace kpp::apiserver::printers {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// 2023-11-14T22:13:20Z.
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
// Timestamps before kNow.
constexpr const char* k90SecondsAgo = "2023-11-14T22:11:50Z";
constexpr const char* k2MinutesAgo = "2023-11-14T22:11:20Z";
constexpr const char* k5HoursAgo = "2023-11-14T17:13:20Z";
constexpr const char* k3DaysAgo = "2023-11-11T22:13:20Z";

const api::KindInfo& Kind(std::string_view group, std::string_view version, std::string_view kind) {
  for (const auto& info : api::AllKinds()) {
    if (info.group == group && info.version == version && info.kind == kind) return info;
  }
  ADD_FAILURE() << "no kind " << group << "/" << version << " " << kind;
  return api::AllKinds().front();
}

// The Table printed for one object, decoded from `json` and defaulted as the server holds it.
boost::json::object PrintOne(const api::KindInfo& kind, const std::string& json,
                             TableOptions options = {}) {
  auto decoded = kind.codec->Decode(json, {});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  if (!decoded.ok()) return {};
  decoded->object->SetDefaults();
  std::vector<api::ObjectPtr> objects;
  objects.push_back(std::move(decoded->object));
  api::meta::v1::ListMeta list_meta;
  list_meta.resource_version = "42";
  auto table = TableJson(kind, objects, list_meta, options, kNow);
  EXPECT_TRUE(table.ok()) << table.error().message();
  if (!table.ok()) return {};
  return boost::json::parse(*table).as_object();
}

// Cells as text: strings as they are, numbers and booleans in JSON form.
std::vector<std::string> Cells(const boost::json::object& table, size_t row = 0) {
  std::vector<std::string> cells;
  for (const auto& cell : table.at("rows").as_array().at(row).at("cells").as_array()) {
    cells.push_back(cell.is_string() ? std::string(cell.as_string())
                                     : boost::json::serialize(cell));
  }
  return cells;
}

// Column names, with "*" after the ones only `-o wide` shows.
std::vector<std::string> Columns(const boost::json::object& table) {
  std::vector<std::string> names;
  for (const auto& column : table.at("columnDefinitions").as_array()) {
    std::string name(column.at("name").as_string());
    if (column.at("priority").as_int64() > 0) name += "*";
    names.push_back(name);
  }
  return names;
}

std::vector<std::string> Print(std::string_view group, std::string_view version,
                               std::string_view kind, const std::string& json) {
  return Cells(PrintOne(Kind(group, version, kind), json));
}

// --- ages ------------------------------------------------------------------------------------

TEST(HumanDurationTest, MatchesUpstreamRounding) {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  const std::pair<std::chrono::nanoseconds, const char*> cases[] = {
      {seconds(-2), "<invalid>"},
      {std::chrono::milliseconds(-1500), "0s"},
      {seconds(0), "0s"},
      {seconds(5), "5s"},
      {seconds(119), "119s"},
      {seconds(120), "2m"},
      {seconds(182), "3m2s"},
      {minutes(10), "10m"},
      {minutes(179), "179m"},
      {hours(3), "3h"},
      {hours(4) + minutes(10), "4h10m"},
      {hours(8) + minutes(30), "8h"},
      {hours(47), "47h"},
      {hours(51), "2d3h"},
      {hours(72), "3d"},
      {hours(24 * 8), "8d"},
      {hours(24 * 400), "400d"},
      {hours(24 * (365 * 2 + 45)), "2y45d"},
      {hours(24 * 365 * 3), "3y"},
      {hours(24 * 365 * 9), "9y"},
  };
  for (const auto& [duration, text] : cases) {
    EXPECT_EQ(HumanDuration(duration), text) << duration.count();
  }
}

// --- Pod -------------------------------------------------------------------------------------

std::string PodJson(const std::string& spec, const std::string& status,
                    const std::string& extra_metadata = "") {
  return std::string(R"({"metadata":{"name":"web","namespace":"default","creationTimestamp":")") +
         k90SecondsAgo + "\"" + extra_metadata + R"(},"spec":)" + spec + R"(,"status":)" + status +
         "}";
}

const std::string kOneContainer = R"({"containers":[{"name":"app","image":"nginx"}]})";
const std::string kTwoContainers =
    R"({"containers":[{"name":"app","image":"nginx"},{"name":"job","image":"busybox"}]})";
const std::string kOneInit = R"({"initContainers":[{"name":"setup","image":"busybox"}],)"
                             R"("containers":[{"name":"app","image":"nginx"}]})";
const std::string kSidecar =
    R"({"initContainers":[{"name":"proxy","image":"envoy","restartPolicy":"Always"}],)"
    R"("containers":[{"name":"app","image":"nginx"}]})";

std::string Running(const std::string& name, bool ready, int restarts = 0,
                    const std::string& last_finished = "") {
  std::string last_state = "{}";
  if (!last_finished.empty()) {
    last_state =
        R"({"terminated":{"exitCode":1,"reason":"Error","finishedAt":")" + last_finished + "\"}}";
  }
  return R"({"name":")" + name + R"(","ready":)" + (ready ? "true" : "false") +
         R"(,"restartCount":)" + std::to_string(restarts) +
         R"(,"image":"x","imageID":"","started":true,"state":{"running":{"startedAt":")" +
         k90SecondsAgo + R"("}},"lastState":)" + last_state + "}";
}
std::string Waiting(const std::string& name, const std::string& reason, int restarts = 0,
                    const std::string& last_finished = "") {
  std::string last_state = "{}";
  if (!last_finished.empty()) {
    last_state =
        R"({"terminated":{"exitCode":1,"reason":"Error","finishedAt":")" + last_finished + "\"}}";
  }
  return R"({"name":")" + name + R"(","ready":false,"restartCount":)" + std::to_string(restarts) +
         R"(,"image":"x","imageID":"","state":{"waiting":{"reason":")" + reason +
         R"("}},"lastState":)" + last_state + "}";
}
std::string Terminated(const std::string& name, int exit_code, const std::string& reason,
                       int signal = 0) {
  return R"({"name":")" + name + R"(","ready":false,"restartCount":0,"image":"x","imageID":"",)" +
         R"("state":{"terminated":{"exitCode":)" + std::to_string(exit_code) + R"(,"signal":)" +
         std::to_string(signal) + R"(,"reason":")" + reason + R"("}}})";
}

struct PodCase {
  const char* name;
  std::string spec;
  std::string status;
  std::string extra_metadata;
  std::vector<std::string> cells;  // Name, Ready, Status, Restarts, Age
};

TEST(PodPrinterTest, StatusReadyAndRestartsAsUpstreamComputesThem) {
  const PodCase cases[] = {
      {"pending",
       kOneContainer,
       R"({"phase":"Pending"})",
       "",
       {"web", "0/1", "Pending", "0", "90s"}},
      {"scheduling gated",
       kOneContainer,
       R"({"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False",)"
       R"("reason":"SchedulingGated"}]})",
       "",
       {"web", "0/1", "SchedulingGated", "0", "90s"}},
      {"container creating",
       kOneContainer,
       R"({"phase":"Pending","containerStatuses":[)" + Waiting("app", "ContainerCreating") + "]}",
       "",
       {"web", "0/1", "ContainerCreating", "0", "90s"}},
      {"running",
       kOneContainer,
       R"({"phase":"Running","containerStatuses":[)" + Running("app", true) + "]}",
       "",
       {"web", "1/1", "Running", "0", "90s"}},
      {"running not ready",
       kTwoContainers,
       R"({"phase":"Running","containerStatuses":[)" + Running("app", true) + "," +
           Running("job", false) + "]}",
       "",
       {"web", "1/2", "Running", "0", "90s"}},
      {"completed",
       kOneContainer,
       R"({"phase":"Succeeded","containerStatuses":[)" + Terminated("app", 0, "Completed") + "]}",
       "",
       {"web", "0/1", "Completed", "0", "90s"}},
      {"error",
       kOneContainer,
       R"({"phase":"Failed","containerStatuses":[)" + Terminated("app", 1, "Error") + "]}",
       "",
       {"web", "0/1", "Error", "0", "90s"}},
      {"exit code without reason",
       kOneContainer,
       R"({"phase":"Failed","containerStatuses":[)" + Terminated("app", 2, "") + "]}",
       "",
       {"web", "0/1", "ExitCode:2", "0", "90s"}},
      {"signal without reason",
       kOneContainer,
       R"({"phase":"Failed","containerStatuses":[)" + Terminated("app", 137, "", 9) + "]}",
       "",
       {"web", "0/1", "Signal:9", "0", "90s"}},
      {"crash loop",
       kOneContainer,
       R"({"phase":"Running","containerStatuses":[)" +
           Waiting("app", "CrashLoopBackOff", 3, k2MinutesAgo) + "]}",
       "",
       {"web", "0/1", "CrashLoopBackOff", "3 (2m ago)", "90s"}},
      {"not ready after one container completed",
       kTwoContainers,
       R"({"phase":"Running","containerStatuses":[)" + Running("app", true) + "," +
           Terminated("job", 0, "Completed") + "]}",
       "",
       {"web", "1/2", "NotReady", "0", "90s"}},
      {"running after one container completed",
       kTwoContainers,
       R"({"phase":"Running","conditions":[{"type":"Ready","status":"True"}],)"
       R"("containerStatuses":[)" +
           Running("app", true) + "," + Terminated("job", 0, "Completed") + "]}",
       "",
       {"web", "1/2", "Running", "0", "90s"}},
      {"terminating",
       kOneContainer,
       R"({"phase":"Running","containerStatuses":[)" + Running("app", true) + "]}",
       std::string(R"(,"deletionTimestamp":")") + k90SecondsAgo + "\"",
       {"web", "1/1", "Terminating", "0", "90s"}},
      {"terminated pod being deleted keeps its status",
       kOneContainer,
       R"({"phase":"Succeeded","containerStatuses":[)" + Terminated("app", 0, "Completed") + "]}",
       std::string(R"(,"deletionTimestamp":")") + k90SecondsAgo + "\"",
       {"web", "0/1", "Completed", "0", "90s"}},
      {"node lost",
       kOneContainer,
       R"({"phase":"Running","reason":"NodeLost","containerStatuses":[)" + Running("app", true) +
           "]}",
       std::string(R"(,"deletionTimestamp":")") + k90SecondsAgo + "\"",
       {"web", "1/1", "Unknown", "0", "90s"}},
      {"evicted",
       kOneContainer,
       R"({"phase":"Failed","reason":"Evicted","message":"The node was low on memory."})",
       "",
       {"web", "0/1", "Evicted", "0", "90s"}},
      {"init running",
       kOneInit,
       R"({"phase":"Pending","initContainerStatuses":[)" + Running("setup", false) +
           R"(],"containerStatuses":[)" + Waiting("app", "PodInitializing") + "]}",
       "",
       {"web", "0/1", "Init:0/1", "0", "90s"}},
      {"init error",
       kOneInit,
       R"({"phase":"Pending","initContainerStatuses":[)" + Terminated("setup", 1, "Error") +
           R"(],"containerStatuses":[)" + Waiting("app", "PodInitializing") + "]}",
       "",
       {"web", "0/1", "Init:Error", "0", "90s"}},
      {"init exit code",
       kOneInit,
       R"({"phase":"Pending","initContainerStatuses":[)" + Terminated("setup", 3, "") + "]}",
       "",
       {"web", "0/1", "Init:ExitCode:3", "0", "90s"}},
      {"init crash loop",
       kOneInit,
       R"({"phase":"Pending","initContainerStatuses":[)" +
           Waiting("setup", "CrashLoopBackOff", 4, k2MinutesAgo) + "]}",
       "",
       {"web", "0/1", "Init:CrashLoopBackOff", "4 (2m ago)", "90s"}},
      {"pod initializing",
       kOneInit,
       R"({"phase":"Pending","initContainerStatuses":[)" + Terminated("setup", 0, "Completed") +
           R"(],"containerStatuses":[)" + Waiting("app", "PodInitializing") + "]}",
       "",
       {"web", "0/1", "PodInitializing", "0", "90s"}},
      {"sidecar running",
       kSidecar,
       R"({"phase":"Running","conditions":[{"type":"Initialized","status":"True"},)"
       R"({"type":"Ready","status":"True"}],"initContainerStatuses":[)" +
           Running("proxy", true, 2, k2MinutesAgo) + R"(],"containerStatuses":[)" +
           Running("app", true) + "]}",
       "",
       {"web", "2/2", "Running", "2 (2m ago)", "90s"}},
      {"sidecar started, app waiting",
       kSidecar,
       R"({"phase":"Pending","initContainerStatuses":[)" + Running("proxy", false) +
           R"(],"containerStatuses":[)" + Waiting("app", "ContainerCreating") + "]}",
       "",
       {"web", "0/2", "ContainerCreating", "0", "90s"}},
  };
  const api::KindInfo& pod = Kind("", "v1", "Pod");
  for (const auto& test : cases) {
    SCOPED_TRACE(test.name);
    auto table = PrintOne(pod, PodJson(test.spec, test.status, test.extra_metadata));
    auto cells = Cells(table);
    ASSERT_EQ(cells.size(), 9u);
    cells.resize(5);
    EXPECT_THAT(cells, ElementsAreArray(test.cells));
  }
}

TEST(PodPrinterTest, ColumnsAndWideCells) {
  auto table = PrintOne(
      Kind("", "v1", "Pod"),
      PodJson(R"({"nodeName":"node-1","readinessGates":[{"conditionType":"example.com/lb"}],)"
              R"("containers":[{"name":"app","image":"nginx"}]})",
              R"({"phase":"Running","podIP":"10.42.0.7","podIPs":[{"ip":"10.42.0.7"}],)"
              R"("nominatedNodeName":"node-2","conditions":[{"type":"example.com/lb",)"
              R"("status":"True"}],"containerStatuses":[)" +
                  Running("app", true) + "]}"));
  EXPECT_THAT(Columns(table), ElementsAre("Name", "Ready", "Status", "Restarts", "Age", "IP*",
                                          "Node*", "Nominated Node*", "Readiness Gates*"));
  EXPECT_THAT(Cells(table), ElementsAre("web", "1/1", "Running", "0", "90s", "10.42.0.7", "node-1",
                                        "node-2", "1/1"));
  EXPECT_EQ(table.at("kind"), "Table");
  EXPECT_EQ(table.at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_EQ(table.at("metadata").at("resourceVersion"), "42");
  const auto& object = table.at("rows").at(0).at("object");
  EXPECT_EQ(object.at("kind"), "PartialObjectMetadata");
  EXPECT_EQ(object.at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_EQ(object.at("metadata").at("namespace"), "default");

  auto pending = PrintOne(Kind("", "v1", "Pod"), PodJson(kOneContainer, R"({"phase":"Pending"})"));
  EXPECT_THAT(Cells(pending), ElementsAre("web", "0/1", "Pending", "0", "90s", "<none>", "<none>",
                                          "<none>", "<none>"));
}

TEST(PodPrinterTest, FinishedPodsCarryTheCompletedRowCondition) {
  auto table = PrintOne(Kind("", "v1", "Pod"),
                        PodJson(kOneContainer, R"({"phase":"Succeeded","containerStatuses":[)" +
                                                   Terminated("app", 0, "Completed") + "]}"));
  const auto& condition = table.at("rows").at(0).at("conditions").at(0);
  EXPECT_EQ(condition.at("type"), "Completed");
  EXPECT_EQ(condition.at("status"), "True");
  EXPECT_EQ(condition.at("reason"), "Succeeded");
}

// --- includeObject ---------------------------------------------------------------------------

TEST(TableOptionsTest, IncludeObjectChoosesWhatEachRowCarries) {
  const std::string json = R"({"metadata":{"name":"settings","namespace":"default"},)"
                           R"("data":{"a":"1"}})";
  const api::KindInfo& config_map = Kind("", "v1", "ConfigMap");
  auto whole = PrintOne(config_map, json, {IncludeObject::kObject, false});
  const auto& object = whole.at("rows").at(0).at("object");
  EXPECT_EQ(object.at("kind"), "ConfigMap");
  EXPECT_EQ(object.at("apiVersion"), "v1");
  EXPECT_EQ(object.at("data").at("a"), "1");

  auto none = PrintOne(config_map, json, {IncludeObject::kNone, false});
  EXPECT_TRUE(none.at("rows").at(0).at("object").is_null());

  auto no_headers = PrintOne(config_map, json, {IncludeObject::kMetadata, true});
  EXPECT_TRUE(no_headers.at("columnDefinitions").as_array().empty());
  EXPECT_EQ(no_headers.at("rows").at(0).at("cells").as_array().size(), 3u);
}

TEST(TableOptionsTest, ParsesIncludeObjectLikeUpstream) {
  EXPECT_EQ(*ParseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Metadata"), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Object"), IncludeObject::kObject);
  EXPECT_EQ(*ParseIncludeObject("None"), IncludeObject::kNone);
  auto bad = ParseIncludeObject("Everything");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(bad.error().message(),
            "Unable to convert to Table as requested: includeObject: Invalid value: "
            "\"Everything\": must be 'Metadata', 'Object', 'None', or empty");
}

TEST(GenericPrinterTest, KindsWithoutColumnsGetNameAndCreatedAt) {
  auto table = PrintOne(
      Kind("rbac.authorization.k8s.io", "v1", "ClusterRole"),
      std::string(R"({"metadata":{"name":"view","creationTimestamp":")") + k3DaysAgo + "\"}}");
  EXPECT_THAT(Columns(table), ElementsAre("Name", "Created At"));
  EXPECT_EQ(table.at("columnDefinitions").at(1).at("type"), "date");
  EXPECT_THAT(Cells(table), ElementsAre("view", k3DaysAgo));
  EXPECT_EQ(FindPrinter("", "LimitRange"), nullptr);
  EXPECT_EQ(FindPrinter("apiextensions.k8s.io", "CustomResourceDefinition"), nullptr);
}

// --- Node ------------------------------------------------------------------------------------

TEST(NodePrinterTest, StatusRolesAndWideCells) {
  const std::string node =
      std::string(R"({"metadata":{"name":"node-1","creationTimestamp":")") + k3DaysAgo +
      R"(","labels":{"node-role.kubernetes.io/control-plane":"","kubernetes.io/role":"worker",)"
      R"("node-role.kubernetes.io/etcd":"true"}},"spec":{"unschedulable":true},)"
      R"("status":{"conditions":[{"type":"MemoryPressure","status":"False"},)"
      R"({"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP",)"
      R"("address":"192.168.1.10"},{"type":"Hostname","address":"node-1"}],)"
      R"("nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"6.1.0-18-amd64",)"
      R"j("osImage":"Debian GNU/Linux 12 (bookworm)","containerRuntimeVersion":"containerd://1.6.20",)j"
      R"("kubeletVersion":"v1.32.0","kubeProxyVersion":"","operatingSystem":"linux",)"
      R"("architecture":"amd64"}}})";
  auto table = PrintOne(Kind("", "v1", "Node"), node);
  EXPECT_THAT(Columns(table),
              ElementsAre("Name", "Status", "Roles", "Age", "Version", "Internal-IP*",
                          "External-IP*", "OS-Image*", "Kernel-Version*", "Container-Runtime*"));
  EXPECT_THAT(Cells(table),
              ElementsAre("node-1", "Ready,SchedulingDisabled", "control-plane,etcd,worker", "3d",
                          "v1.32.0", "192.168.1.10", "<none>", "Debian GNU/Linux 12 (bookworm)",
                          "6.1.0-18-amd64", "containerd://1.6.20"));

  EXPECT_THAT(Print("", "v1", "Node",
                    R"({"metadata":{"name":"n"},"status":{"conditions":[{"type":"Ready",)"
                    R"("status":"Unknown"}]}})"),
              ElementsAre("n", "NotReady", "<none>", "<unknown>", "", "<none>", "<none>",
                          "<unknown>", "<unknown>", "<unknown>"));
  EXPECT_EQ(Print("", "v1", "Node", R"({"metadata":{"name":"n"}})")[1], "Unknown");
}

// --- Service, Endpoints ----------------------------------------------------------------------

TEST(ServicePrinterTest, TypesAddressesAndPorts) {
  const auto service = [](const std::string& spec, const std::string& status = "{}") {
    return std::string(R"({"metadata":{"name":"web","creationTimestamp":")") + k5HoursAgo +
           R"("},"spec":)" + spec + R"(,"status":)" + status + "}";
  };
  auto table =
      PrintOne(Kind("", "v1", "Service"),
               service(R"({"type":"ClusterIP","clusterIP":"10.43.0.10",)"
                       R"("clusterIPs":["10.43.0.10"],"selector":{"app":"web","tier":"fe"},)"
                       R"("ports":[{"port":80,"protocol":"TCP"},{"port":53,)"
                       R"("protocol":"UDP"}]})"));
  EXPECT_THAT(Columns(table), ElementsAre("Name", "Type", "Cluster-IP", "External-IP", "Port(s)",
                                          "Age", "Selector*"));
  EXPECT_THAT(Cells(table), ElementsAre("web", "ClusterIP", "10.43.0.10", "<none>", "80/TCP,53/UDP",
                                        "5h", "app=web,tier=fe"));
  EXPECT_THAT(
      Print("", "v1", "Service",
            service(R"({"type":"NodePort","clusterIPs":["10.43.0.11"],)"
                    R"("externalIPs":["1.2.3.4"],"ports":[{"port":80,"protocol":"TCP",)"
                    R"("nodePort":30080}]})")),
      ElementsAre("web", "NodePort", "10.43.0.11", "1.2.3.4", "80:30080/TCP", "5h", "<none>"));
  EXPECT_THAT(Print("", "v1", "Service",
                    service(R"({"type":"LoadBalancer","clusterIPs":["10.43.0.12"],)"
                            R"("ports":[{"port":443,"protocol":"TCP","nodePort":31443}]})")),
              ElementsAre("web", "LoadBalancer", "10.43.0.12", "<pending>", "443:31443/TCP", "5h",
                          "<none>"));
  EXPECT_THAT(Print("", "v1", "Service",
                    service(R"({"type":"LoadBalancer","clusterIPs":["10.43.0.12"],)"
                            R"("ports":[{"port":443,"protocol":"TCP","nodePort":31443}]})",
                            R"({"loadBalancer":{"ingress":[{"ip":"203.0.113.9"},)"
                            R"({"hostname":"lb.example.com"}]}})"))[3],
              "203.0.113.9,lb.example.com");
  EXPECT_THAT(
      Print("", "v1", "Service",
            service(R"({"type":"ExternalName","externalName":"db.example.com"})")),
      ElementsAre("web", "ExternalName", "<none>", "db.example.com", "<none>", "5h", "<none>"));
}

TEST(EndpointsPrinterTest, ShowsThreeAddressesThenACount) {
  EXPECT_THAT(
      Print("", "v1", "Endpoints",
            R"({"metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"10.42.0.1"},)"
            R"({"ip":"10.42.0.2"},{"ip":"10.42.0.3"},{"ip":"10.42.0.4"}],"ports":[{"port":8080,)"
            R"("protocol":"TCP"}]}]})"),
      ElementsAre("web", "10.42.0.1:8080,10.42.0.2:8080,10.42.0.3:8080 + 1 more...", "<unknown>"));
  EXPECT_THAT(Print("", "v1", "Endpoints", R"({"metadata":{"name":"none"}})"),
              ElementsAre("none", "<none>", "<unknown>"));
}

// --- the other core kinds --------------------------------------------------------------------

TEST(CorePrintersTest, SmallKinds) {
  const std::string created = std::string(R"("creationTimestamp":")") + k90SecondsAgo + "\"";
  EXPECT_THAT(
      Print("", "v1", "Namespace",
            R"({"metadata":{"name":"team",)" + created + R"(},"status":{"phase":"Active"}})"),
      ElementsAre("team", "Active", "90s"));
  EXPECT_THAT(Print("", "v1", "ConfigMap",
                    R"({"metadata":{"name":"c",)" + created +
                        R"(},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})"),
              ElementsAre("c", "3", "90s"));
  EXPECT_THAT(
      Print("", "v1", "Secret",
            R"({"metadata":{"name":"s",)" + created +
                R"(},"type":"kubernetes.io/tls","data":{"tls.crt":"AA==","tls.key":"AA=="}})"),
      ElementsAre("s", "kubernetes.io/tls", "2", "90s"));
  EXPECT_THAT(
      Print("", "v1", "ServiceAccount", R"({"metadata":{"name":"default",)" + created + "}}"),
      ElementsAre("default", "0", "90s"));
  EXPECT_THAT(Print("", "v1", "PodTemplate",
                    R"({"metadata":{"name":"t"},"template":{"metadata":{"labels":{"app":"x"}},)"
                    R"("spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b",)"
                    R"("image":"busybox"}]}}})"),
              ElementsAre("t", "a,b", "nginx,busybox", "app=x"));
  auto rc = PrintOne(Kind("", "v1", "ReplicationController"),
                     R"({"metadata":{"name":"rc",)" + created +
                         R"(},"spec":{"replicas":3,"selector":{"app":"x"},"template":)"
                         R"({"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"a",)"
                         R"("image":"nginx"}]}}},"status":{"replicas":3,"readyReplicas":2}})");
  EXPECT_THAT(Columns(rc), ElementsAre("Name", "Desired", "Current", "Ready", "Age", "Containers*",
                                       "Images*", "Selector*"));
  EXPECT_THAT(Cells(rc), ElementsAre("rc", "3", "3", "2", "90s", "a", "nginx", "app=x"));
}

TEST(CorePrintersTest, VolumesAndClaims) {
  auto pv = PrintOne(
      Kind("", "v1", "PersistentVolume"),
      R"({"metadata":{"name":"pv1"},"spec":{"capacity":{"storage":"10Gi"},)"
      R"("accessModes":["ReadWriteMany","ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain",)"
      R"("storageClassName":"fast","claimRef":{"namespace":"default","name":"data"},)"
      R"("volumeMode":"Filesystem","hostPath":{"path":"/data"}},"status":{"phase":"Bound"}})");
  EXPECT_THAT(Columns(pv),
              ElementsAre("Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim",
                          "StorageClass", "VolumeAttributesClass", "Reason", "Age", "VolumeMode*"));
  EXPECT_THAT(Cells(pv), ElementsAre("pv1", "10Gi", "RWO,RWX", "Retain", "Bound", "default/data",
                                     "fast", "<unset>", "", "<unknown>", "Filesystem"));
  auto pvc = PrintOne(
      Kind("", "v1", "PersistentVolumeClaim"),
      R"({"metadata":{"name":"data","annotations":{"volume.beta.kubernetes.io/storage-class":)"
      R"("old"}},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":)"
      R"({"storage":"1Gi"}},"volumeName":"pv1","storageClassName":"fast"},)"
      R"("status":{"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"10Gi"}}})");
  EXPECT_THAT(Cells(pvc), ElementsAre("data", "Bound", "pv1", "10Gi", "RWO", "old", "<unset>",
                                      "<unknown>", "Filesystem"));
  EXPECT_THAT(Print("", "v1", "PersistentVolumeClaim",
                    R"({"metadata":{"name":"wait"},"spec":{"accessModes":["ReadWriteOnce"],)"
                    R"("resources":{"requests":{"storage":"1Gi"}}},"status":{"phase":"Pending"}})"),
              ElementsAre("wait", "Pending", "", "", "", "", "<unset>", "<unknown>", "Filesystem"));
}

TEST(CorePrintersTest, ResourceQuotaSplitsRequestsAndLimits) {
  auto table =
      PrintOne(Kind("", "v1", "ResourceQuota"),
               R"({"metadata":{"name":"compute"},"spec":{"hard":{"cpu":"1"}},"status":{"hard":)"
               R"({"requests.cpu":"1","requests.memory":"1Gi","limits.cpu":"2","pods":"10"},)"
               R"("used":{"requests.cpu":"500m","limits.cpu":"0","pods":"3"}}})");
  EXPECT_THAT(Columns(table), ElementsAre("Name", "Age", "Request", "Limit"));
  EXPECT_THAT(Cells(table), ElementsAre("compute", "<unknown>",
                                        "pods: 3/10, requests.cpu: 500m/1, requests.memory: 0/1Gi",
                                        "limits.cpu: 0/2"));
}

TEST(EventPrinterTest, CoreAndEventsGroupEvents) {
  const std::string core_event =
      std::string(R"({"metadata":{"name":"web.17a","namespace":"default"},)") +
      R"("involvedObject":{"kind":"Pod","namespace":"default","name":"web",)"
      R"("fieldPath":"spec.containers{app}"},"reason":"Pulled","message":"  Image pulled \n",)"
      R"("source":{"component":"kubelet","host":"node-1"},"firstTimestamp":")" +
      k5HoursAgo + R"(","lastTimestamp":")" + k2MinutesAgo + R"(","count":4,"type":"Normal"})";
  auto table = PrintOne(Kind("", "v1", "Event"), core_event);
  EXPECT_THAT(Columns(table), ElementsAre("Last Seen", "Type", "Reason", "Object", "Subobject*",
                                          "Source*", "Message", "First Seen*", "Count*", "Name*"));
  EXPECT_THAT(Cells(table), ElementsAre("2m", "Normal", "Pulled", "pod/web", "spec.containers{app}",
                                        "kubelet, node-1", "Image pulled", "5h", "4", "web.17a"));
  const std::string new_event =
      std::string(R"({"metadata":{"name":"e"},"eventTime":"2023-11-14T22:11:50.000000Z",)") +
      R"("reportingController":"default-scheduler","reportingInstance":"sched-1","action":"Binding",)"
      R"("reason":"Scheduled","regarding":{"kind":"Pod","name":"web"},"note":"Assigned",)"
      R"("type":"Normal"})";
  EXPECT_THAT(Print("events.k8s.io", "v1", "Event", new_event),
              ElementsAre("90s", "Normal", "Scheduled", "pod/web", "", "default-scheduler, sched-1",
                          "Assigned", "90s", "1", "e"));
}

// --- apps and batch --------------------------------------------------------------------------

const std::string kTemplate =
    R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[)"
    R"({"name":"nginx","image":"nginx:1.25"},{"name":"log","image":"busybox"}]}})";

TEST(AppsPrintersTest, DeploymentReplicaSetStatefulSetDaemonSet) {
  const std::string metadata = std::string(R"("metadata":{"name":"web","creationTimestamp":")") +
                               k5HoursAgo + R"(","namespace":"default"})";
  auto deployment =
      PrintOne(Kind("apps", "v1", "Deployment"),
               "{" + metadata +
                   R"(,"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"},)"
                   R"("matchExpressions":[{"key":"tier","operator":"In","values":["fe","be"]}]},)" +
                   kTemplate +
                   R"(},"status":{"replicas":3,"updatedReplicas":3,"readyReplicas":2,)"
                   R"("availableReplicas":2}})");
  EXPECT_THAT(Columns(deployment), ElementsAre("Name", "Ready", "Up-to-date", "Available", "Age",
                                               "Containers*", "Images*", "Selector*"));
  EXPECT_THAT(Cells(deployment), ElementsAre("web", "2/3", "3", "2", "5h", "nginx,log",
                                             "nginx:1.25,busybox", "app=web,tier in (be,fe)"));
  auto replica_set = PrintOne(
      Kind("apps", "v1", "ReplicaSet"),
      "{" + metadata + R"(,"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},)" +
          kTemplate + R"(},"status":{"replicas":2,"readyReplicas":1}})");
  EXPECT_THAT(Columns(replica_set), ElementsAre("Name", "Desired", "Current", "Ready", "Age",
                                                "Containers*", "Images*", "Selector*"));
  EXPECT_THAT(Cells(replica_set), ElementsAre("web", "2", "2", "1", "5h", "nginx,log",
                                              "nginx:1.25,busybox", "app=web"));
  EXPECT_THAT(Print("apps", "v1", "StatefulSet",
                    "{" + metadata +
                        R"(,"spec":{"replicas":3,"serviceName":"web","selector":{"matchLabels":)"
                        R"({"app":"web"}},)" +
                        kTemplate + R"(},"status":{"replicas":3,"readyReplicas":3}})"),
              ElementsAre("web", "3/3", "5h", "nginx,log", "nginx:1.25,busybox"));
  auto daemon_set = PrintOne(
      Kind("apps", "v1", "DaemonSet"),
      "{" + metadata + R"(,"spec":{"selector":{"matchLabels":{"app":"web"}},)" + kTemplate +
          R"(},"status":{"desiredNumberScheduled":2,"currentNumberScheduled":2,"numberReady":1,)"
          R"("updatedNumberScheduled":2,"numberAvailable":1,"numberMisscheduled":0}})");
  EXPECT_THAT(Columns(daemon_set),
              ElementsAre("Name", "Desired", "Current", "Ready", "Up-to-date", "Available",
                          "Node Selector", "Age", "Containers*", "Images*", "Selector*"));
  EXPECT_THAT(Cells(daemon_set), ElementsAre("web", "2", "2", "1", "2", "1", "<none>", "5h",
                                             "nginx,log", "nginx:1.25,busybox", "app=web"));
  EXPECT_THAT(Print("apps", "v1", "ControllerRevision",
                    R"({"metadata":{"name":"web-5d4f","ownerReferences":[{"apiVersion":"apps/v1",)"
                    R"("kind":"DaemonSet","name":"web","uid":"u","controller":true}]},)"
                    R"("revision":2})"),
              ElementsAre("web-5d4f", "daemonset.apps/web", "2", "<unknown>"));
}

TEST(BatchPrintersTest, JobStatusCompletionsAndDuration) {
  const std::string job_spec = R"("spec":{"completions":3,"parallelism":2,"selector":)"
                               R"({"matchLabels":{"batch.kubernetes.io/job-name":"pi"}},)"
                               R"("template":{"spec":{"restartPolicy":"Never","containers":)"
                               R"([{"name":"pi","image":"perl"}]}}})";
  auto running = PrintOne(Kind("batch", "v1", "Job"),
                          std::string(R"({"metadata":{"name":"pi","creationTimestamp":")") +
                              k5HoursAgo + R"("},)" + job_spec + R"(,"status":{"startTime":")" +
                              k2MinutesAgo + R"(","active":2,"succeeded":1}})");
  EXPECT_THAT(Columns(running), ElementsAre("Name", "Status", "Completions", "Duration", "Age",
                                            "Containers*", "Images*", "Selector*"));
  EXPECT_THAT(Cells(running), ElementsAre("pi", "Running", "1/3", "2m", "5h", "pi", "perl",
                                          "batch.kubernetes.io/job-name=pi"));
  auto complete =
      Print("batch", "v1", "Job",
            std::string(R"({"metadata":{"name":"pi"},"spec":{"template":{"spec":)") +
                R"({"restartPolicy":"Never","containers":[{"name":"pi","image":"perl"}]}}},)"
                R"("status":{"startTime":")" +
                k5HoursAgo +
                R"(","completionTime":"2023-11-14T17:14:05Z",)"
                R"("succeeded":1,"conditions":[{"type":"Complete","status":"True"}]}})");
  EXPECT_EQ(complete[1], "Complete");
  EXPECT_EQ(complete[2], "1/1");
  EXPECT_EQ(complete[3], "45s");
  EXPECT_EQ(Print("batch", "v1", "Job",
                  R"({"metadata":{"name":"j"},"spec":{"parallelism":4,"template":{"spec":)"
                  R"({"restartPolicy":"Never","containers":[{"name":"a","image":"b"}]}}},)"
                  R"("status":{"conditions":[{"type":"Failed","status":"True"}]}})")[1],
            "Failed");
  EXPECT_EQ(Print("batch", "v1", "Job",
                  R"({"metadata":{"name":"j"},"spec":{"parallelism":4,"template":{"spec":)"
                  R"({"restartPolicy":"Never","containers":[{"name":"a","image":"b"}]}}}})")[2],
            "0/1 of 4");
}

TEST(BatchPrintersTest, CronJob) {
  auto table = PrintOne(
      Kind("batch", "v1", "CronJob"),
      std::string(R"({"metadata":{"name":"nightly"},"spec":{"schedule":"0 3 * * *",)") +
          R"("timeZone":"Etc/UTC","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":)"
          R"("OnFailure","containers":[{"name":"backup","image":"restic"}]}}}}},)"
          R"("status":{"lastScheduleTime":")" +
          k5HoursAgo + R"(","active":[{"name":"nightly-1"}]}})");
  EXPECT_THAT(Columns(table),
              ElementsAre("Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule",
                          "Age", "Containers*", "Images*", "Selector*"));
  EXPECT_THAT(Cells(table), ElementsAre("nightly", "0 3 * * *", "Etc/UTC", "False", "1", "5h",
                                        "<unknown>", "backup", "restic", "<none>"));
}

// --- other groups ----------------------------------------------------------------------------

TEST(OtherPrintersTest, NetworkingStorageAndPolicy) {
  EXPECT_THAT(Print("networking.k8s.io", "v1", "Ingress",
                    R"({"metadata":{"name":"web"},"spec":{"ingressClassName":"nginx","tls":[)"
                    R"({"hosts":["a.example.com"]}],"rules":[{"host":"a.example.com"},)"
                    R"({"host":"b.example.com"}]},"status":{"loadBalancer":{"ingress":[)"
                    R"({"ip":"192.168.1.10"}]}}})"),
              ElementsAre("web", "nginx", "a.example.com,b.example.com", "192.168.1.10", "80, 443",
                          "<unknown>"));
  EXPECT_THAT(Print("networking.k8s.io", "v1", "NetworkPolicy",
                    R"({"metadata":{"name":"deny"},"spec":{"podSelector":{}}})"),
              ElementsAre("deny", "<none>", "<unknown>"));
  EXPECT_THAT(Print("discovery.k8s.io", "v1", "EndpointSlice",
                    R"({"metadata":{"name":"web-x"},"addressType":"IPv4","ports":[{"port":80},)"
                    R"({"name":"metrics"}],"endpoints":[{"addresses":["10.42.0.5"]}]})"),
              ElementsAre("web-x", "IPv4", "80,metrics", "10.42.0.5", "<unknown>"));
  EXPECT_THAT(Print("storage.k8s.io", "v1", "StorageClass",
                    R"({"metadata":{"name":"local-path","annotations":{)"
                    R"("storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":)"
                    R"("rancher.io/local-path","volumeBindingMode":"WaitForFirstConsumer"})"),
              ElementsAre("local-path (default)", "rancher.io/local-path", "Delete",
                          "WaitForFirstConsumer", "false", "<unknown>"));
  EXPECT_THAT(Print("policy", "v1", "PodDisruptionBudget",
                    R"({"metadata":{"name":"web"},"spec":{"minAvailable":"50%"},)"
                    R"("status":{"disruptionsAllowed":1,"currentHealthy":2,"desiredHealthy":1,)"
                    R"("expectedPods":2}})"),
              ElementsAre("web", "50%", "N/A", "1", "<unknown>"));
  EXPECT_THAT(Print("rbac.authorization.k8s.io", "v1", "RoleBinding",
                    R"({"metadata":{"name":"read"},"roleRef":{"apiGroup":)"
                    R"("rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},)"
                    R"("subjects":[{"kind":"User","name":"jane"},{"kind":"ServiceAccount",)"
                    R"("name":"ci","namespace":"build"},{"kind":"User","name":"joe"}]})"),
              ElementsAre("read", "ClusterRole/view", "<unknown>", "jane, joe", "", "build/ci"));
  EXPECT_THAT(Print("scheduling.k8s.io", "v1", "PriorityClass",
                    R"({"metadata":{"name":"high"},"value":1000000,"globalDefault":false})"),
              ElementsAre("high", "1000000", "false", "<unknown>", "PreemptLowerPriority"));
  EXPECT_THAT(Print("certificates.k8s.io", "v1", "CertificateSigningRequest",
                    R"({"metadata":{"name":"csr-1"},"spec":{"request":"AA==","signerName":)"
                    R"("kubernetes.io/kube-apiserver-client","expirationSeconds":86400,)"
                    R"("username":"jane","usages":["client auth"]},"status":{"conditions":)"
                    R"([{"type":"Approved","status":"True"}],"certificate":"AA=="}})"),
              ElementsAre("csr-1", "<unknown>", "kubernetes.io/kube-apiserver-client", "jane",
                          "24h", "Approved,Issued"));
  EXPECT_THAT(Print("coordination.k8s.io", "v1", "Lease",
                    R"({"metadata":{"name":"node-1"},"spec":{"holderIdentity":"node-1"}})"),
              ElementsAre("node-1", "node-1", "<unknown>"));
}

TEST(OtherPrintersTest, HorizontalPodAutoscalerInEveryServedVersion) {
  EXPECT_THAT(
      Print("autoscaling", "v2", "HorizontalPodAutoscaler",
            R"({"metadata":{"name":"web"},"spec":{"scaleTargetRef":{"kind":"Deployment",)"
            R"("name":"web","apiVersion":"apps/v1"},"minReplicas":2,"maxReplicas":10,"metrics":[)"
            R"({"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization",)"
            R"("averageUtilization":60}}},{"type":"Resource","resource":{"name":"memory",)"
            R"("target":{"type":"AverageValue","averageValue":"500Mi"}}}]},"status":{)"
            R"("currentReplicas":3,"desiredReplicas":3,"currentMetrics":[{"type":"Resource",)"
            R"("resource":{"name":"cpu","current":{"averageUtilization":45}}}]}})"),
      ElementsAre("web", "Deployment/web", "cpu: 45%/60%, memory: <unknown>/500Mi", "2", "10", "3",
                  "<unknown>"));
  // autoscaling/v1 objects are printed from their stored (v2) form, as upstream prints the
  // internal version.
  EXPECT_THAT(
      Print("autoscaling", "v1", "HorizontalPodAutoscaler",
            R"({"metadata":{"name":"web"},"spec":{"scaleTargetRef":{"kind":"Deployment",)"
            R"("name":"web"},"maxReplicas":5,"targetCPUUtilizationPercentage":80}})"),
      ElementsAre("web", "Deployment/web", "cpu: <unknown>/80%", "1", "5", "0", "<unknown>"));
}

}  // namespace
}  // namespace kpp::apiserver::printers
