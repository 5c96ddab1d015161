#include "apiserver/metrics/resource_metrics.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/metrics.k8s.io/v1beta1/codec.h"
#include "api/runtime/object_codec.h"
#include "apimachinery/labels/selector.h"
#include "apimachinery/resource/quantity.h"
#include "apiserver/printers/format.h"
#include "apiserver/printers/printers.h"
#include "apiserver/responses.h"

namespace kpp::apiserver {
namespace {

namespace metrics = api::metrics_k8s_io::v1beta1;

constexpr char kApiVersion[] = "metrics.k8s.io/v1beta1";

std::vector<std::string> SplitPath(std::string_view rest) {
  std::vector<std::string> parts;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (!part.empty()) parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

http::Response MethodNotAllowed() {
  return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                              "the server does not allow this method on the requested resource"));
}

api::Time TimeAt(Clock::TimePoint when) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

Result<labels::Selector> SelectorOf(const http::Request& request) {
  auto text = request.FindQuery("labelSelector");
  return labels::Selector::Parse(text ? *text : std::string_view());
}

bool WantsTable(const http::Request& request) {
  const std::string* accept = request.FindHeader("Accept");
  return accept != nullptr && accept->find("as=Table") != std::string::npos;
}

// What one row of a metrics Table shows: the name, usage per resource, the window, and the
// object the row stands for.
struct MetricsRow {
  std::string name;
  std::map<std::string, api::Quantity> usage;
  std::string window;
  boost::json::value object;
};

// metrics-server's ConvertToTable: Name, one quantity column per resource of the first row
// (sorted), Window; a pod's usage is the sum over its containers. No rows: no columns either.
http::Response MetricsTable(std::vector<MetricsRow> rows, const http::Request& request) {
  auto include = printers::ParseIncludeObject(request.FindQuery("includeObject").value_or(""));
  if (!include.ok()) return StatusResponse(include.error());
  boost::json::object table{{"kind", "Table"},
                            {"apiVersion", "meta.k8s.io/v1"},
                            {"metadata", boost::json::object()},
                            {"columnDefinitions", nullptr},
                            {"rows", nullptr}};
  if (!rows.empty()) {
    std::vector<std::string> resources;
    for (const auto& [resource, quantity] : rows.front().usage)
      resources.push_back(resource);
    boost::json::array columns{boost::json::object{{"name", "Name"},
                                                   {"type", "string"},
                                                   {"format", "name"},
                                                   {"description", "Name of the resource"},
                                                   {"priority", 0}}};
    for (const auto& resource : resources) {
      columns.push_back(boost::json::object{{"name", resource},
                                            {"type", "string"},
                                            {"format", "quantity"},
                                            {"description", ""},
                                            {"priority", 0}});
    }
    columns.push_back(boost::json::object{{"name", "Window"},
                                          {"type", "string"},
                                          {"format", "duration"},
                                          {"description", ""},
                                          {"priority", 0}});
    table["columnDefinitions"] = std::move(columns);
    boost::json::array out;
    for (auto& row : rows) {
      boost::json::array cells{printers::Cell(row.name)};
      for (const auto& resource : resources) {
        auto found = row.usage.find(resource);
        cells.push_back(printers::Cell(
            found == row.usage.end() || found->second.text.empty() ? "0" : found->second.text));
      }
      cells.push_back(printers::Cell(row.window.empty() ? "0s" : row.window));
      boost::json::object item{{"cells", std::move(cells)}};
      switch (*include) {
        case printers::IncludeObject::kNone: break;
        case printers::IncludeObject::kObject: item["object"] = std::move(row.object); break;
        case printers::IncludeObject::kMetadata:
          item["object"] = boost::json::object{{"kind", "PartialObjectMetadata"},
                                               {"apiVersion", "meta.k8s.io/v1"},
                                               {"metadata", row.object.at("metadata")}};
          break;
      }
      out.push_back(std::move(item));
    }
    table["rows"] = std::move(out);
  }
  return JsonResponse(200, boost::json::serialize(table),
                      "application/json;as=Table;v=v1;g=meta.k8s.io");
}

MetricsRow RowOf(const metrics::NodeMetrics& node) {
  return {node.metadata.name, node.usage, node.window, boost::json::parse(api::ToJson(node))};
}

MetricsRow RowOf(const metrics::PodMetrics& pod) {
  std::map<std::string, resource::Quantity> sums;
  for (const auto& container : pod.containers) {
    for (const auto& [name, quantity] : container.usage) {
      auto parsed = resource::Quantity::Parse(quantity.text);
      if (parsed.ok()) sums[name].Add(*parsed);
    }
  }
  std::map<std::string, api::Quantity> usage;
  for (const auto& [name, sum] : sums)
    usage[name].text = sum.String();
  return {pod.metadata.name, std::move(usage), pod.window, boost::json::parse(api::ToJson(pod))};
}

// One metrics object, as JSON or as the Table kubectl asks for.
template <typename Item>
http::Response ItemResponse(Item item, const char* kind, const http::Request& request) {
  item.kind = kind;
  item.api_version = kApiVersion;
  if (WantsTable(request)) return MetricsTable({RowOf(item)}, request);
  return JsonResponse(200, api::ToJson(item));
}

// A list of them: the Table's rows are the items as served one by one.
template <typename List>
http::Response ListResponse(List list, const char* list_kind, const char* item_kind,
                            const http::Request& request) {
  list.kind = list_kind;
  list.api_version = kApiVersion;
  if (WantsTable(request)) {
    std::vector<MetricsRow> rows;
    for (auto& item : list.items) {
      item.kind = item_kind;
      item.api_version = kApiVersion;
      rows.push_back(RowOf(item));
    }
    return MetricsTable(std::move(rows), request);
  }
  return JsonResponse(200, api::ToJson(list));
}

}  // namespace

