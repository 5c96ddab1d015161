// metrics.k8s.io served from the nodes' usage reports: shapes as metrics-server answers,
// selectors, namespaces, replacement by a newer report and expiry of a silent node.
#include "apiserver/metrics/resource_metrics.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace kpp::apiserver {
namespace {

using namespace std::chrono_literals;

std::string Report(const std::string& node, const std::string& pods) {
  return R"({"apiVersion":"metrics.k8s.io/v1beta1","kind":"NodeMetricsReport","node":{"metadata":{"name":")" +
         node +
         R"(","labels":{"zone":"a"}},"timestamp":"2023-11-14T22:13:20Z","window":"10s","usage":{"cpu":"300m","memory":"64Mi"}},"pods":[)" +
         pods + "]}";
}

std::string Pod(const std::string& ns, const std::string& name, const std::string& app,
                const std::string& cpu) {
  return R"({"metadata":{"namespace":")" + ns + R"(","name":")" + name + R"(","labels":{"app":")" +
         app +
         R"("}},"timestamp":"2023-11-14T22:13:20Z","window":"10s","containers":[{"name":"main","usage":{"cpu":")" +
         cpu + R"(","memory":"32Mi"}}]})";
}

http::Request Get(const std::string& path,
                  std::vector<std::pair<std::string, std::string>> query = {}) {
  return http::Request::LocalJson("GET", path, "", std::move(query));
}

class ResourceMetricsTest : public ::testing::Test {
 protected:
  boost::json::value ServeJson(const http::Request& request, int want_status = 200) {
    auto response = metrics_.Serve(request);
    EXPECT_TRUE(response.has_value());
    if (!response) return nullptr;
    EXPECT_EQ(response->status, want_status) << response->body;
    return boost::json::parse(response->body);
  }
  void PostReport(const std::string& node, const std::string& body) {
    auto response = metrics_.Serve(http::Request::LocalJson(
        "POST", "/apis/metrics.k8s.io/v1beta1/nodes/" + node + "/report", body));
    ASSERT_TRUE(response.has_value());
    ASSERT_EQ(response->status, 201) << response->body;
  }

  FakeClock clock_;
  ResourceMetrics metrics_{clock_};
};

TEST_F(ResourceMetricsTest, ServesPodAndNodeMetricsFromReports) {
  PostReport("node-a", Report("node-a", Pod("default", "web-1", "web", "100m") + "," +
                                            Pod("default", "db-1", "db", "200m")));
  PostReport("node-b", Report("node-b", Pod("other", "web-2", "web", "50m")));

  auto all = ServeJson(Get("/apis/metrics.k8s.io/v1beta1/pods"));
  EXPECT_EQ(all.at("kind"), "PodMetricsList");
  EXPECT_EQ(all.at("apiVersion"), "metrics.k8s.io/v1beta1");
  EXPECT_EQ(all.at("items").as_array().size(), 3u);

  auto web = ServeJson(
      Get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", {{"labelSelector", "app=web"}}));
  ASSERT_EQ(web.at("items").as_array().size(), 1u);
  const auto& item = web.at("items").at(0);
  EXPECT_EQ(item.at("metadata").at("name"), "web-1");
  EXPECT_EQ(item.at("window"), "10s");
  EXPECT_EQ(item.at("containers").at(0).at("usage").at("cpu"), "100m");
  EXPECT_TRUE(item.at("metadata").as_object().contains("creationTimestamp"));

  auto one = ServeJson(Get("/apis/metrics.k8s.io/v1beta1/namespaces/other/pods/web-2"));
  EXPECT_EQ(one.at("kind"), "PodMetrics");
  auto missing = ServeJson(Get("/apis/metrics.k8s.io/v1beta1/namespaces/other/pods/nope"), 404);
  EXPECT_EQ(missing.at("reason"), "NotFound");
  EXPECT_EQ(missing.at("message"), "podmetrics.metrics.k8s.io \"other/nope\" not found");

  auto nodes = ServeJson(Get("/apis/metrics.k8s.io/v1beta1/nodes", {{"labelSelector", "zone=a"}}));
  EXPECT_EQ(nodes.at("kind"), "NodeMetricsList");
  EXPECT_EQ(nodes.at("items").as_array().size(), 2u);
  auto node = ServeJson(Get("/apis/metrics.k8s.io/v1beta1/nodes/node-a"));
  EXPECT_EQ(node.at("usage").at("cpu"), "300m");
  ServeJson(Get("/apis/metrics.k8s.io/v1beta1/nodes/node-c"), 404);
}

TEST_F(ResourceMetricsTest, NewerReportsReplaceOlderAndSilentNodesExpire) {
  PostReport("node-a", Report("node-a", Pod("default", "web-1", "web", "100m")));
  PostReport("node-a", Report("node-a", Pod("default", "web-2", "web", "100m")));
  auto pods = ServeJson(Get("/apis/metrics.k8s.io/v1beta1/pods"));
  ASSERT_EQ(pods.at("items").as_array().size(), 1u);
  EXPECT_EQ(pods.at("items").at(0).at("metadata").at("name"), "web-2");
  clock_.Advance(ResourceMetrics::kReportLifetime + 1s);
  EXPECT_TRUE(ServeJson(Get("/apis/metrics.k8s.io/v1beta1/pods")).at("items").as_array().empty());
  EXPECT_TRUE(ServeJson(Get("/apis/metrics.k8s.io/v1beta1/nodes")).at("items").as_array().empty());
}

TEST_F(ResourceMetricsTest, RefusesWritesAndBadReports) {
  EXPECT_FALSE(metrics_.Serve(Get("/apis/apps/v1/deployments")).has_value());
  auto put = metrics_.Serve(
      http::Request::LocalJson("PUT", "/apis/metrics.k8s.io/v1beta1/namespaces/a/pods/b", "{}"));
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->status, 405);
  auto other_node = metrics_.Serve(http::Request::LocalJson(
      "POST", "/apis/metrics.k8s.io/v1beta1/nodes/node-b/report", Report("node-a", "")));
  ASSERT_TRUE(other_node.has_value());
  EXPECT_EQ(other_node->status, 400);
  auto garbage = metrics_.Serve(
      http::Request::LocalJson("POST", "/apis/metrics.k8s.io/v1beta1/nodes/node-b/report", "[1]"));
  ASSERT_TRUE(garbage.has_value());
  EXPECT_EQ(garbage->status, 400);
}

