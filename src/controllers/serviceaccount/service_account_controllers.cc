#include "controllers/serviceaccount/service_account_controllers.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/core/v1/codec.h"
#include "base/encoding.h"
#include "base/log.h"
#include "client/informers/object_json.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

using client::informers::DeletedObject;
using client::informers::JsonOf;
using client::informers::ObjectRef;
using client::informers::SharedInformer;

constexpr std::string_view kRootCaConfigMap = "kube-root-ca.crt";
constexpr std::string_view kDefaultServiceAccount = "default";
constexpr std::string_view kRootCaDescription =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";
constexpr std::string_view kTokenSecretType = "kubernetes.io/service-account-token";
constexpr std::string_view kServiceAccountNameAnnotation = "kubernetes.io/service-account.name";
constexpr std::string_view kServiceAccountUidAnnotation = "kubernetes.io/service-account.uid";

// A string at a path of keys; empty when absent.
std::string StringAt(const boost::json::object& object,
                     std::initializer_list<std::string_view> path) {
  const boost::json::object* current = &object;
  const boost::json::value* value = nullptr;
  for (auto key : path) {
    if (current == nullptr) return "";
    value = current->if_contains(key);
    if (value == nullptr) return "";
    current = value->is_object() ? &value->get_object() : nullptr;
  }
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

Status Write(client::rest::RestClient& client, std::string method, std::string path,
             std::string body) {
  client::rest::Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  auto answer = client.Do(request);
  if (!answer.ok()) return std::move(answer).error();
  return Ok();
}

bool Active(const SharedInformer& namespaces, const std::string& name) {
  const auto ns = namespaces.store().Get(name);
  // A terminating namespace takes no new content.
  return ns != nullptr && !ns->metadata().deletion_timestamp;
}

// A namespace's key when the object in it goes or changes.
auto OwnerEnqueuer(client::workqueue::RateLimitingQueue& queue) {
  return [&queue](const ObjectRef& object) { queue.Add(object->metadata().namespace_); };
}

void EnqueueNamespaces(SharedInformer& namespaces, client::workqueue::RateLimitingQueue& queue) {
  namespaces.AddEventHandler(
      {.on_add = [&queue](const ObjectRef& object, bool) { queue.Add(object->metadata().name); },
       .on_update = [&queue](const ObjectRef&,
                             const ObjectRef& object) { queue.Add(object->metadata().name); }});
}

}  // namespace

ServiceAccountsController::ServiceAccountsController(
    client::informers::SharedInformerFactory& factory,
    std::shared_ptr<client::rest::RestClient> client)
    : client_(std::move(client)),
      namespaces_(factory.InformerFor<api::core::v1::Namespace>()),
      accounts_(factory.InformerFor<api::core::v1::ServiceAccount>()),
      workers_(queue_, [this](const std::string& name) { return SyncNamespace(name); },
               {.what = "default service account of namespace"}) {
  EnqueueNamespaces(namespaces_, queue_);
  accounts_.AddEventHandler(
      {.on_delete = [enqueue = OwnerEnqueuer(queue_)](const DeletedObject& deleted) {
        if (deleted.object && deleted.object->metadata().name == kDefaultServiceAccount) {
          enqueue(deleted.object);
        }
      }});
}

ServiceAccountsController::~ServiceAccountsController() {
  Stop();
}

void ServiceAccountsController::Run() {
  workers_.Start(2);
}

void ServiceAccountsController::Stop() {
  workers_.Stop();
}

Status ServiceAccountsController::SyncNamespace(const std::string& name) {
  if (!Active(namespaces_, name)) return Ok();
  if (accounts_.store().Get(fmt::format("{}/{}", name, kDefaultServiceAccount)) != nullptr) {
    return Ok();
  }
  auto created =
      Write(*client_, "POST", fmt::format("/api/v1/namespaces/{}/serviceaccounts", name),
            R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})");
  if (!created.ok() && !client::IsAlreadyExists(created.error())) {
    // A namespace being deleted meanwhile refuses new content: nothing to retry.
    if (client::IsForbidden(created.error()) && !Active(namespaces_, name)) return Ok();
    return std::move(created).error().WithContext("creating the default service account");
  }
  return Ok();
}

