#include "apiserver/authn/token_controllers.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/authn/bootstrap_token.h"
#include "base/encoding.h"
#include "base/log.h"
#include "base/version.h"
#include "client/rest/loopback_transport.h"

namespace kpp::apiserver {
namespace {

using client::informers::DeletedObject;
using client::informers::ObjectRef;
using client::informers::SharedInformer;

constexpr std::string_view kServiceAccountNameAnnotation = "kubernetes.io/service-account.name";
constexpr std::string_view kServiceAccountUidAnnotation = "kubernetes.io/service-account.uid";

std::string SecretPath(std::string_view ns, std::string_view name) {
  return fmt::format("/api/v1/namespaces/{}/secrets/{}", ns, name);
}

const api::KindInfo& CoreKind(std::string_view plural) {
  for (const auto& kind : api::AllKinds()) {
    if (kind.group.empty() && kind.plural == plural) return kind;
  }
  std::abort();  // the core kinds are compiled in
}

std::unique_ptr<SharedInformer> NewInformer(std::shared_ptr<client::rest::RestClient> client,
                                            std::string_view plural, std::string ns,
                                            std::string field_selector) {
  client::informers::InformerOptions options;
  options.selectors.field_selector = std::move(field_selector);
  return std::make_unique<SharedInformer>(
      client::DynamicResource(std::move(client), CoreKind(plural), std::move(ns)),
      std::move(options));
}

std::optional<boost::json::object> JsonOf(const ObjectRef& object) {
  if (object == nullptr) return std::nullopt;
  boost::system::error_code error;
  auto value = boost::json::parse(object->ToJson(), error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

}  // namespace

TokenControllers::TokenControllers(const ServiceAccountTokens& tokens, const ObjectReader& reader,
                                   const Clock& clock, std::string ca_pem)
    : tokens_(tokens),
      reader_(reader),
      clock_(clock),
      ca_pem_(std::move(ca_pem)),
      token_workers_(token_queue_, [this](const std::string& key) { return SyncTokenSecret(key); },
                     {.what = "token secret"}),
      bootstrap_workers_(bootstrap_queue_,
                         [this](const std::string& name) { return CleanBootstrapToken(name); },
                         {.what = "bootstrap token"}) {}

TokenControllers::~TokenControllers() {
  Stop();
}

void TokenControllers::Start() {
  auto client = client::rest::NewLoopbackClient(
      [reader = &reader_](const http::Request& request) { return reader->Send(request); },
      fmt::format("kube-controller-manager/{} (linux/amd64) kubernetes/kpp",
                  KubernetesGitVersion()));
  token_secrets_ =
      NewInformer(client, "secrets", "", fmt::format("type={}", kServiceAccountTokenSecretType));
  accounts_ = NewInformer(client, "serviceaccounts", "", "");
  bootstrap_secrets_ = NewInformer(client, "secrets", "kube-system",
                                   fmt::format("type={}", kBootstrapTokenSecretType));
  auto enqueue_token = [this](const ObjectRef& object) {
    token_queue_.Add(fmt::format("{}/{}", object->metadata().namespace_, object->metadata().name));
  };
  token_secrets_->AddEventHandler(
      {.on_add = [enqueue_token](const ObjectRef& object, bool) { enqueue_token(object); },
       .on_update = [enqueue_token](const ObjectRef&,
                                    const ObjectRef& object) { enqueue_token(object); }});
  accounts_->AddEventHandler({.on_delete = [this](const DeletedObject& deleted) {
    if (deleted.object) {
      EnqueueTokensOf(deleted.object->metadata().namespace_, deleted.object->metadata().name);
    }
  }});
  auto enqueue_bootstrap = [this](const ObjectRef& object) {
    bootstrap_queue_.Add(object->metadata().name);
  };
  bootstrap_secrets_->AddEventHandler(
      {.on_add = [enqueue_bootstrap](const ObjectRef& object, bool) { enqueue_bootstrap(object); },
       .on_update = [enqueue_bootstrap](const ObjectRef&,
                                        const ObjectRef& object) { enqueue_bootstrap(object); }});
  for (auto* informer : {token_secrets_.get(), accounts_.get(), bootstrap_secrets_.get()})
    informer->Run();
  token_workers_.Start(2);
  bootstrap_workers_.Start(1);
}

void TokenControllers::Stop() {
  token_workers_.Stop();
  bootstrap_workers_.Stop();
  client::rest::StopInformers({token_secrets_.get(), accounts_.get(), bootstrap_secrets_.get()});
}

void TokenControllers::EnqueueTokensOf(const std::string& ns, const std::string& account_name) {
  for (const auto& object : token_secrets_->store().List()) {
    const auto& metadata = object->metadata();
    if (metadata.namespace_ != ns) continue;
    auto found = metadata.annotations.find(std::string(kServiceAccountNameAnnotation));
    if (found != metadata.annotations.end() && found->second == account_name) {
      token_queue_.Add(fmt::format("{}/{}", ns, metadata.name));
    }
  }
}

Status TokenControllers::SyncTokenSecret(const std::string& key) {
  auto cached = JsonOf(token_secrets_->store().Get(key));
  if (!cached) return Ok();
  boost::json::object secret = std::move(*cached);
  const std::string ns = StringAt(secret, {"metadata", "namespace"});
  const std::string name = StringAt(secret, {"metadata", "name"});
  if (!StringAt(secret, {"metadata", "deletionTimestamp"}).empty()) return Ok();
  const std::string account_name =
      StringAt(secret, {"metadata", "annotations", kServiceAccountNameAnnotation});
  const std::string wanted_uid =
      StringAt(secret, {"metadata", "annotations", kServiceAccountUidAnnotation});
  if (account_name.empty()) return Ok();
  // Read from the server, not a cache: a secret made right after its account must not be
  // taken for an orphan.
  const auto account = reader_.ServiceAccount(ns, account_name);
  const std::string account_uid = account ? StringAt(*account, {"metadata", "uid"}) : std::string();
  if (!account || (!wanted_uid.empty() && wanted_uid != account_uid)) {
    // The token's service account is gone (or was replaced): so is the token, as upstream's.
    const auto deleted = reader_.Send(http::Request::LocalJson("DELETE", SecretPath(ns, name)));
    KLOG_INFO("deleted token secret {}/{}: service account {} is gone ({})", ns, name, account_name,
              deleted.status);
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
    auto token = tokens_.IssueLegacy(ns, {account_name, account_uid}, name);
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
  const auto updated = reader_.Send(
      http::Request::LocalJson("PUT", SecretPath(ns, name), boost::json::serialize(secret)));
  if (updated.status != 200 && updated.status != 409) {
    return Error(ErrorCode::kInternalError,
                 fmt::format("update of {}/{} answered {}", ns, name, updated.status));
  }
  return Ok();
}

controllers::KeySyncResult TokenControllers::CleanBootstrapToken(const std::string& name) {
  auto secret = JsonOf(bootstrap_secrets_->store().Get("kube-system/" + name));
  if (!secret) return Ok();
  const auto left = BootstrapTokenTimeLeft(*secret, clock_.Now());
  if (!left) return Ok();
  if (left->count() >= 0) {
    controllers::KeySyncResult later;
    // Looked at again daily at the latest: a far expiration would overflow the queue's clock.
    later.requeue_after =
        std::min<std::chrono::seconds>(*left + std::chrono::seconds(1), std::chrono::hours(24));
    return later;
  }
  const auto deleted =
      reader_.Send(http::Request::LocalJson("DELETE", SecretPath("kube-system", name)));
  KLOG_INFO("deleted expired bootstrap token kube-system/{} ({})", name, deleted.status);
  if (deleted.status >= 300 && deleted.status != 404) {
    return Status(
        Error(ErrorCode::kInternalError, fmt::format("delete answered {}", deleted.status)));
  }
  return Ok();
}

}  // namespace kpp::apiserver
