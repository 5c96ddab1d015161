// `kpp scheduler` and the scheduler inside `kpp server`: loads the configuration, connects to
// the API server with the client library (a kubeconfig, or a client config the caller hands
// over), optionally campaigns for the kube-system/kube-scheduler Lease, and serves /healthz and
// /metrics over HTTPS with a self-signed certificate, as kube-scheduler's secure port does.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/rest/config.h"
#include "client/rest/loopback_transport.h"

namespace kpp::scheduler {

struct SchedulerAppOptions {
  std::string kubeconfig;            // --kubeconfig (overrides clientConnection.kubeconfig)
  std::string config_file;           // --config
  std::optional<bool> leader_elect;  // --leader-elect (overrides the file)
  std::string bind_address = "0.0.0.0";
  int secure_port = 10259;  // 0: no /healthz and /metrics
  // When set, used instead of any kubeconfig: `kpp server` hands its URL here (with no
  // credentials, since its requests come in process; see below).
  std::optional<client::rest::RestConfig> client_config;
  // When set, requests go to this handler in the same process instead of over HTTPS:
  // `kpp server` hands its API server's HandleAs with the scheduler's user, which authenticates,
  // authorizes and audits them as it would over a connection, without the TLS and HTTP.
  client::rest::LoopbackHandler in_process_handler;
  std::string identity;  // leader election identity; default hostname + random suffix
};

class SchedulerApp {
 public:
  static Result<std::unique_ptr<SchedulerApp>> Start(SchedulerAppOptions options);
  virtual ~SchedulerApp() = default;
  virtual void Stop() = 0;
  // The secure port actually listened on (0 when none).
  virtual int port() const = 0;
};

// Runs until SIGTERM/SIGINT; the exit code.
int RunSchedulerCommand(const SchedulerAppOptions& options);

}  // namespace kpp::scheduler
