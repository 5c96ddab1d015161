#include "controllers/bootstrap/token_cleaner.h"

#include <algorithm>

#include "apiserver/authn/bootstrap_token_secret.h"
#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::controllers::bootstrap {
namespace {

using api::core::v1::Secret;
using client::informers::ObjectRef;

}  // namespace

Status RestTokenCleanerClient::DeleteSecret(const std::string& ns, const std::string& name,
                                            const std::string& uid) {
  client::DeleteOptions options;
  options.precondition_uid = uid;
  return client::TypedResource<Secret>(client_, ns).Delete(name, options);
}

bool IsBootstrapTokenSecret(const Secret& secret) {
  return secret.type == apiserver::kBootstrapTokenSecretType &&
         secret.metadata.namespace_ == apiserver::kBootstrapTokenNamespace;
}

KeySyncResult TokenCleanerSyncer::Sync(const Secret* secret) {
  if (secret == nullptr || !IsBootstrapTokenSecret(*secret)) return Ok();
  const auto found = secret->data.find("expiration");
  const auto left = apiserver::BootstrapTokenTimeLeft(
      found == secret->data.end() ? std::string_view() : std::string_view(found->second),
      clock_.Now());
  if (!left) return Ok();
  if (left->count() >= 0) {
    KeySyncResult later;
    later.requeue_after = std::min<Clock::Duration>(
        *left + std::chrono::seconds(1),
        std::chrono::duration_cast<Clock::Duration>(kLongestTokenRecheck));
    return later;
  }
  KLOG_V(3, "deleting expired bootstrap token {}/{}", secret->metadata.namespace_,
         secret->metadata.name);
  auto deleted = client_.DeleteSecret(secret->metadata.namespace_, secret->metadata.name,
                                      secret->metadata.uid);
  // Gone already, or another token under the same name now: nothing left to do.
  if (!deleted.ok() && !client::IsNotFound(deleted.error()) &&
      !client::IsConflict(deleted.error())) {
    return Status(std::move(deleted).error().WithContext(
        fmt::format("deleting expired bootstrap token {}", secret->metadata.name)));
  }
  return Ok();
}

TokenCleaner::TokenCleaner(client::informers::SharedInformerFactory& factory,
                           TokenCleanerClient& client, const Clock& clock)
    : secrets_(factory.InformerFor<Secret>()),
      syncer_(client, clock),
      workers_(queue_,
               SyncCached<Secret>(secrets_,
                                  [this](const std::string&, const Secret* secret) {
                                    return syncer_.Sync(secret);
                                  }),
               {.what = "cleaning bootstrap token"}) {
  auto enqueue = [this](const ObjectRef& object) {
    auto secret = client::informers::As<Secret>(object);
    if (secret && IsBootstrapTokenSecret(*secret)) queue_.Add(KeyOf(secret->metadata));
  };
  secrets_.AddEventHandler(
      {.on_add = [enqueue](const ObjectRef& object, bool) { enqueue(object); },
       .on_update = [enqueue](const ObjectRef&, const ObjectRef& object) { enqueue(object); }});
}

TokenCleaner::~TokenCleaner() {
  Stop();
}

void TokenCleaner::Run() {
  // One worker, as upstream's.
  workers_.Start(1);
}

void TokenCleaner::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers::bootstrap
