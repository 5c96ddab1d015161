#include "controllers/manager/controller_context.h"

#include "base/log.h"

namespace kpp::controllers {

ControllerIdentity IdentityOf(const std::string& controller) {
  // Upstream's service account names (its bootstrap controller policy) and event sources.
  static const std::map<std::string, ControllerIdentity> known = {
      {"bootstrapsigner", {"bootstrap-signer", "bootstrap-signer"}},
      {"clusterrole-aggregation",
       {"clusterrole-aggregation-controller", "clusterrole-aggregation-controller"}},
      {"cronjob", {"cronjob-controller", "cronjob-controller"}},
      {"csrapproving", {"certificate-controller", "csrapproving"}},
      {"csrcleaner", {"certificate-controller", "csrcleaner"}},
      {"csrsigning", {"certificate-controller", "csrsigning"}},
      {"daemonset", {"daemon-set-controller", "daemonset-controller"}},
      {"deployment", {"deployment-controller", "deployment-controller"}},
      {"disruption", {"disruption-controller", "controllermanager"}},
      {"endpoint", {"endpoint-controller", "endpoint-controller"}},
      {"endpointslice", {"endpointslice-controller", "endpoint-slice-controller"}},
      {"endpointslicemirroring",
       {"endpointslicemirroring-controller", "endpoint-slice-mirroring-controller"}},
      {"ephemeral-volume", {"ephemeral-volume-controller", "ephemeral_volume"}},
      {"garbagecollector", {"generic-garbage-collector", "garbage-collector-controller"}},
      {"horizontalpodautoscaling", {"horizontal-pod-autoscaler", "horizontal-pod-autoscaler"}},
      {"job", {"job-controller", "job-controller"}},
      {"legacy-service-account-token-cleaner",
       {"legacy-service-account-token-cleaner", "legacy-service-account-token-cleaner"}},
      {"namespace", {"namespace-controller", "namespace-controller"}},
      {"nodelifecycle", {"node-controller", "node-controller"}},
      {"persistentvolume-binder", {"persistent-volume-binder", "persistentvolume-controller"}},
      {"persistentvolume-expander", {"expand-controller", "volume_expand"}},
      {"podgc", {"pod-garbage-collector", "pod-garbage-collector"}},
      {"pv-protection", {"pv-protection-controller", "pv-protection-controller"}},
      {"pvc-protection", {"pvc-protection-controller", "pvc-protection-controller"}},
      {"replicaset", {"replicaset-controller", "replicaset-controller"}},
      {"replicationcontroller", {"replication-controller", "replication-controller"}},
      {"resourcequota", {"resourcequota-controller", "resourcequota-controller"}},
      {"root-ca-cert-publisher", {"root-ca-cert-publisher", "root-ca-cert-publisher"}},
      {"serviceaccount", {"service-account-controller", "service-account-controller"}},
      {"serviceaccount-token", {"tokens-controller", "tokens-controller"}},
      {"statefulset", {"statefulset-controller", "statefulset-controller"}},
      {"tokencleaner", {"token-cleaner", "token-cleaner"}},
      {"ttl", {"ttl-controller", "ttl-controller"}},
      {"ttl-after-finished", {"ttl-after-finished-controller", "ttl-after-finished-controller"}},
      {"validatingadmissionpolicy-status",
       {"validatingadmissionpolicy-status-controller", "validatingadmissionpolicy-status"}},
  };
  if (auto it = known.find(controller); it != known.end()) return it->second;
  return {controller + "-controller", controller + "-controller"};
}

ControllerContext::ControllerContext(std::shared_ptr<client::rest::RestClient> client,
                                     const std::string& event_component)
    : client_(std::move(client)),
      recorder_(client_, client::record::RecorderOptions{.component = event_component}),
      events_(recorder_) {}

ControllerContext::~ControllerContext() {
  recorder_.Shutdown();
}

ControllerContext& ControllerContexts::For(const std::string& controller) {
  auto& context = contexts_[controller];
  if (context) return *context;
  const ControllerIdentity identity = IdentityOf(controller);
  // Upstream's namespace controller (discovery, then a list and a delete per resource) gets a
  // client with 20 times the QPS and 100 times the burst.
  const ClientRateScale rate =
      controller == "namespace" ? ClientRateScale{.qps = 20, .burst = 100} : ClientRateScale{};
  auto client = builder_.Client(identity.service_account, rate);
  if (!client.ok()) {
    KLOG_ERROR("the client of controller {} (as {}): {}", controller, identity.service_account,
               client.error().message());
  }
  context = std::make_unique<ControllerContext>(client.ok() ? *client : anonymous_,
                                                identity.event_component);
  return *context;
}

}  // namespace kpp::controllers
