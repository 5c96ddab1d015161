#include "controllers/namespace/namespace_cleaner.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/log.h"

namespace kpp::controllers {
namespace {

bool HasVerb(std::string_view verbs, std::string_view verb) {
  while (!verbs.empty()) {
    const size_t comma = verbs.find(',');
    if (verbs.substr(0, comma) == verb) return true;
    if (comma == std::string_view::npos) break;
    verbs.remove_prefix(comma + 1);
  }
  return false;
}

// /api/v1/namespaces/<ns>/<plural> or /apis/<group>/<version>/namespaces/<ns>/<plural>.
std::string CollectionPath(const api::KindInfo& kind, std::string_view namespace_) {
  if (kind.group.empty()) {
    return fmt::format("/api/{}/namespaces/{}/{}", kind.version, namespace_, kind.plural);
  }
  return fmt::format("/apis/{}/{}/namespaces/{}/{}", kind.group, kind.version, namespace_,
                     kind.plural);
}

boost::json::value ParseBody(const http::Response& response) {
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body, ec);
  return ec ? boost::json::value() : value;
}

}  // namespace

NamespaceCleaner::NamespaceCleaner(Call call, std::span<const api::KindInfo> kinds,
                                   MoreKinds more_kinds)
    : call_(std::move(call)), kinds_(kinds), more_kinds_(std::move(more_kinds)) {}

NamespaceCleaner::~NamespaceCleaner() {
  Stop();
}

void NamespaceCleaner::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      SyncAll();
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
  });
}

void NamespaceCleaner::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

http::Response NamespaceCleaner::Send(
    std::string method, std::string path, std::string body,
    std::vector<std::pair<std::string, std::string>> query) const {
  return call_(http::Request::LocalJson(std::move(method), std::move(path), std::move(body),
                                        std::move(query)));
}

void NamespaceCleaner::SyncAll() {
  const http::Response list = Send("GET", "/api/v1/namespaces");
  if (list.status != 200) return;
  const auto body = ParseBody(list);
  const auto* items = body.is_object() ? body.as_object().if_contains("items") : nullptr;
  if (items == nullptr || !items->is_array()) return;
  for (const auto& item : items->as_array()) {
    const auto* metadata = item.is_object() ? item.as_object().if_contains("metadata") : nullptr;
    if (metadata == nullptr || !metadata->is_object()) continue;
    if (!metadata->as_object().contains("deletionTimestamp")) continue;
    if (const auto* name = metadata->as_object().if_contains("name"); name && name->is_string()) {
      Sync(std::string(name->as_string()));
    }
  }
}

bool NamespaceCleaner::Sync(const std::string& name) {
  const std::string path = "/api/v1/namespaces/" + name;
  const http::Response got = Send("GET", path);
  if (got.status != 200) return false;
  auto ns = ParseBody(got);
  if (!ns.is_object()) return false;
  // Deletes what is left of every namespaced resource (each as a DELETE of it would: objects
  // with finalizers or grace periods stay until those are done), then checks that nothing is.
  bool empty = true;
  std::vector<api::KindInfo> kinds(kinds_.begin(), kinds_.end());
  if (more_kinds_) {
    auto more = more_kinds_();
    kinds.insert(kinds.end(), more.begin(), more.end());
  }
  for (const auto& kind : kinds) {
    if (!kind.namespaced || kind.storage != nullptr || !HasVerb(kind.verbs, "list")) continue;
    const std::string collection = CollectionPath(kind, name);
    if (HasVerb(kind.verbs, "deletecollection")) {
      const http::Response deleted =
          Send("DELETE", collection, R"({"propagationPolicy":"Background"})");
      if (deleted.status >= 300) {
        KLOG_WARNING("namespace {}: deleting {} failed: {}", name, kind.plural, deleted.body);
      }
    }
    const http::Response left = Send("GET", collection, "", {{"limit", "1"}});
    const auto remaining = ParseBody(left);
    const auto* items =
        remaining.is_object() ? remaining.as_object().if_contains("items") : nullptr;
    if (left.status != 200 ||
        (items != nullptr && items->is_array() && !items->as_array().empty())) {
      empty = false;
    }
  }
  if (!empty) return false;
  // Nothing left: this controller's finalizer goes, then the namespace.
  auto& spec = ns.as_object()["spec"];
  if (!spec.is_object()) spec = boost::json::object();
  boost::json::array kept;
  if (const auto* finalizers = spec.as_object().if_contains("finalizers");
      finalizers != nullptr && finalizers->is_array()) {
    for (const auto& finalizer : finalizers->as_array()) {
      if (finalizer != "kubernetes") kept.push_back(finalizer);
    }
    if (kept.size() != finalizers->as_array().size()) {
      spec.as_object()["finalizers"] = kept;
      const http::Response finalized = Send("PUT", path + "/finalize", boost::json::serialize(ns));
      if (finalized.status != 200) {
        KLOG_WARNING("namespace {}: finalize failed: {}", name, finalized.body);
        return false;
      }
    }
  }
  if (kept.empty()) {
    const http::Response deleted = Send("DELETE", path);
    if (deleted.status >= 300 && deleted.status != 404) {
      KLOG_WARNING("namespace {}: delete failed: {}", name, deleted.body);
      return false;
    }
  }
  return true;
}

}  // namespace kpp::controllers
