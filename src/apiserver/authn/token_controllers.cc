#include "apiserver/authn/token_controllers.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/core/v1/codec.h"
#include "apiserver/authn/bootstrap_token.h"
#include "base/log.h"
#include "base/version.h"
#include "client/informers/object_json.h"
#include "client/rest/loopback_transport.h"
#include "client/rest/resource.h"

namespace kpp::apiserver {
namespace {

using client::informers::JsonOf;
using client::informers::ObjectRef;
using client::informers::SharedInformer;

std::string SecretPath(std::string_view ns, std::string_view name) {
  return fmt::format("/api/v1/namespaces/{}/secrets/{}", ns, name);
}

}  // namespace

BootstrapTokenCleaner::BootstrapTokenCleaner(const ObjectReader& reader, const Clock& clock)
    : reader_(reader),
      clock_(clock),
      bootstrap_workers_(bootstrap_queue_,
                         [this](const std::string& name) { return CleanBootstrapToken(name); },
                         {.what = "bootstrap token"}) {}

BootstrapTokenCleaner::~BootstrapTokenCleaner() {
  Stop();
}

void BootstrapTokenCleaner::Start() {
  auto client = client::rest::NewLoopbackClient(
      [reader = &reader_](const http::Request& request) { return reader->Send(request); },
      fmt::format("kube-controller-manager/{} (linux/amd64) kubernetes/kpp",
                  KubernetesGitVersion()));
  client::informers::InformerOptions options;
  options.selectors.field_selector = fmt::format("type={}", kBootstrapTokenSecretType);
  bootstrap_secrets_ = std::make_unique<SharedInformer>(
      client::DynamicResource(client, client::KindFor<api::core::v1::Secret>(), "kube-system"),
      std::move(options));
  auto enqueue_bootstrap = [this](const ObjectRef& object) {
    bootstrap_queue_.Add(object->metadata().name);
  };
  bootstrap_secrets_->AddEventHandler(
      {.on_add = [enqueue_bootstrap](const ObjectRef& object, bool) { enqueue_bootstrap(object); },
       .on_update = [enqueue_bootstrap](const ObjectRef&,
                                        const ObjectRef& object) { enqueue_bootstrap(object); }});
  bootstrap_secrets_->Run();
  bootstrap_workers_.Start(1);
}

void BootstrapTokenCleaner::Stop() {
  bootstrap_workers_.Stop();
  client::rest::StopInformers({bootstrap_secrets_.get()});
}

controllers::KeySyncResult BootstrapTokenCleaner::CleanBootstrapToken(const std::string& name) {
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
