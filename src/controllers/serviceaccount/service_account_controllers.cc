#include "controllers/serviceaccount/service_account_controllers.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/log.h"
#include "base/version.h"
#include "client/rest/loopback_transport.h"

namespace kpp::controllers {
namespace {

using client::informers::DeletedObject;
using client::informers::ObjectRef;
using client::informers::SharedInformer;

constexpr std::string_view kRootCaConfigMap = "kube-root-ca.crt";
constexpr std::string_view kDefaultServiceAccount = "default";
constexpr std::string_view kRootCaDescription =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";

std::string UserAgent() {
  return fmt::format("kube-controller-manager/{} (linux/amd64) kubernetes/kpp",
                     KubernetesGitVersion());
}

const api::KindInfo& CoreKind(std::string_view plural) {
  for (const auto& kind : api::AllKinds()) {
    if (kind.group.empty() && kind.plural == plural) return kind;
  }
  std::abort();  // the core kinds are compiled in
}

// An informer of `plural` (only the objects named `name` when it is not empty).
std::unique_ptr<SharedInformer> NewInformer(std::shared_ptr<client::rest::RestClient> client,
                                            std::string_view plural, std::string_view name) {
  client::informers::InformerOptions options;
  if (!name.empty()) options.selectors.field_selector = fmt::format("metadata.name={}", name);
  return std::make_unique<SharedInformer>(
      client::DynamicResource(std::move(client), CoreKind(plural)), std::move(options));
}

// The ca.crt of a kube-root-ca.crt config map.
std::string PublishedCa(const api::Object& config_map) {
  boost::system::error_code ec;
  auto value = boost::json::parse(config_map.ToJson(), ec);
  if (ec || !value.is_object()) return "";
  const auto* data = value.as_object().if_contains("data");
  if (data == nullptr || !data->is_object()) return "";
  const auto* ca = data->as_object().if_contains("ca.crt");
  return ca != nullptr && ca->is_string() ? std::string(ca->as_string()) : "";
}

}  // namespace

ServiceAccountControllers::ServiceAccountControllers(Call call, std::string ca_pem)
    : call_(std::move(call)),
      ca_pem_(std::move(ca_pem)),
      workers_(queue_, [this](const std::string& name) { return SyncNamespace(name); },
               {.what = "service accounts and root CA of namespace"}) {}

ServiceAccountControllers::~ServiceAccountControllers() {
  Stop();
}

void ServiceAccountControllers::Start() {
  auto client = client::rest::NewLoopbackClient(call_, UserAgent());
  namespaces_ = NewInformer(client, "namespaces", "");
  accounts_ = NewInformer(client, "serviceaccounts", kDefaultServiceAccount);
  config_maps_ = NewInformer(client, "configmaps", kRootCaConfigMap);
  auto enqueue_namespace = [this](const ObjectRef& object) { queue_.Add(object->metadata().name); };
  namespaces_->AddEventHandler(
      {.on_add = [enqueue_namespace](const ObjectRef& object, bool) { enqueue_namespace(object); },
       .on_update = [enqueue_namespace](const ObjectRef&,
                                        const ObjectRef& object) { enqueue_namespace(object); }});
  // What lives in a namespace brings its namespace back when it goes or changes.
  auto enqueue_owner = [this](const ObjectRef& object) {
    queue_.Add(object->metadata().namespace_);
  };
  accounts_->AddEventHandler({.on_delete = [enqueue_owner](const DeletedObject& deleted) {
    if (deleted.object) enqueue_owner(deleted.object);
  }});
  config_maps_->AddEventHandler(
      {.on_update = [enqueue_owner](const ObjectRef&,
                                    const ObjectRef& object) { enqueue_owner(object); },
       .on_delete =
           [enqueue_owner](const DeletedObject& deleted) {
             if (deleted.object) enqueue_owner(deleted.object);
           }});
  for (auto* informer : {namespaces_.get(), accounts_.get(), config_maps_.get()})
    informer->Run();
  // A sync before the caches hold the namespace's account would create it again (a harmless
  // 409, but a wasted request per namespace at every start).
  client::informers::WaitForCacheSync({accounts_.get(), config_maps_.get()},
                                      std::chrono::seconds(10));
  workers_.Start(2);
}

void ServiceAccountControllers::Stop() {
  workers_.Stop();
  client::rest::StopInformers({namespaces_.get(), accounts_.get(), config_maps_.get()});
}

http::Response ServiceAccountControllers::Send(std::string method, std::string path,
                                               std::string body) const {
  auto request = http::Request::LocalJson(std::move(method), std::move(path), std::move(body));
  if (request.method == "PATCH") request.headers.front().value = "application/merge-patch+json";
  // managedFields name the writer by its agent, as upstream's controller manager's writes.
  request.headers.push_back({"User-Agent", UserAgent()});
  return call_(request);
}

Status ServiceAccountControllers::SyncNamespace(const std::string& name) {
  const auto ns = namespaces_->store().Get(name);
  // A terminating namespace takes no new content.
  if (ns == nullptr || ns->metadata().deletion_timestamp) return Ok();
  std::optional<Error> failed;
  auto check = [&](const http::Response& answer, std::string_view what) {
    if (answer.status < 300 || answer.status == 409) return;
    KLOG_V(2, "{} in {}: {}", what, name, answer.body);
    if (!failed)
      failed = Error(ErrorCode::kInternalError, fmt::format("{}: {}", what, answer.status));
  };
  if (accounts_->store().Get(fmt::format("{}/{}", name, kDefaultServiceAccount)) == nullptr) {
    check(Send("POST", fmt::format("/api/v1/namespaces/{}/serviceaccounts", name),
               R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})"),
          "creating the default service account");
  }
  const auto published = config_maps_->store().Get(fmt::format("{}/{}", name, kRootCaConfigMap));
  if (published == nullptr) {
    boost::json::object config_map{
        {"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata",
         boost::json::object{{"name", kRootCaConfigMap},
                             {"annotations", boost::json::object{{"kubernetes.io/description",
                                                                  kRootCaDescription}}}}},
        {"data", boost::json::object{{"ca.crt", ca_pem_}}}};
    check(Send("POST", fmt::format("/api/v1/namespaces/{}/configmaps", name),
               boost::json::serialize(config_map)),
          fmt::format("publishing {}", kRootCaConfigMap));
  } else if (PublishedCa(*published) != ca_pem_) {
    // Someone changed it, or the CA changed: the data goes back to the cluster's CA.
    check(Send("PATCH", fmt::format("/api/v1/namespaces/{}/configmaps/{}", name, kRootCaConfigMap),
               boost::json::serialize(
                   boost::json::object{{"data", boost::json::object{{"ca.crt", ca_pem_}}}})),
          fmt::format("repairing {}", kRootCaConfigMap));
  }
  if (failed) return *failed;
  return Ok();
}

}  // namespace kpp::controllers
