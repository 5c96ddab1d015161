// The horizontal pod autoscaler (upstream's pkg/controller/podautoscaler/horizontal.go): each
// sync reads the target's scale subresource, computes the replicas each metric asks for from
// metrics.k8s.io (resource and container-resource metrics), stabilizes the recommendation,
// limits the change by the scaling rules (behavior) or by upstream's fixed rate when there is
// none, writes the scale, and reports status, conditions (AbleToScale, ScalingActive,
// ScalingLimited) and events with upstream's reasons and messages.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/autoscaling/v1/types.h"
#include "api/autoscaling/v2/types.h"
#include "apimachinery/labels/selector.h"
#include "client/discovery/cached_discovery.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "controllers/podautoscaler/replica_calculator.h"

namespace kpp::controllers::podautoscaler {

namespace autoscaling = api::autoscaling::v2;
using api::autoscaling::v1::Scale;

// The requests the autoscaler makes. Every method is one API request.
class HpaClient {
 public:
  virtual ~HpaClient() = default;
  virtual Result<Scale> GetScale(const std::string& ns,
                                 const autoscaling::CrossVersionObjectReference& target) = 0;
  virtual Status UpdateScale(const std::string& ns,
                             const autoscaling::CrossVersionObjectReference& target,
                             const Scale& scale) = 0;
  // metrics.k8s.io/v1beta1 PodMetrics of the namespace matching `selector`.
  virtual Result<api::metrics_k8s_io::v1beta1::PodMetricsList> ListPodMetrics(
      const std::string& ns, const std::string& selector) = 0;
  virtual Status UpdateStatus(const autoscaling::HorizontalPodAutoscaler& hpa) = 0;
};

// A past change of the replica count, for the scaling policies' periods.
struct ScaleEvent {
  int32_t replica_change = 0;
  Clock::TimePoint timestamp{};
  bool outdated = false;
};

struct TimestampedRecommendation {
  int32_t recommendation = 0;
  Clock::TimePoint timestamp{};
};

// The most replicas the scale-up rules allow now (upstream's
// calculateScaleUpLimitWithScalingRules), given the changes made within the policies' periods.
int32_t ScaleUpLimit(int32_t current_replicas, const std::vector<ScaleEvent>& up_events,
                     const std::vector<ScaleEvent>& down_events,
                     const autoscaling::HPAScalingRules& rules, Clock::TimePoint now);
// The fewest replicas the scale-down rules allow now.
int32_t ScaleDownLimit(int32_t current_replicas, const std::vector<ScaleEvent>& up_events,
                       const std::vector<ScaleEvent>& down_events,
                       const autoscaling::HPAScalingRules& rules, Clock::TimePoint now);

// Sets (or adds) a condition; its lastTransitionTime changes only when its status does.
void SetCondition(autoscaling::HorizontalPodAutoscaler& hpa, const std::string& type,
                  const std::string& status, const std::string& reason, const std::string& message,
                  Clock::TimePoint now);

struct HorizontalOptions {
  // --horizontal-pod-autoscaler-downscale-stabilization
  std::chrono::seconds downscale_stabilization_window{300};
  ReplicaCalculatorOptions calculator;
};

// One sync of one autoscaler; keeps, per autoscaler, the recent recommendations and scale
// events the stabilization windows and policies look at (in memory, as upstream).
class HorizontalSyncer {
 public:
  HorizontalSyncer(const ObjectLister<Pod>& pods, HpaClient& client, EventSink& events,
                   Clock& clock, HorizontalOptions options = {})
      : pods_(pods), client_(client), events_(events), clock_(clock), options_(options) {}

  // `hpa` is null when it is gone (its memory is forgotten).
  Status Sync(const std::string& key, const autoscaling::HorizontalPodAutoscaler* hpa);

 private:
  struct History {
    std::vector<TimestampedRecommendation> recommendations;
    std::vector<ScaleEvent> up_events;
    std::vector<ScaleEvent> down_events;
  };
  struct MetricsResult {
    int32_t replicas = -1;  // -1: no valid metric
    std::string metric_name;
    std::vector<autoscaling::MetricStatus> statuses;
    std::optional<Error> error;
  };

