#include "etcd_process.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "base/files.h"
#include "etcd_rpc.grpc.pb.h"

namespace kpp::storage::testing {

using namespace std::chrono_literals;

namespace {

constexpr const char* kEtcdBinary = "/usr/bin/etcd";
// util-linux's setpriv (always installed on Debian) sets the parent-death signal and then execs
// etcd, which keeps it.
constexpr const char* kSetpriv = "/usr/bin/setpriv";

}  // namespace

EtcdProcess::EtcdProcess() : dir_(MakeTempDirectory("kpp-etcd-").value()) {
  PickPorts();
}

EtcdProcess::~EtcdProcess() {
  Kill();
  RemoveAll(dir_);
}

void EtcdProcess::PickPorts() {
  client_port_ = FreeLoopbackPort();
  peer_port_ = FreeLoopbackPort();
}

std::string EtcdProcess::client_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(client_port_);
}

std::string EtcdProcess::peer_url() const {
  return "http://127.0.0.1:" + std::to_string(peer_port_);
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
  if (tls != nullptr) tls_ = std::make_unique<EtcdTlsFiles>(*tls);
  extra_args_ = extra_args;
  // A free port can be taken by another process before etcd binds it: then start afresh on
  // other ports (the data dir records the peer URL, so it goes too).
  for (int attempt = 1;; ++attempt) {
    bool port_taken = false;
    auto started = Spawn();
    if (started) started = WaitReady(&port_taken);
    if (started || !port_taken || attempt == 5) return started;
    Kill();
    RemoveAll(dir_ + "/data");
    PickPorts();
  }
}

