// `kpp server`: the control plane (and, in later issues, a local node) in one process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "controllers/manager/controller_manager.h"

namespace kpp::server {

// Flags of `kpp server`, named after k3s's.
struct ServerConfig {
  std::string data_dir = "/var/lib/kpp";
  std::string bind_address = "0.0.0.0";
  uint16_t https_listen_port = 6443;  // 0 picks a free port (tests use this)
  bool disable_agent = false;
  std::string write_kubeconfig;  // empty: <data_dir>/kubeconfig.yaml
  mode_t write_kubeconfig_mode = 0600;
  // etcd client URLs, comma-separated; empty: the embedded SQLite store in <data_dir>/db.
  std::string datastore_endpoint;
  std::string datastore_cafile;
  std::string datastore_certfile;
  std::string datastore_keyfile;
  std::chrono::seconds event_ttl{3600};          // --event-ttl
  std::string token_auth_file;                   // --token-auth-file
  std::string authorization_mode = "Node,RBAC";  // --authorization-mode; or AlwaysAllow
  std::string service_account_issuer = "https://kubernetes.default.svc.cluster.local";
  // Upstream's --encryption-provider-config; empty: <data_dir>/cred/encryption-config.json,
  // generated at the first start (secrets under AES-GCM).
  std::string encryption_provider_config;
  // Upstream's audit flags (see apiserver/audit/auditor.h).
  std::string audit_log_path;     // --audit-log-path: a file or "-" (stdout)
  std::string audit_policy_file;  // --audit-policy-file
  int audit_log_maxage = 0;       // days
  int audit_log_maxbackup = 0;
  int audit_log_maxsize = 0;  // megabytes
  // Admission plugins added to / removed from the default set (upstream's flags of these names).
  std::vector<std::string> enable_admission_plugins;
  std::vector<std::string> disable_admission_plugins;
  std::string admission_control_config_file;  // upstream's --admission-control-config-file
  bool disable_controller_manager = false;    // --disable-controller-manager
  // The embedded controller manager (its client config is filled in by the server). No /healthz
  // port of its own by default: the API server's is the process's.
  controllers::ControllerManagerOptions controller_manager = [] {
    controllers::ControllerManagerOptions options;
    options.secure_port = -1;
    return options;
  }();
  bool disable_scheduler = false;  // --disable-scheduler
  std::string scheduler_config;    // --scheduler-config: a KubeSchedulerConfiguration
};

// Runs the server until SIGTERM or SIGINT, then shuts down cleanly. Returns the exit code: 0
// after a clean shutdown, 1 when it could not start (the reason is logged as one error line).
int RunServer(const ServerConfig& config);

}  // namespace kpp::server