  Status Reconcile(const std::string& key, autoscaling::HorizontalPodAutoscaler hpa);
  MetricsResult ComputeReplicasForMetrics(const std::string& key,
                                          autoscaling::HorizontalPodAutoscaler& hpa,
                                          const Scale& scale);
  // One metric: the replicas it proposes and its name, or an error with the condition to set.
  Result<std::pair<int32_t, std::string>> ComputeReplicasForMetric(
      autoscaling::HorizontalPodAutoscaler& hpa, const autoscaling::MetricSpec& spec,
      int32_t spec_replicas, const labels::Selector& selector, const std::string& selector_text,
      autoscaling::MetricStatus& status, autoscaling::HorizontalPodAutoscalerCondition& condition);
  int32_t NormalizeDesiredReplicas(autoscaling::HorizontalPodAutoscaler& hpa, History& history,
                                   int32_t current_replicas, int32_t desired, int32_t min_replicas);
  int32_t NormalizeDesiredReplicasWithBehaviors(autoscaling::HorizontalPodAutoscaler& hpa,
                                                History& history, int32_t current_replicas,
                                                int32_t desired, int32_t min_replicas);
  void StoreScaleEvent(const autoscaling::HorizontalPodAutoscaler& hpa, History& history,
                       int32_t previous, int32_t replicas);
  Status UpdateStatusIfNeeded(const autoscaling::HorizontalPodAutoscalerStatus& original,
                              const autoscaling::HorizontalPodAutoscaler& hpa);
  void Event(const autoscaling::HorizontalPodAutoscaler& hpa, const std::string& type,
             const std::string& reason, const std::string& message);

  const ObjectLister<Pod>& pods_;
  HpaClient& client_;
  EventSink& events_;
  Clock& clock_;
  HorizontalOptions options_;
  std::mutex mutex_;  // guards the maps below (workers sync different keys at once)
  std::map<std::string, History> history_;
  // Each autoscaler's last target selector, to refuse pods two autoscalers would both scale.
  std::map<std::string, labels::Selector> selectors_;
};

// HpaClient over the client library: the scale subresource of any kind (built-in kinds from the
// kind table, others found by discovery), metrics.k8s.io lists, and /status PUTs.
class RestHpaClient final : public HpaClient {
 public:
  // `discovery` (shared with other controllers) maps the kinds the kind table does not know.
  RestHpaClient(std::shared_ptr<client::rest::RestClient> client,
                client::discovery::CachedDiscovery& discovery)
      : client_(std::move(client)), discovery_(discovery) {}
  Result<Scale> GetScale(const std::string& ns,
                         const autoscaling::CrossVersionObjectReference& target) override;
  Status UpdateScale(const std::string& ns, const autoscaling::CrossVersionObjectReference& target,
                     const Scale& scale) override;
  Result<api::metrics_k8s_io::v1beta1::PodMetricsList> ListPodMetrics(
      const std::string& ns, const std::string& selector) override;
  Status UpdateStatus(const autoscaling::HorizontalPodAutoscaler& hpa) override;

 private:
  Result<std::string> ScalePath(const std::string& ns,
                                const autoscaling::CrossVersionObjectReference& target);
  std::shared_ptr<client::rest::RestClient> client_;
  client::discovery::CachedDiscovery& discovery_;
};

struct HorizontalControllerOptions {
  int workers = 5;  // --concurrent-horizontal-pod-autoscaler-syncs
  // --horizontal-pod-autoscaler-sync-period: how often each autoscaler is synced.
  std::chrono::milliseconds sync_period{15'000};
  HorizontalOptions syncer;
};

// The informer wiring (autoscalers, pods) and workers around HorizontalSyncer; every autoscaler
// is synced again each sync period, as upstream's resync does.
class HorizontalController {
 public:
  HorizontalController(client::informers::SharedInformerFactory& factory, HpaClient& client,
                       EventSink& events, HorizontalControllerOptions options = {},
                       Clock& clock = RealClock());
  ~HorizontalController();
  void Run();
  void Stop();

 private:
  void Enqueue(const api::meta::v1::ObjectMeta& metadata);

  client::informers::SharedInformer& hpa_informer_;
  client::informers::SharedInformer& pods_informer_;
  InformerLister<Pod> pods_;
  HorizontalControllerOptions options_;
  HorizontalSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers::podautoscaler
