#include "etcd_process.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/files.h"

namespace kpp::storage::testing {

using namespace std::chrono_literals;

namespace {

constexpr const char* kEtcdBinary = "/usr/bin/etcd";

}  // namespace

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  close(fd);
  return port;
}

EtcdProcess::EtcdProcess()
    : dir_(MakeTempDirectory("kpp-etcd-").value()),
      client_port_(FreeLoopbackPort()),
      peer_port_(FreeLoopbackPort()) {}

EtcdProcess::~EtcdProcess() {
  Kill();
  RemoveAll(dir_);
}

std::string EtcdProcess::client_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(client_port_);
}

EtcdStoreOptions EtcdProcess::StoreOptions() const {
  EtcdStoreOptions options;
  options.endpoints = {client_url()};
  options.dial_timeout = 2s;
  options.request_timeout = 10s;
  options.watch_reconnect_timeout = 20s;
  if (tls_) {
    options.ca_file = tls_->ca_file;
    options.cert_file = tls_->client_cert_file;
    options.key_file = tls_->client_key_file;
  }
  return options;
}

::testing::AssertionResult EtcdProcess::Start(const EtcdTlsFiles* tls,
                                              const std::vector<std::string>& extra_args) {
  if (!PathExists(kEtcdBinary))
    return ::testing::AssertionFailure()
           << kEtcdBinary << " is missing: install Debian's etcd-server (scripts/install-deps)";
  if (tls != nullptr) tls_ = std::make_unique<EtcdTlsFiles>(*tls);
  extra_args_ = extra_args;
  // A free port can be taken by another process before etcd binds it: then start afresh on
  // other ports (the data dir records the peer URL, so it goes too).
  for (int attempt = 1;; ++attempt) {
    bool port_taken = false;
    auto started = Launch(&port_taken);
    if (started || !port_taken || attempt == 5) return started;
    Kill();
    RemoveAll(dir_ + "/data");
    client_port_ = FreeLoopbackPort();
    peer_port_ = FreeLoopbackPort();
  }
}

::testing::AssertionResult EtcdProcess::Launch(bool* port_taken) {
  if (client_port_ == 0 || peer_port_ == 0 || client_port_ == peer_port_) {
    *port_taken = true;
    return ::testing::AssertionFailure() << "no two free loopback ports";
  }
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port_);
  std::vector<std::string> argv = {
      kEtcdBinary,
      "--name=kpp-test",
      "--data-dir=" + dir_ + "/data",
      "--listen-client-urls=" + client_url(),
      "--advertise-client-urls=" + client_url(),
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=kpp-test=" + peer_url,
      "--initial-cluster-state=new",
      // A lone member elects itself after one election timeout: keep start-up short.
      "--heartbeat-interval=10",
      "--election-timeout=100",
      // The tests' data is thrown away; fsync would only make them slow on slow disks.
      "--unsafe-no-fsync",
      "--logger=zap",
      "--log-level=warn",
  };
  if (tls_) {
    argv.push_back("--cert-file=" + tls_->cert_file);
    argv.push_back("--key-file=" + tls_->key_file);
    if (!tls_->client_ca_file.empty()) {
      argv.push_back("--trusted-ca-file=" + tls_->client_ca_file);
      argv.push_back("--client-cert-auth");
    }
  }
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  const std::string output_dir = dir_ + "/run" + std::to_string(starts_++);
  if (!EnsureWritableDirectory(output_dir, 0700).ok())
    return ::testing::AssertionFailure() << "cannot create " << output_dir;
  process_ = std::make_unique<kpp::testing::Process>();
  std::string error;
  if (!process_->Start(argv, output_dir, &error))
    return ::testing::AssertionFailure() << "cannot start etcd: " << error;

  // Ready when a store can connect and a linearizable read succeeds (a leader exists).
  EtcdStoreOptions options = StoreOptions();
  options.dial_timeout = 200ms;
  options.request_timeout = 1s;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_->Wait(0ms)) {
      *port_taken = process_->Stderr().find("address already in use") != std::string::npos;
      return ::testing::AssertionFailure() << "etcd exited: " << process_->Stderr();
    }
    auto store = OpenEtcdStore(options);
    if (store.ok()) {
      auto health = (*store)->Health();
      if (health.ok()) return ::testing::AssertionSuccess();
      last_error = health.error().message();
    } else {
      last_error = store.error().message();
    }
    std::this_thread::sleep_for(20ms);
  }
  return ::testing::AssertionFailure()
         << "etcd did not become ready in 15 s: " << last_error << "\n"
         << process_->Stderr();
}

void EtcdProcess::Kill() {
  if (!process_ || !process_->running()) return;
  process_->Signal(SIGKILL);
  process_->Wait(10s);
}

::testing::AssertionResult EtcdProcess::Restart() {
  Kill();
  bool port_taken = false;  // on the same ports, nothing to do about it
  return Launch(&port_taken);
}

std::string EtcdProcess::Logs() const {
  return process_ ? process_->Stderr() : std::string();
}

}  // namespace kpp::storage::testing
