#include "controllers/serviceaccount/service_account_controllers.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <set>

#include "base/log.h"
#include "base/version.h"

namespace kpp::controllers {
namespace {

constexpr std::string_view kRootCaConfigMap = "kube-root-ca.crt";
constexpr std::string_view kRootCaDescription =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";

std::string UserAgent() {
  return fmt::format("kube-controller-manager/{} (linux/amd64) kubernetes/kpp",
                     KubernetesGitVersion());
}

boost::json::array Items(const http::Response& response) {
  if (response.status != 200) return {};
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body, ec);
  if (ec || !value.is_object()) return {};
  auto* items = value.as_object().if_contains("items");
  return items != nullptr && items->is_array() ? std::move(items->as_array())
                                               : boost::json::array();
}

std::string_view MetadataString(const boost::json::value& item, std::string_view field) {
  if (!item.is_object()) return {};
  const auto* metadata = item.as_object().if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return {};
  const auto* value = metadata->as_object().if_contains(field);
  return value != nullptr && value->is_string() ? std::string_view(value->as_string())
                                                : std::string_view();
}

}  // namespace

ServiceAccountControllers::ServiceAccountControllers(Call call, std::string ca_pem)
    : call_(std::move(call)), ca_pem_(std::move(ca_pem)) {}

ServiceAccountControllers::~ServiceAccountControllers() {
  Stop();
}

void ServiceAccountControllers::Start() {
  SyncAll();
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      SyncAll();
      lock.lock();
    }
  });
}

void ServiceAccountControllers::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

http::Response ServiceAccountControllers::Send(
    std::string method, std::string path, std::string body,
    std::vector<std::pair<std::string, std::string>> query) const {
  auto request = http::Request::LocalJson(std::move(method), std::move(path), std::move(body),
                                          std::move(query));
  // managedFields name the writer by its agent, as upstream's controller manager's writes.
  request.headers.push_back({"User-Agent", UserAgent()});
  return call_(request);
}

void ServiceAccountControllers::SyncAll() {
  // resourceVersion=0: served from the watch cache, so polling costs no store reads.
  const auto namespaces = Items(Send("GET", "/api/v1/namespaces", "", {{"resourceVersion", "0"}}));
  if (namespaces.empty()) return;
  std::set<std::string, std::less<>> with_account;
  for (const auto& item :
       Items(Send("GET", "/api/v1/serviceaccounts", "",
                  {{"resourceVersion", "0"}, {"fieldSelector", "metadata.name=default"}}))) {
    with_account.emplace(MetadataString(item, "namespace"));
  }
  std::map<std::string, std::string, std::less<>> published;  // namespace -> ca.crt
  for (const auto& item :
       Items(Send("GET", "/api/v1/configmaps", "",
                  {{"resourceVersion", "0"},
                   {"fieldSelector", fmt::format("metadata.name={}", kRootCaConfigMap)}}))) {
    std::string ca;
    if (const auto* data = item.as_object().if_contains("data"); data && data->is_object()) {
      if (const auto* value = data->as_object().if_contains("ca.crt");
          value && value->is_string()) {
        ca = value->as_string();
      }
    }
    published.emplace(MetadataString(item, "namespace"), std::move(ca));
  }
  for (const auto& item : namespaces) {
    const std::string_view name = MetadataString(item, "name");
    // A terminating namespace takes no new content.
    if (name.empty() || !MetadataString(item, "deletionTimestamp").empty()) continue;
    if (!with_account.contains(name)) {
      const auto created =
          Send("POST", fmt::format("/api/v1/namespaces/{}/serviceaccounts", name),
               R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})");
      if (created.status >= 300 && created.status != 409) {
        KLOG_V(2, "creating the default service account in {}: {}", name, created.body);
      }
    }
    boost::json::object config_map{
        {"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata",
         boost::json::object{{"name", kRootCaConfigMap},
                             {"annotations", boost::json::object{{"kubernetes.io/description",
                                                                  kRootCaDescription}}}}},
        {"data", boost::json::object{{"ca.crt", ca_pem_}}}};
    const auto found = published.find(name);
    if (found == published.end()) {
      const auto created = Send("POST", fmt::format("/api/v1/namespaces/{}/configmaps", name),
                                boost::json::serialize(config_map));
      if (created.status >= 300 && created.status != 409) {
        KLOG_V(2, "publishing {} in {}: {}", kRootCaConfigMap, name, created.body);
      }
    } else if (found->second != ca_pem_) {
      // Someone changed it, or the CA changed: the data goes back to the cluster's CA.
      auto patch = http::Request::LocalJson(
          "PATCH", fmt::format("/api/v1/namespaces/{}/configmaps/{}", name, kRootCaConfigMap),
          boost::json::serialize(
              boost::json::object{{"data", boost::json::object{{"ca.crt", ca_pem_}}}}));
      patch.headers.front().value = "application/merge-patch+json";
      patch.headers.push_back({"User-Agent", UserAgent()});
      call_(patch);
    }
  }
}

}  // namespace kpp::controllers
