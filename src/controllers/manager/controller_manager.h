// kube-controller-manager: one shared informer factory, the enabled controllers started on it
// once this instance leads (Lease kube-system/kube-controller-manager, 15 s / 10 s / 2 s), and
// /healthz on an HTTPS port of its own (a self-signed certificate, as upstream makes when given
// none). Runs as `kpp controller-manager` and inside `kpp server`, in both cases a client of the
// API server like any other.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "client/rest/config.h"
#include "controllers/certificates/certificate_controllers.h"
#include "controllers/nodelifecycle/node_lifecycle.h"
#include "controllers/podautoscaler/horizontal.h"

namespace kpp::controllers {

struct ControllerManagerOptions {
  // How to reach the API server and as whom (`kpp server` passes its own).
  client::rest::RestConfig client_config;
  // Upstream's --use-service-account-credentials: each controller runs as the service account
  // kube-system/<its name> (client_builder.h) instead of as client_config's user.
  bool use_service_account_credentials = false;
  // Upstream's --controllers: "*" enables the default ones, "foo" one by name, "-foo" disables.
  std::vector<std::string> controllers = {"*"};
  bool leader_elect = true;
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  std::string identity;  // default: hostname_<random>
  int concurrent_replicaset_syncs = 5;
  int concurrent_rc_syncs = 5;
  int concurrent_deployment_syncs = 5;
  int concurrent_gc_syncs = 20;
  int concurrent_namespace_syncs = 10;
  size_t max_endpoints_per_slice = 100;     // --max-endpoints-per-slice
  int terminated_pod_gc_threshold = 12500;  // --terminated-pod-gc-threshold (0: off)
  NodeLifecycleOptions node_lifecycle;
  // --horizontal-pod-autoscaler-*, --concurrent-horizontal-pod-autoscaler-syncs
  podautoscaler::HorizontalControllerOptions horizontal_pod_autoscaler;
  // csrsigning's CA and --cluster-signing-duration (`kpp server` passes the cluster CA).
  certificates::CsrSigningOptions csr_signing;
  // --service-account-private-key-file: the key the tokens controller ("serviceaccount-token")
  // signs secret-based tokens with; without it that controller does not run, as upstream.
  std::string service_account_private_key_file;
  // --root-ca-file: published as kube-root-ca.crt and put in token secrets; empty: the CA of
  // client_config.
  std::string root_ca_file;
  // /healthz; port 0 picks a free one, a negative port serves none.
  std::string bind_address = "127.0.0.1";
  int secure_port = 10257;
};

// The controllers this build knows, by upstream's names.
const std::vector<std::string>& KnownControllers();
// Which of KnownControllers() `flags` enables; an error names an unknown one.
Result<std::vector<std::string>> EnabledControllers(const std::vector<std::string>& flags);

class ControllerManager {
 public:
  static Result<std::unique_ptr<ControllerManager>> Start(ControllerManagerOptions options);
  ~ControllerManager();
  // Stops the controllers and informers and releases the lease.
  void Stop();
  bool IsLeader() const;
  int healthz_port() const;

 private:
  struct State;
  explicit ControllerManager(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// `kpp controller-manager`: runs until SIGTERM or SIGINT; returns the exit code.
int RunControllerManager(ControllerManagerOptions options, const std::string& kubeconfig);

}  // namespace kpp::controllers
