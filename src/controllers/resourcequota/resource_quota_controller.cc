#include "controllers/resourcequota/resource_quota_controller.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/admission/json_access.h"
#include "apiserver/admission/quota_evaluator.h"
#include "base/log.h"
#include "base/version.h"

namespace kpp::controllers {
namespace {

namespace json = apiserver::admission::json;
namespace quota = apiserver::admission::quota;

std::string UserAgent() {
  return fmt::format("kube-controller-manager/{} (linux/amd64) kubernetes/kpp",
                     KubernetesGitVersion());
}

}  // namespace

ResourceQuotaController::ResourceQuotaController(Call call,
                                                 const apiserver::admission::Reader& reader,
                                                 Clock& clock, std::chrono::milliseconds period)
    : call_(std::move(call)), reader_(reader), clock_(clock), period_(period) {}

ResourceQuotaController::~ResourceQuotaController() {
  Stop();
}

void ResourceQuotaController::Start() {
  SyncAll();
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, period_, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      SyncAll();
      lock.lock();
    }
  });
}

void ResourceQuotaController::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

http::Response ResourceQuotaController::Send(std::string method, std::string path,
                                             std::string body) const {
  auto request = http::Request::LocalJson(std::move(method), std::move(path), std::move(body));
  request.headers.push_back({"User-Agent", UserAgent()});
  return call_(request);
}

int ResourceQuotaController::SyncAll() {
  const auto listed = Send("GET", "/api/v1/resourcequotas");
  if (listed.status != 200) return 0;
  boost::system::error_code ec;
  auto list = boost::json::parse(listed.body, ec);
  if (ec || !list.is_object()) return 0;
  const auto* items = json::Array(&list.as_object(), "items");
  if (items == nullptr) return 0;
  const auto now = std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock_.Now());
  int written = 0;
  for (const auto& value : *items) {
    if (!value.is_object()) continue;
    boost::json::object item = value.as_object();
    const auto* metadata = json::Object(&item, "metadata");
    const std::string name(json::String(metadata, "name"));
    const std::string namespace_(json::String(metadata, "namespace"));
    if (name.empty() || namespace_.empty()) continue;
    auto used = quota::CalculateUsage(item, namespace_, reader_, now);
    if (!used.ok()) {
      KLOG_V(2, "resource quota {}/{}: {}", namespace_, name, used.error().message());
      continue;
    }
    const quota::ResourceList hard =
        quota::ParseResourceList(json::Object(json::Object(&item, "spec"), "hard"));
    const auto* status = json::Object(&item, "status");
    if (quota::Equal(hard, quota::ParseResourceList(json::Object(status, "hard"))) &&
        quota::Equal(*used, quota::ParseResourceList(json::Object(status, "used")))) {
      continue;
    }
    // A lower figure waits for a second pass that agrees on an unchanged quota: admission
    // charges the quota before the object is stored, so a pass that ran in between would
    // otherwise hand the charge back while that object is still on its way.
    const std::string key = namespace_ + "/" + name;
    const std::string version(json::String(metadata, "resourceVersion"));
    const quota::ResourceList old_used = quota::ParseResourceList(json::Object(status, "used"));
    bool lowers = false;
    for (const auto& [resource, quantity] : old_used) {
      auto it = used->find(resource);
      if (it != used->end() && it->second.Cmp(quantity) < 0) lowers = true;
    }
    if (lowers) {
      auto pending = pending_releases_.find(key);
      if (pending == pending_releases_.end() || pending->second.first != version ||
          !quota::Equal(pending->second.second, *used)) {
        pending_releases_[key] = {version, *used};
        continue;
      }
    }
    pending_releases_.erase(key);
    auto& new_status = json::EnsureObject(item, "status");
    new_status["hard"] = quota::ToJson(hard);
    new_status["used"] = quota::ToJson(*used);
    item["apiVersion"] = "v1";
    item["kind"] = "ResourceQuota";
    const auto updated =
        Send("PUT", fmt::format("/api/v1/namespaces/{}/resourcequotas/{}/status", namespace_, name),
             boost::json::serialize(item));
    if (updated.status == 200) {
      ++written;
    } else if (updated.status != 409) {
      KLOG_V(2, "updating the status of resource quota {}/{}: {}", namespace_, name, updated.body);
    }
  }
  return written;
}

}  // namespace kpp::controllers