std::optional<http::Response> ResourceMetrics::Serve(const http::Request& request) {
  std::string_view path = request.path;
  if (!path.starts_with(kPrefix)) return std::nullopt;
  const auto parts = SplitPath(path.substr(kPrefix.size()));
  // nodes | nodes/<name> | nodes/<name>/report | pods | namespaces/<ns>/pods[/<name>]
  if (!parts.empty() && parts[0] == "nodes") {
    if (parts.size() == 3 && parts[2] == "report") {
      if (request.method != "POST") return MethodNotAllowed();
      return Report(parts[1], request);
    }
    if (parts.size() > 2) return std::nullopt;
    if (request.method != "GET") return MethodNotAllowed();
    return ServeNodes(parts.size() == 2 ? parts[1] : "", request);
  }
  if (parts.size() == 1 && parts[0] == "pods") {
    if (request.method != "GET") return MethodNotAllowed();
    return ServePods("", "", request);
  }
  if (parts.size() >= 3 && parts.size() <= 4 && parts[0] == "namespaces" && parts[2] == "pods") {
    if (request.method != "GET") return MethodNotAllowed();
    return ServePods(parts[1], parts.size() == 4 ? parts[3] : "", request);
  }
  return std::nullopt;
}

void ResourceMetrics::DropStale() {
  const auto cutoff = clock_.Now() - kReportLifetime;
  std::erase_if(reports_, [&](const auto& entry) { return entry.second.received < cutoff; });
}

