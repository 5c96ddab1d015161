#include "apiserver/authn/token_controllers.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/authn/bootstrap_token.h"
#include "base/encoding.h"
#include "base/log.h"

namespace kpp::apiserver {
namespace {

constexpr std::string_view kServiceAccountNameAnnotation = "kubernetes.io/service-account.name";
constexpr std::string_view kServiceAccountUidAnnotation = "kubernetes.io/service-account.uid";

// The items of a list answer; empty when the list failed. The lists are read from the watch
// caches (resourceVersion=0): a pass a second must not scan the store.
boost::json::array ListItems(const http::Response& response) {
  if (response.status != 200) return {};
  boost::system::error_code error;
  auto value = boost::json::parse(response.body, error);
  if (error || !value.is_object()) return {};
  auto* items = value.as_object().if_contains("items");
  if (items == nullptr || !items->is_array()) return {};
  return std::move(items->as_array());
}

std::string SecretPath(std::string_view ns, std::string_view name) {
  return fmt::format("/api/v1/namespaces/{}/secrets/{}", ns, name);
}

}  // namespace

TokenControllers::~TokenControllers() {
  Stop();
}

void TokenControllers::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      SyncServiceAccountTokenSecrets();
      CleanExpiredBootstrapTokens();
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
  });
}

void TokenControllers::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TokenControllers::SyncServiceAccountTokenSecrets() {
  const auto secrets = ListItems(reader_.Send(http::Request::LocalJson(
      "GET", "/api/v1/secrets", "",
      {{"fieldSelector", fmt::format("type={}", kServiceAccountTokenSecretType)},
       {"resourceVersion", "0"}})));
  for (const auto& item : secrets) {
    if (!item.is_object()) continue;
    boost::json::object secret = item.as_object();
    const std::string ns = StringAt(secret, {"metadata", "namespace"});
    const std::string name = StringAt(secret, {"metadata", "name"});
    if (!StringAt(secret, {"metadata", "deletionTimestamp"}).empty()) continue;
    const std::string account_name =
        StringAt(secret, {"metadata", "annotations", kServiceAccountNameAnnotation});
    const std::string wanted_uid =
        StringAt(secret, {"metadata", "annotations", kServiceAccountUidAnnotation});
    if (account_name.empty()) continue;
    const auto account = reader_.ServiceAccount(ns, account_name);
    const std::string account_uid =
        account ? StringAt(*account, {"metadata", "uid"}) : std::string();
    if (!account || (!wanted_uid.empty() && wanted_uid != account_uid)) {
      // The token's service account is gone (or was replaced): so is the token, as upstream's.
      const auto deleted = reader_.Send(http::Request::LocalJson("DELETE", SecretPath(ns, name)));
      KLOG_INFO("deleted token secret {}/{}: service account {} is gone ({})", ns, name,
                account_name, deleted.status);
      continue;
    }
    auto& data = secret["data"];
    if (!data.is_object()) data = boost::json::object();
    auto& fields = data.as_object();
    const std::string ca = Base64Encode(ca_pem_);
    const std::string namespace_data = Base64Encode(ns);
    const bool needs_token = StringAt(fields, {"token"}).empty();
    const bool needs_ca = !ca_pem_.empty() && StringAt(fields, {"ca.crt"}) != ca;
    const bool needs_namespace = StringAt(fields, {"namespace"}) != namespace_data;
    if (!needs_token && !needs_ca && !needs_namespace) continue;
    if (needs_token) {
      auto token = tokens_.IssueLegacy(ns, {account_name, account_uid}, name);
      if (!token.ok()) {
        KLOG_WARNING("token secret {}/{}: {}", ns, name, token.error().message());
        continue;
      }
      fields["token"] = Base64Encode(*token);
    }
    if (needs_ca) fields["ca.crt"] = ca;
    if (needs_namespace) fields["namespace"] = namespace_data;
    auto& annotations = secret["metadata"].as_object()["annotations"];
    if (annotations.is_object())
      annotations.as_object()[kServiceAccountUidAnnotation] = account_uid;
    secret["kind"] = "Secret";
    secret["apiVersion"] = "v1";
    // The resourceVersion read makes this a compare-and-swap: a concurrent write wins, and the
    // next pass looks again.
    const auto updated = reader_.Send(
        http::Request::LocalJson("PUT", SecretPath(ns, name), boost::json::serialize(secret)));
    if (updated.status != 200) {
      KLOG_V(2, "token secret {}/{}: update answered {}", ns, name, updated.status);
    }
  }
}

void TokenControllers::CleanExpiredBootstrapTokens() {
  const auto secrets = ListItems(reader_.Send(http::Request::LocalJson(
      "GET", "/api/v1/namespaces/kube-system/secrets", "",
      {{"fieldSelector", fmt::format("type={}", kBootstrapTokenSecretType)},
       {"resourceVersion", "0"}})));
  for (const auto& item : secrets) {
    if (!item.is_object()) continue;
    const auto& secret = item.as_object();
    if (!BootstrapTokenExpired(secret, clock_.Now())) continue;
    const std::string name = StringAt(secret, {"metadata", "name"});
    const auto deleted =
        reader_.Send(http::Request::LocalJson("DELETE", SecretPath("kube-system", name)));
    KLOG_INFO("deleted expired bootstrap token kube-system/{} ({})", name, deleted.status);
  }
}

}  // namespace kpp::apiserver
