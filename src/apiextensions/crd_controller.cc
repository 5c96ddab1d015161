#include "apiextensions/crd_controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/runtime/scalars.h"
#include "base/log.h"

namespace kpp::apiextensions {
namespace {

constexpr std::string_view kCrdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

std::string NameOf(const boost::json::object& crd) {
  const auto* metadata = crd.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return {};
  const auto* name = metadata->get_object().if_contains("name");
  return name != nullptr && name->is_string() ? std::string(name->get_string()) : "";
}

bool HasCleanupFinalizer(const boost::json::object& crd) {
  const auto* metadata = crd.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return false;
  const auto* finalizers = metadata->get_object().if_contains("finalizers");
  if (finalizers == nullptr || !finalizers->is_array()) return false;
  for (const auto& item : finalizers->get_array()) {
    if (item.is_string() && item.get_string() == kCleanupFinalizer) return true;
  }
  return false;
}

bool Terminating(const boost::json::object& crd) {
  const auto* metadata = crd.if_contains("metadata");
  return metadata != nullptr && metadata->is_object() &&
         metadata->get_object().contains("deletionTimestamp");
}

// A status without the condition times, to tell whether anything but time would change.
std::string Comparable(const boost::json::value* status) {
  if (status == nullptr || !status->is_object()) return "{}";
  boost::json::object copy = status->get_object();
  if (auto* conditions = copy.if_contains("conditions"); conditions && conditions->is_array()) {
    for (auto& item : conditions->get_array()) {
      if (item.is_object()) item.get_object().erase("lastTransitionTime");
    }
  }
  return SortedJson(copy);
}

}  // namespace

CrdController::CrdController(Call call, CustomResourceKinds& kinds,
                             std::span<const api::KindInfo> builtins, Clock& clock)
    : call_(std::move(call)), kinds_(kinds), builtins_(builtins), clock_(clock) {}

CrdController::~CrdController() {
  Stop();
}

void CrdController::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      woken_ = false;
      lock.unlock();
      SyncAll();
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_ || woken_; });
    }
  });
}

void CrdController::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CrdController::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

std::string CrdController::Now() const {
  return api::Time::FromUnixSeconds(
             std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch())
                 .count())
      .ToString();
}

http::Response CrdController::Send(std::string method, std::string path, std::string body,
                                   std::vector<std::pair<std::string, std::string>> query) const {
  http::Request request = http::Request::LocalJson(std::move(method), std::move(path),
                                                   std::move(body), std::move(query));
  request.headers.push_back({"User-Agent", "kpp-apiextensions-controller"});
  return call_(request);
}

void CrdController::SyncAll() {
  std::lock_guard sync(sync_mutex_);
  const http::Response list = Send("GET", std::string(kCrdPath));
  if (list.status != 200) return;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(list.body, ec);
  if (ec || !parsed.is_object()) return;
  const auto* items = parsed.as_object().if_contains("items");
  if (items == nullptr || !items->is_array()) return;
  std::vector<boost::json::object> crds;
  for (const auto& item : items->get_array()) {
    if (item.is_object()) crds.push_back(item.get_object());
  }
  const std::string now = Now();
  // Names are decided in order of creation, so that the first definition keeps a contested name.
  std::vector<boost::json::object> desired = crds;
  std::vector<boost::json::object> served;
  for (auto& crd : desired) {
    crd["status"] = DesiredStatus(crd, desired, builtins_, now);
    if (NamesAccepted(crd)) served.push_back(crd);
  }
  // Served before Established is written, so a client that waits for Established finds it.
  kinds_.Update(served);
  for (size_t i = 0; i < crds.size(); ++i) {
    const std::string name = NameOf(crds[i]);
    if (Comparable(crds[i].if_contains("status")) != Comparable(desired[i].if_contains("status"))) {
      const http::Response updated = Send("PUT", fmt::format("{}/{}/status", kCrdPath, name),
                                          boost::json::serialize(desired[i]));
      if (updated.status != 200) {
        KLOG_V(2, "status of customresourcedefinition {}: {} {}", name, updated.status,
               updated.body);
      }
    }
    if (Terminating(crds[i]) && HasCleanupFinalizer(crds[i]) && Finalize(crds[i])) {
      std::erase_if(served, [&](const auto& crd) { return NameOf(crd) == name; });
      kinds_.Update(served);
    }
  }
}

bool CrdController::Finalize(const boost::json::object& crd) {
  const std::string name = NameOf(crd);
  // Any served version reaches every object; they share one storage key.
  const api::KindInfo* kind = nullptr;
  for (const api::KindInfo* served : kinds_.Served()) {
    if (const auto* custom = CustomResourceOf(*served); custom && custom->crd_name == name) {
      kind = served;
      break;
    }
  }
  if (kind != nullptr) {
    const std::string collection =
        fmt::format("/apis/{}/{}/{}", kind->group, kind->version, kind->plural);
    const http::Response deleted = Send("DELETE", collection, "");
    if (deleted.status != 200) {
      KLOG_V(2, "deleting {} objects: {} {}", name, deleted.status, deleted.body);
    }
    const http::Response left = Send("GET", collection, "", {{"limit", "1"}});
    if (left.status != 200) return false;
    auto json = boost::json::parse(left.body);
    const auto* items = json.as_object().if_contains("items");
    if (items != nullptr && items->is_array() && !items->get_array().empty()) return false;
  }
  // Nothing left: the definition goes with its finalizer.
  const http::Response got = Send("GET", fmt::format("{}/{}", kCrdPath, name));
  if (got.status != 200) return false;
  auto current = boost::json::parse(got.body).as_object();
  auto& metadata = current["metadata"].as_object();
  if (auto* finalizers = metadata.if_contains("finalizers"); finalizers && finalizers->is_array()) {
    auto& list = finalizers->get_array();
    for (auto it = list.begin(); it != list.end();) {
      it = it->is_string() && it->get_string() == kCleanupFinalizer ? list.erase(it) : it + 1;
    }
  }
  const http::Response updated =
      Send("PUT", fmt::format("{}/{}", kCrdPath, name), boost::json::serialize(current));
  if (updated.status != 200) {
    KLOG_V(2, "finalizing customresourcedefinition {}: {} {}", name, updated.status, updated.body);
    return false;
  }
  return true;
}

}  // namespace kpp::apiextensions