http::Response ResourceMetrics::Report(const std::string& node, const http::Request& request) {
  boost::system::error_code ec;
  auto body = boost::json::parse(request.body, ec);
  if (ec || !body.is_object()) {
    return StatusResponse(BadRequestError("the report must be a JSON object"));
  }
  NodeReport report;
  if (const auto* node_json = body.as_object().if_contains("node")) {
    auto decoded = api::FromJson<metrics::NodeMetrics>(boost::json::serialize(*node_json));
    if (!decoded.ok()) return StatusResponse(BadRequestError(decoded.error().message()));
    report.node = std::move(decoded->object);
  }
  if (const auto* pods = body.as_object().if_contains("pods")) {
    if (!pods->is_array()) return StatusResponse(BadRequestError("pods must be a list"));
    for (const auto& pod : pods->as_array()) {
      auto decoded = api::FromJson<metrics::PodMetrics>(boost::json::serialize(pod));
      if (!decoded.ok()) return StatusResponse(BadRequestError(decoded.error().message()));
      report.pods.push_back(std::move(decoded->object));
    }
  }
  if (!report.node.metadata.name.empty() && report.node.metadata.name != node) {
    return StatusResponse(BadRequestError(fmt::format("the report of node \"{}\" names node \"{}\"",
                                                      node, report.node.metadata.name)));
  }
  report.node.metadata.name = node;
  report.received = clock_.Now();
  // Read-only objects: created when served, as metrics-server stamps them.
  report.node.metadata.resource_version.clear();
  for (auto& pod : report.pods) {
    pod.metadata.resource_version.clear();
    pod.kind.clear();
    pod.api_version.clear();
  }
  report.node.kind.clear();
  report.node.api_version.clear();
  std::lock_guard lock(mutex_);
  reports_[node] = std::move(report);
  return JsonResponse(201,
                      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"})");
}

http::Response ResourceMetrics::ServeNodes(const std::string& name, const http::Request& request) {
  auto selector = SelectorOf(request);
  if (!selector.ok()) return StatusResponse(selector.error());
  const api::Time now = TimeAt(clock_.Now());
  std::lock_guard lock(mutex_);
  DropStale();
  if (!name.empty()) {
    auto it = reports_.find(name);
    if (it == reports_.end()) {
      return StatusResponse(
          NotFoundError(fmt::format("nodemetrics.metrics.k8s.io \"{}\" not found", name)));
    }
    metrics::NodeMetrics node = it->second.node;
    node.metadata.creation_timestamp = now;
    return ItemResponse(std::move(node), "NodeMetrics", request);
  }
  metrics::NodeMetricsList list;
  for (const auto& [node_name, report] : reports_) {
    if (!selector->Matches(report.node.metadata.labels)) continue;
    list.items.push_back(report.node);
    list.items.back().metadata.creation_timestamp = now;
  }
  return ListResponse(std::move(list), "NodeMetricsList", "NodeMetrics", request);
}

http::Response ResourceMetrics::ServePods(const std::string& ns, const std::string& name,
                                          const http::Request& request) {
  auto selector = SelectorOf(request);
  if (!selector.ok()) return StatusResponse(selector.error());
  const api::Time now = TimeAt(clock_.Now());
  std::lock_guard lock(mutex_);
  DropStale();
  std::vector<metrics::PodMetrics> found;
  for (const auto& [node_name, report] : reports_) {
    for (const auto& pod : report.pods) {
      if (!ns.empty() && pod.metadata.namespace_ != ns) continue;
      if (!name.empty() && pod.metadata.name != name) continue;
      if (!selector->Matches(pod.metadata.labels)) continue;
      found.push_back(pod);
      found.back().metadata.creation_timestamp = now;
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(a.metadata.namespace_, a.metadata.name) <
           std::tie(b.metadata.namespace_, b.metadata.name);
  });
  if (!name.empty()) {
    if (found.empty()) {
      return StatusResponse(
          NotFoundError(fmt::format("podmetrics.metrics.k8s.io \"{}/{}\" not found", ns, name)));
    }
    return ItemResponse(std::move(found.front()), "PodMetrics", request);
  }
  metrics::PodMetricsList list;
  list.items = std::move(found);
  return ListResponse(std::move(list), "PodMetricsList", "PodMetrics", request);
}

}  // namespace kpp::apiserver