::testing::AssertionResult EtcdProcess::Spawn() {
  if (!PathExists(kEtcdBinary))
    return ::testing::AssertionFailure()
           << kEtcdBinary << " is missing: install Debian's etcd-server (scripts/install-deps)";
  if (client_port_ == 0 || peer_port_ == 0 || client_port_ == peer_port_)
    return ::testing::AssertionFailure() << "no two free loopback ports";
  std::vector<std::string> argv;
  if (PathExists(kSetpriv)) argv = {kSetpriv, "--pdeathsig", "KILL", "--"};
  const std::vector<std::string> etcd = {
      kEtcdBinary,
      "--name=" + name_,
      "--data-dir=" + dir_ + "/data",
      "--listen-client-urls=" + client_url(),
      "--advertise-client-urls=" + client_url(),
      "--listen-peer-urls=" + peer_url(),
      "--initial-advertise-peer-urls=" + peer_url(),
      "--initial-cluster=" +
          (initial_cluster_.empty() ? name_ + "=" + peer_url() : initial_cluster_),
      "--initial-cluster-token=" + cluster_token_,
      "--initial-cluster-state=new",
      "--heartbeat-interval=" + std::to_string(heartbeat_ms_),
      "--election-timeout=" + std::to_string(election_ms_),
      "--logger=zap",
      "--log-level=warn",
  };
  argv.insert(argv.end(), etcd.begin(), etcd.end());
  if (!fsync_) argv.push_back("--unsafe-no-fsync");
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
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult EtcdProcess::WaitReady(bool* port_taken) {
  // Ready when a store can connect and a linearizable read succeeds (a leader exists).
  EtcdStoreOptions options = StoreOptions();
  options.dial_timeout = 200ms;
  options.request_timeout = 1s;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_->Wait(0ms)) {
      *port_taken = process_->Stderr().find("address already in use") != std::string::npos;
      return ::testing::AssertionFailure() << name_ << " exited: " << process_->Stderr();
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
         << name_ << " did not become ready in 30 s: " << last_error << "\n"
         << process_->Stderr();
}

void EtcdProcess::Kill() {
  if (!process_ || !process_->running()) return;
  process_->Signal(SIGKILL);
  process_->Wait(10s);
}

void EtcdProcess::Stop() {
  if (!process_ || !process_->running()) return;
  process_->Signal(SIGTERM);
  if (!process_->Wait(10s)) Kill();
}

::testing::AssertionResult EtcdProcess::Restart() {
  Kill();
  bool port_taken = false;  // on the same ports, nothing to do about it
  auto started = Spawn();
  if (!started) return started;
  return WaitReady(&port_taken);
}

std::string EtcdProcess::Logs() const {
  return process_ ? process_->Stderr() : std::string();
}

EtcdCluster::EtcdCluster(std::size_t size) {
  for (std::size_t i = 0; i < size; ++i)
    members_.push_back(std::make_unique<EtcdProcess>());
  Configure();
}

void EtcdCluster::Configure() {
  std::string initial_cluster;
  const std::string token = fmt::format("kpp-test-{}", members_.front()->peer_port_);
  for (std::size_t i = 0; i < members_.size(); ++i) {
    EtcdProcess& member = *members_[i];
    member.name_ = fmt::format("kpp-{}", i);
    member.cluster_token_ = token;
    member.heartbeat_ms_ = 50;
    member.election_ms_ = 500;
    if (!initial_cluster.empty()) initial_cluster += ",";
    initial_cluster += member.name_ + "=" + member.peer_url();
  }
  for (auto& member : members_)
    member->initial_cluster_ = initial_cluster;
}

::testing::AssertionResult EtcdCluster::Start() {
  for (int attempt = 1;; ++attempt) {
    // Every member must run before any can elect a leader and become ready.
    for (auto& member : members_) {
      auto spawned = member->Spawn();
      if (!spawned) return spawned;
    }
    bool port_taken = false;
    ::testing::AssertionResult ready = ::testing::AssertionSuccess();
    for (auto& member : members_) {
      ready = member->WaitReady(&port_taken);
      if (!ready) break;
    }
    if (ready || !port_taken || attempt == 5) return ready;
    for (auto& member : members_) {
      member->Kill();
      RemoveAll(member->dir_ + "/data");
      member->PickPorts();
    }
    Configure();
  }
}

void EtcdCluster::Kill(const std::vector<std::size_t>& members) {
  for (const std::size_t member : members) {
    if (members_.at(member)->running()) members_[member]->process_->Signal(SIGKILL);
  }
  for (const std::size_t member : members)
    members_[member]->Kill();
}

void EtcdCluster::Stop(std::size_t member) {
  members_.at(member)->Stop();
}

::testing::AssertionResult EtcdCluster::Restart(std::size_t member) {
  return members_.at(member)->Restart();
}

Result<std::size_t> EtcdCluster::Leader() const {
  std::map<std::uint64_t, std::size_t> index_by_id;
  std::map<std::uint64_t, int> votes;  // leader id → members that follow it
  int answered = 0;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!members_[i]->running()) continue;
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(members_[i]->client_port_),
                                       grpc::InsecureChannelCredentials());
    auto maintenance = etcdserverpb::Maintenance::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 2s);
    etcdserverpb::StatusResponse response;
    const grpc::Status status =
        maintenance->Status(&context, etcdserverpb::StatusRequest(), &response);
    if (!status.ok()) return NotFoundError(fmt::format("member {}: {}", i, status.error_message()));
    ++answered;
    index_by_id[response.header().member_id()] = i;
    ++votes[response.leader()];
  }
  if (votes.size() != 1 || votes.begin()->first == 0)
    return NotFoundError(fmt::format("the {} running members do not agree on a leader", answered));
  const auto leader = index_by_id.find(votes.begin()->first);
  if (leader == index_by_id.end())
    return NotFoundError("the members follow a leader that is not running");
  return leader->second;
}

Result<std::size_t> EtcdCluster::AwaitLeader(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto leader = Leader();
    if (leader.ok() || std::chrono::steady_clock::now() >= deadline) return leader;
    std::this_thread::sleep_for(50ms);
  }
}

EtcdStoreOptions EtcdCluster::StoreOptions(const std::vector<std::size_t>& order) const {
  EtcdStoreOptions options = members_.front()->StoreOptions();
  options.endpoints.clear();
  if (order.empty()) {
    for (const auto& member : members_)
      options.endpoints.push_back(member->client_url());
  } else {
    for (const std::size_t index : order)
      options.endpoints.push_back(members_.at(index)->client_url());
  }
  return options;
}

std::string EtcdCluster::Logs() const {
  std::string logs;
  for (const auto& member : members_)
    logs += fmt::format("--- {} ({})\n{}\n", member->name_, member->client_url(), member->Logs());
  return logs;
}

}  // namespace kpp::storage::testing