RootCaCertPublisher::RootCaCertPublisher(client::informers::SharedInformerFactory& factory,
                                         std::shared_ptr<client::rest::RestClient> client,
                                         std::string ca_pem)
    : client_(std::move(client)),
      ca_pem_(std::move(ca_pem)),
      namespaces_(factory.InformerFor<api::core::v1::Namespace>()),
      config_maps_(factory.InformerFor<api::core::v1::ConfigMap>()),
      workers_(queue_, [this](const std::string& name) { return SyncNamespace(name); },
               {.what = "root CA of namespace"}) {
  EnqueueNamespaces(namespaces_, queue_);
  auto enqueue = OwnerEnqueuer(queue_);
  auto ours = [](const ObjectRef& object) { return object->metadata().name == kRootCaConfigMap; };
  config_maps_.AddEventHandler({.on_update =
                                    [enqueue, ours](const ObjectRef&, const ObjectRef& object) {
                                      if (ours(object)) enqueue(object);
                                    },
                                .on_delete =
                                    [enqueue, ours](const DeletedObject& deleted) {
                                      if (deleted.object && ours(deleted.object))
                                        enqueue(deleted.object);
                                    }});
}

RootCaCertPublisher::~RootCaCertPublisher() {
  Stop();
}

void RootCaCertPublisher::Run() {
  workers_.Start(2);
}

void RootCaCertPublisher::Stop() {
  workers_.Stop();
}

Status RootCaCertPublisher::SyncNamespace(const std::string& name) {
  if (!Active(namespaces_, name)) return Ok();
  auto published = JsonOf(config_maps_.store().Get(fmt::format("{}/{}", name, kRootCaConfigMap)));
  const auto write = [&]() -> Status {
    if (!published) {
      boost::json::object config_map{
          {"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           boost::json::object{{"name", kRootCaConfigMap},
                               {"annotations", boost::json::object{{"kubernetes.io/description",
                                                                    kRootCaDescription}}}}},
          {"data", boost::json::object{{"ca.crt", ca_pem_}}}};
      return Write(*client_, "POST", fmt::format("/api/v1/namespaces/{}/configmaps", name),
                   boost::json::serialize(config_map));
    }
    if (StringAt(*published, {"data", "ca.crt"}) == ca_pem_) return Ok();
    // Someone changed it, or the CA changed: the data goes back to the cluster's CA (an update
    // with the version read, as upstream's: a concurrent change brings the map back).
    boost::json::object& config_map = *published;
    config_map["data"] = boost::json::object{{"ca.crt", ca_pem_}};
    config_map["apiVersion"] = "v1";
    config_map["kind"] = "ConfigMap";
    return Write(*client_, "PUT",
                 fmt::format("/api/v1/namespaces/{}/configmaps/{}", name, kRootCaConfigMap),
                 boost::json::serialize(config_map));
  };
  auto written = write();
  if (!written.ok() && !client::IsAlreadyExists(written.error()) &&
      !client::IsConflict(written.error())) {
    if (client::IsForbidden(written.error()) && !Active(namespaces_, name)) return Ok();
    return std::move(written).error().WithContext(fmt::format("publishing {}", kRootCaConfigMap));
  }
  return Ok();
}

TokensController::TokensController(client::informers::SharedInformerFactory& factory,
                                   std::shared_ptr<client::rest::RestClient> client,
                                   IssueToken issue, std::string ca_pem)
    : client_(std::move(client)),
      issue_(std::move(issue)),
      ca_pem_(std::move(ca_pem)),
      secrets_(factory.InformerFor<api::core::v1::Secret>()),
      accounts_(factory.InformerFor<api::core::v1::ServiceAccount>()),
      workers_(queue_, [this](const std::string& key) { return SyncTokenSecret(key); },
               {.what = "token secret"}) {
  auto enqueue_token = [this](const ObjectRef& object) {
    auto json = JsonOf(object);
    if (!json || StringAt(*json, {"type"}) != kTokenSecretType) return;
    queue_.Add(fmt::format("{}/{}", object->metadata().namespace_, object->metadata().name));
  };
  secrets_.AddEventHandler(
      {.on_add = [enqueue_token](const ObjectRef& object, bool) { enqueue_token(object); },
       .on_update = [enqueue_token](const ObjectRef&,
                                    const ObjectRef& object) { enqueue_token(object); }});
  accounts_.AddEventHandler({.on_delete = [this](const DeletedObject& deleted) {
    if (deleted.object) {
      EnqueueTokensOf(deleted.object->metadata().namespace_, deleted.object->metadata().name);
    }
  }});
}

