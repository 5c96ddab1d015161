#include "scheduler/app.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "base/random.h"
#include "client/leaderelection/leader_elector.h"
#include "client/rest/rest_client.h"
#include "http/server.h"
#include "pki/certificates.h"
#include "scheduler/config.h"

namespace kpp::scheduler {
namespace {

std::string Hostname() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "kpp";
  return buffer;
}

class SchedulerAppImpl final : public SchedulerApp {
 public:
  ~SchedulerAppImpl() override { Stop(); }

  Status Init(SchedulerAppOptions options) {
    SchedulerConfiguration config = DefaultSchedulerConfiguration();
    if (!options.config_file.empty()) {
      KPP_ASSIGN_OR_RETURN(config, LoadSchedulerConfiguration(options.config_file));
    }
    if (options.leader_elect) config.leader_election.leader_elect = *options.leader_elect;
    client::rest::RestConfig rest;
    if (options.client_config) {
      rest = *options.client_config;
    } else {
      const std::string kubeconfig =
          !options.kubeconfig.empty() ? options.kubeconfig : config.kubeconfig;
      if (kubeconfig.empty()) {
        auto in_cluster = client::rest::InClusterConfig();
        if (!in_cluster.ok()) {
          return InvalidError("no --kubeconfig given and not running in a cluster");
        }
        rest = *in_cluster;
      } else {
        KPP_ASSIGN_OR_RETURN(rest, client::rest::LoadKubeconfig(kubeconfig));
      }
    }
    rest.qps = config.qps;
    rest.burst = config.burst;
    rest.user_agent = "kpp-scheduler";
    if (options.in_process_handler) {
      client_ = std::make_shared<client::rest::RestClient>(
          rest, std::make_unique<client::rest::LoopbackTransport>(options.in_process_handler));
    } else {
      KPP_ASSIGN_OR_RETURN(client_, client::rest::RestClient::Create(rest));
    }
    identity_ =
        options.identity.empty() ? fmt::format("{}_{}", Hostname(), NewUuid()) : options.identity;
    config.options.identity = identity_;
    KPP_ASSIGN_OR_RETURN(scheduler_, Scheduler::Create(client_, config.options, &metrics_));

    if (options.secure_port != 0) KPP_RETURN_IF_ERROR(Serve(options));

    if (config.leader_election.leader_elect) {
      client::leaderelection::LeaderElectionConfig election;
      election.lease_namespace = config.leader_election.resource_namespace;
      election.lease_name = config.leader_election.resource_name;
      election.identity = identity_;
      election.lease_duration = config.leader_election.lease_duration;
      election.renew_deadline = config.leader_election.renew_deadline;
      election.retry_period = config.leader_election.retry_period;
      election.callbacks.on_started_leading = [this] {
        KLOG_INFO("scheduler {} became the leader; scheduling", identity_);
        scheduler_->Start();
      };
      election.callbacks.on_stopped_leading = [this] {
        if (stopping_) return;
        // upstream's kube-scheduler exits when it loses the lease, so that it never schedules
        // next to the new leader.
        KLOG_ERROR("scheduler {} lost the leader lease; exiting", identity_);
        std::_Exit(1);
      };
      KPP_ASSIGN_OR_RETURN(elector_,
                           client::leaderelection::LeaderElector::Create(client_, election));
      elector_thread_ = std::thread([this] { elector_->Run(); });
    } else {
      scheduler_->Start();
    }
    KLOG_INFO("scheduler started ({} profile(s), leader election {})",
              config.options.profiles.size(), config.leader_election.leader_elect ? "on" : "off");
    return Ok();
  }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    if (elector_) elector_->Stop();
    if (elector_thread_.joinable()) elector_thread_.join();
    if (scheduler_) scheduler_->Stop();
    if (server_) server_->Stop();
  }

  int port() const override { return server_ ? server_->port() : 0; }

 private:
  Status Serve(const SchedulerAppOptions& options) {
    // A self-signed serving certificate made at start, as kube-scheduler does without
    // --tls-cert-file.
    KPP_ASSIGN_OR_RETURN(auto ca,
                         pki::GenerateCa("kpp-scheduler-ca", std::chrono::hours(24 * 365)));
    pki::CertificateRequest request;
    request.common_name = "kpp-scheduler";
    request.dns_names = {"localhost", Hostname()};
    request.ip_addresses = {"127.0.0.1"};
    KPP_ASSIGN_OR_RETURN(auto serving, pki::IssueCertificate(ca, request));
    http::ServerOptions server_options;
    server_options.bind_address = options.bind_address;
    server_options.port = static_cast<uint16_t>(options.secure_port < 0 ? 0 : options.secure_port);
    server_options.tls = {serving.certificate_pem + ca.certificate_pem, serving.private_key_pem,
                          ca.certificate_pem};
    server_options.min_handler_threads = 1;
    server_options.max_handler_threads = 4;
    KPP_ASSIGN_OR_RETURN(server_, http::StartServer(server_options, [this](const http::Request& r) {
                           return Handle(r);
                         }));
    KLOG_INFO("scheduler serving /healthz and /metrics on {}:{}", options.bind_address,
              server_->port());
    return Ok();
  }

  http::Response Handle(const http::Request& request) {
    http::Response response;
    response.SetHeader("Content-Type", "text/plain; charset=utf-8");
    if (request.path == "/healthz" || request.path == "/livez" || request.path == "/readyz" ||
        request.path.starts_with("/healthz/") || request.path.starts_with("/livez/")) {
      response.body = "ok";
    } else if (request.path == "/metrics") {
      response.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      response.body = metrics_.Render();
    } else {
      response.status = 404;
      response.body = "404 page not found\n";
    }
    return response;
  }

  std::shared_ptr<client::rest::RestClient> client_;
  std::string identity_;
  SchedulerMetrics metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<client::leaderelection::LeaderElector> elector_;
  std::thread elector_thread_;
  http::ServerPtr server_;
  std::atomic<bool> stopping_ = false;
};

}  // namespace

Result<std::unique_ptr<SchedulerApp>> SchedulerApp::Start(SchedulerAppOptions options) {
  auto app = std::make_unique<SchedulerAppImpl>();
  KPP_RETURN_IF_ERROR(app->Init(std::move(options)));
  return std::unique_ptr<SchedulerApp>(std::move(app));
}

int RunSchedulerCommand(const SchedulerAppOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  auto app = SchedulerApp::Start(options);
  if (!app.ok()) {
    KLOG_ERROR("{}", app.error().message());
    return 1;
  }
  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  KLOG_INFO("received {}, stopping the scheduler", strsignal(signal_number));
  (*app)->Stop();
  return 0;
}

}  // namespace kpp::scheduler
