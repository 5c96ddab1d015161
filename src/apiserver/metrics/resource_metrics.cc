#include "apiserver/metrics/resource_metrics.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/metrics.k8s.io/v1beta1/codec.h"
#include "api/runtime/object_codec.h"
#include "apimachinery/labels/selector.h"
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
    node.kind = "NodeMetrics";
    node.api_version = kApiVersion;
    node.metadata.creation_timestamp = now;
    return JsonResponse(200, api::ToJson(node));
  }
  metrics::NodeMetricsList list;
  list.kind = "NodeMetricsList";
  list.api_version = kApiVersion;
  for (const auto& [node_name, report] : reports_) {
    if (!selector->Matches(report.node.metadata.labels)) continue;
    list.items.push_back(report.node);
    list.items.back().metadata.creation_timestamp = now;
  }
  return JsonResponse(200, api::ToJson(list));
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
    metrics::PodMetrics pod = found.front();
    pod.kind = "PodMetrics";
    pod.api_version = kApiVersion;
    return JsonResponse(200, api::ToJson(pod));
  }
  metrics::PodMetricsList list;
  list.kind = "PodMetricsList";
  list.api_version = kApiVersion;
  list.items = std::move(found);
  return JsonResponse(200, api::ToJson(list));
}

}  // namespace kpp::apiserver