TokensController::~TokensController() {
  Stop();
}

void TokensController::Run() {
  workers_.Start(2);
}

void TokensController::Stop() {
  workers_.Stop();
}

void TokensController::EnqueueTokensOf(const std::string& ns, const std::string& account_name) {
  for (const auto& object : secrets_.store().List()) {
    const auto& metadata = object->metadata();
    if (metadata.namespace_ != ns) continue;
    auto found = metadata.annotations.find(std::string(kServiceAccountNameAnnotation));
    if (found != metadata.annotations.end() && found->second == account_name) {
      queue_.Add(fmt::format("{}/{}", ns, metadata.name));
    }
  }
}

Status TokensController::SyncTokenSecret(const std::string& key) {
  auto cached = JsonOf(secrets_.store().Get(key));
  if (!cached || StringAt(*cached, {"type"}) != kTokenSecretType) return Ok();
  boost::json::object secret = std::move(*cached);
  const std::string ns = StringAt(secret, {"metadata", "namespace"});
  const std::string name = StringAt(secret, {"metadata", "name"});
  if (!StringAt(secret, {"metadata", "deletionTimestamp"}).empty()) return Ok();
  const std::string account_name =
      StringAt(secret, {"metadata", "annotations", kServiceAccountNameAnnotation});
  const std::string wanted_uid =
      StringAt(secret, {"metadata", "annotations", kServiceAccountUidAnnotation});
  if (account_name.empty()) return Ok();
  const std::string secret_path = fmt::format("/api/v1/namespaces/{}/secrets/{}", ns, name);
  // Read from the server, not a cache: a secret made right after its account must not be
  // taken for an orphan.
  client::rest::Request get;
  get.path = fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}", ns, account_name);
  auto read = client_->Do(get);
  if (!read.ok() && !client::IsNotFound(read.error())) return std::move(read).error();
  std::string account_uid;
  if (read.ok()) {
    boost::system::error_code error;
    auto account = boost::json::parse(read->body, error);
    if (!error && account.is_object())
      account_uid = StringAt(account.as_object(), {"metadata", "uid"});
  }
  if (!read.ok() || (!wanted_uid.empty() && wanted_uid != account_uid)) {
    // The token's service account is gone (or was replaced): so is the token, as upstream's.
    auto deleted = Write(*client_, "DELETE", secret_path, "");
    KLOG_INFO("deleted token secret {}/{}: service account {} is gone ({})", ns, name, account_name,
              deleted.ok() ? "ok" : deleted.error().message());
    return Ok();
  }
  auto& data = secret["data"];
  if (!data.is_object()) data = boost::json::object();
  auto& fields = data.as_object();
  const std::string ca = Base64Encode(ca_pem_);
  const std::string namespace_data = Base64Encode(ns);
  const bool needs_token = StringAt(fields, {"token"}).empty();
  const bool needs_ca = !ca_pem_.empty() && StringAt(fields, {"ca.crt"}) != ca;
  const bool needs_namespace = StringAt(fields, {"namespace"}) != namespace_data;
  if (!needs_token && !needs_ca && !needs_namespace) return Ok();
  if (needs_token) {
    auto token = issue_(ns, account_name, account_uid, name);
    if (!token.ok()) {
      KLOG_WARNING("token secret {}/{}: {}", ns, name, token.error().message());
      return Ok();
    }
    fields["token"] = Base64Encode(*token);
  }
  if (needs_ca) fields["ca.crt"] = ca;
  if (needs_namespace) fields["namespace"] = namespace_data;
  auto& annotations = secret["metadata"].as_object()["annotations"];
  if (annotations.is_object()) annotations.as_object()[kServiceAccountUidAnnotation] = account_uid;
  secret["kind"] = "Secret";
  secret["apiVersion"] = "v1";
  // The resourceVersion read makes this a compare-and-swap: a concurrent write wins, and its
  // event brings the secret back.
  auto updated = Write(*client_, "PUT", secret_path, boost::json::serialize(secret));
  if (!updated.ok() && !client::IsConflict(updated.error()) &&
      !client::IsNotFound(updated.error())) {
    return std::move(updated).error().WithContext(fmt::format("update of {}/{}", ns, name));
  }
  return Ok();
}

}  // namespace kpp::controllers
