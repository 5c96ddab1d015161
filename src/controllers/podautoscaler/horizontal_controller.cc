// RestHpaClient and HorizontalController: the autoscaler's I/O around HorizontalSyncer.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/metrics.k8s.io/v1beta1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "base/log.h"
#include "client/rest/resource.h"
#include "controllers/podautoscaler/horizontal.h"

namespace kpp::controllers::podautoscaler {
namespace {

using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

std::pair<std::string, std::string> SplitGroupVersion(const std::string& api_version) {
  const auto slash = api_version.find('/');
  if (slash == std::string::npos) return {"", api_version};
  return {api_version.substr(0, slash), api_version.substr(slash + 1)};
}

std::string GroupVersionPath(const std::string& group, const std::string& version) {
  return group.empty() ? "/api/" + version : fmt::format("/apis/{}/{}", group, version);
}

}  // namespace

Result<std::string> RestHpaClient::ScalePath(
    const std::string& ns, const autoscaling::CrossVersionObjectReference& target) {
  const auto [group, version] = SplitGroupVersion(target.api_version);
  if (version.empty()) {
    return InvalidError(
        fmt::format("unable to determine resource for scale target reference: "
                    "no version in apiVersion \"{}\"",
                    target.api_version));
  }
  std::string plural;
  for (const api::KindInfo& kind : api::AllKinds()) {
    if (kind.group == group && kind.version == version && kind.kind == target.kind) {
      plural = std::string(kind.plural);
    }
  }
  if (plural.empty()) {
    // A custom resource: discovery of its group version names the resource.
    auto mapping = discovery_.ResourceFor(target.api_version, target.kind);
    if (!mapping.ok()) {
      return Error(
          mapping.error().code(),
          "unable to determine resource for scale target reference: " + mapping.error().message());
    }
    plural = mapping->resource;
  }
  return fmt::format("{}/namespaces/{}/{}/{}/scale", GroupVersionPath(group, version), ns, plural,
                     target.name);
}

Result<Scale> RestHpaClient::GetScale(const std::string& ns,
                                      const autoscaling::CrossVersionObjectReference& target) {
  KPP_ASSIGN_OR_RETURN(std::string path, ScalePath(ns, target));
  KPP_ASSIGN_OR_RETURN(auto response, client_->Do({.path = path}));
  KPP_ASSIGN_OR_RETURN(auto decoded, api::FromJson<Scale>(response.body));
  return std::move(decoded.object);
}

Status RestHpaClient::UpdateScale(const std::string& ns,
                                  const autoscaling::CrossVersionObjectReference& target,
                                  const Scale& scale) {
  KPP_ASSIGN_OR_RETURN(std::string path, ScalePath(ns, target));
  Scale body = scale;
  body.api_version = "autoscaling/v1";
  body.kind = "Scale";
  KPP_ASSIGN_OR_RETURN(auto response,
                       client_->Do({.method = "PUT", .path = path, .body = api::ToJson(body)}));
  (void)response;
  return Ok();
}

Result<api::metrics_k8s_io::v1beta1::PodMetricsList> RestHpaClient::ListPodMetrics(
    const std::string& ns, const std::string& selector) {
  client::rest::Request request;
  request.path = fmt::format("/apis/metrics.k8s.io/v1beta1/namespaces/{}/pods", ns);
  if (!selector.empty()) request.query.emplace_back("labelSelector", selector);
  KPP_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  KPP_ASSIGN_OR_RETURN(auto decoded,
                       api::FromJson<api::metrics_k8s_io::v1beta1::PodMetricsList>(response.body));
  return std::move(decoded.object);
}

Status RestHpaClient::UpdateStatus(const autoscaling::HorizontalPodAutoscaler& hpa) {
  client::TypedResource<autoscaling::HorizontalPodAutoscaler> hpas(client_,
                                                                   hpa.metadata.namespace_);
  KPP_ASSIGN_OR_RETURN(auto updated, hpas.UpdateStatus(hpa));
  (void)updated;
  return Ok();
}

// ---- the controller ----------------------------------------------------------------------------

HorizontalController::HorizontalController(client::informers::SharedInformerFactory& factory,
                                           HpaClient& client, EventSink& events,
                                           HorizontalControllerOptions options, Clock& clock)
    : hpa_informer_(factory.InformerFor<autoscaling::HorizontalPodAutoscaler>()),
      pods_informer_(factory.InformerFor<Pod>()),
      pods_(pods_informer_),
      options_(options),
      syncer_(pods_, client, events, clock, options.syncer),
      queue_(client::workqueue::DefaultControllerRateLimiter(), clock),
      workers_(queue_,
               SyncCached<autoscaling::HorizontalPodAutoscaler>(
                   hpa_informer_,
                   [this](const std::string& key, const autoscaling::HorizontalPodAutoscaler* hpa) {
                     KeySyncResult result = syncer_.Sync(key, hpa);
                     // Upstream's queue resyncs every autoscaler once a sync period, failed or
                     // not, and never sooner.
                     if (hpa != nullptr) result.requeue_after = options_.sync_period;
                     return result;
                   }),
               {.what = "syncing HorizontalPodAutoscaler",
                .max_retries = 0,
                .requeue_after_failure = true}) {
  hpa_informer_.AddEventHandler(
      {.on_add = [this](const ObjectRef& object, bool) { Enqueue(object->metadata()); },
       .on_update =
           [this](const ObjectRef& old_object, const ObjectRef& new_object) {
             // Our own status writes come back as updates; only a new spec is news.
             if (old_object->metadata().generation != new_object->metadata().generation) {
               Enqueue(new_object->metadata());
             }
           },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (deleted.object) Enqueue(deleted.object->metadata());
           }});
}

HorizontalController::~HorizontalController() {
  Stop();
}

void HorizontalController::Enqueue(const api::meta::v1::ObjectMeta& metadata) {
  queue_.Add(KeyOf(metadata));
}

void HorizontalController::Run() {
  workers_.Start(options_.workers);
}

void HorizontalController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers::podautoscaler
