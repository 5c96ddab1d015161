// `kpp server`: the control plane (and, in later issues, a local node) in one process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

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
  std::chrono::seconds event_ttl{3600};  // --event-ttl
  std::string token_auth_file;           // --token-auth-file
  bool disable_scheduler = false;        // --disable-scheduler
  std::string scheduler_config;          // --scheduler-config: a KubeSchedulerConfiguration
};

// Runs the server until SIGTERM or SIGINT, then shuts down cleanly. Returns the exit code: 0
// after a clean shutdown, 1 when it could not start (the reason is logged as one error line).
int RunServer(const ServerConfig& config);

}  // namespace kpp::server