// metrics-server's Table (what `kubectl get podmetrics` shows): Name, one column per resource
// (a pod's containers summed), Window; rows carry the object's metadata.
TEST_F(ResourceMetricsTest, ServesTablesAsMetricsServer) {
  const std::string two_containers =
      R"({"metadata":{"namespace":"default","name":"web-1","labels":{"app":"web"}},)"
      R"("timestamp":"2023-11-14T22:13:20Z","window":"10s","containers":[)"
      R"({"name":"main","usage":{"cpu":"100m","memory":"32Mi"}},)"
      R"({"name":"sidecar","usage":{"cpu":"150m","memory":"32Mi"}}]})";
  PostReport("node-a", Report("node-a", two_containers));
  auto as_table = [](http::Request request, std::string include = "") {
    for (auto& header : request.headers) {
      if (header.name == "Accept") {
        header.value = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
      }
    }
    if (!include.empty()) request.query.emplace_back("includeObject", include);
    return request;
  };
  auto table = ServeJson(as_table(Get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")));
  EXPECT_EQ(table.at("kind"), "Table");
  EXPECT_EQ(table.at("apiVersion"), "meta.k8s.io/v1");
  std::vector<std::string> columns;
  for (const auto& column : table.at("columnDefinitions").as_array()) {
    columns.push_back(std::string(column.at("name").as_string()) + "/" +
                      std::string(column.at("format").as_string()));
  }
  EXPECT_EQ(columns, (std::vector<std::string>{"Name/name", "cpu/quantity", "memory/quantity",
                                               "Window/duration"}));
  ASSERT_EQ(table.at("rows").as_array().size(), 1u);
  const auto& row = table.at("rows").at(0);
  EXPECT_EQ(row.at("cells"), boost::json::parse(R"(["web-1","250m","64Mi","10s"])"));
  EXPECT_EQ(row.at("object").at("kind"), "PartialObjectMetadata");
  EXPECT_EQ(row.at("object").at("metadata").at("name"), "web-1");

  auto nodes = ServeJson(as_table(Get("/apis/metrics.k8s.io/v1beta1/nodes/node-a"), "Object"));
  EXPECT_EQ(nodes.at("rows").at(0).at("cells"),
            boost::json::parse(R"(["node-a","300m","64Mi","10s"])"));
  EXPECT_EQ(nodes.at("rows").at(0).at("object").at("kind"), "NodeMetrics");

  // Nothing to show: no columns, no rows (kubectl prints "No resources found").
  auto empty = ServeJson(as_table(Get("/apis/metrics.k8s.io/v1beta1/namespaces/none/pods")));
  EXPECT_TRUE(empty.at("columnDefinitions").is_null());
  EXPECT_TRUE(empty.at("rows").is_null());
}

}  // namespace
}  // namespace kpp::apiserver
