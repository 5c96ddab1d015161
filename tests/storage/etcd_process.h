// A real etcd for tests and the store benchmark: Debian's etcd-server binary on free loopback
// ports, with its data in a temp dir, either alone (EtcdProcess) or as a cluster of members
// (EtcdCluster). Processes are killed and dirs removed when the objects go away; the processes
// also die with the thread that started them (PR_SET_PDEATHSIG through setpriv), so a test that
// crashes or is killed by its timeout leaves no etcd behind. A missing etcd binary is a test
// failure, never a skip: the etcd backend's tests are only meaningful against the real thing
// (scripts/install-deps installs it).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "storage/etcd/etcd_store.h"
#include "support/subprocess.h"

namespace kpp::storage::testing {

// etcd cannot listen on port 0 itself, as it must advertise its URLs.
using kpp::testing::FreeLoopbackPort;

// TLS for the etcd member: PEM files it serves with and, when `client_ca_file` is set, the CA
// every client must present a certificate from (--client-cert-auth); and what a client of it
// uses (StoreOptions): the CA of the serving certificate and a client pair.
struct EtcdTlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
};

class EtcdProcess {
 public:
  EtcdProcess();  // picks ports and a temp dir; Start runs the process
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // Tests run etcd with --unsafe-no-fsync, as their data is thrown away; the benchmark measures
  // etcd as it is deployed, fsyncing every commit. Takes effect at the next start.
  void set_fsync(bool fsync) { fsync_ = fsync; }

  // Starts etcd (plain http, or https with `tls`; `extra_args` appended to its command line) and
  // waits until it serves requests.
  ::testing::AssertionResult Start(const EtcdTlsFiles* tls = nullptr,
                                   const std::vector<std::string>& extra_args = {});
  // SIGKILL, as a crash: the data dir stays for a restart.
  void Kill();
  // SIGTERM, as an operator stops a member (a leader hands its leadership over first); SIGKILL
  // if it has not exited after 10 s.
  void Stop();
  // Starts again on the same ports and data dir, as a member that was restarted, and waits until
  // it serves requests.
  ::testing::AssertionResult Restart();
  bool running() const { return process_ && process_->running(); }

  std::string client_url() const;
  // Options for a store talking to this member only (short timeouts, for tests).
  EtcdStoreOptions StoreOptions() const;
  std::string Logs() const;
  const std::string& dir() const { return dir_; }

 private:
  friend class EtcdCluster;

  std::string peer_url() const;
  void PickPorts();
  // Runs etcd with the current settings, without waiting for it.
  ::testing::AssertionResult Spawn();
  // Waits until the member serves linearizable reads (so its cluster has a leader);
  // `port_taken` tells whether it failed because one of its ports was in use.
  ::testing::AssertionResult WaitReady(bool* port_taken);

  std::string dir_;
  std::string name_ = "kpp-test";
  // --initial-cluster; empty: this member alone.
  std::string initial_cluster_;
  std::string cluster_token_ = "kpp-test";
  // A lone member elects itself after one election timeout: keep start-up short. Clusters get
  // longer timeouts, so that a loaded machine does not make them elect again and again.
  int heartbeat_ms_ = 10;
  int election_ms_ = 100;
  bool fsync_ = false;
  int client_port_ = 0;
  int peer_port_ = 0;
  std::unique_ptr<kpp::testing::Process> process_;
  std::unique_ptr<EtcdTlsFiles> tls_;
  std::vector<std::string> extra_args_;
  int starts_ = 0;
};

// A cluster of etcd members on loopback (plain http), for failover tests.
class EtcdCluster {
 public:
  explicit EtcdCluster(std::size_t size);
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member and waits until each serves requests.
  ::testing::AssertionResult Start();
  // SIGKILL of members, all at the same moment; their data stays for Restart.
  void Kill(const std::vector<std::size_t>& members);
  // SIGTERM, as EtcdProcess::Stop.
  void Stop(std::size_t member);
  ::testing::AssertionResult Restart(std::size_t member);

  // The member leading the cluster now, by etcd's Status call to each running member: kNotFound
  // while the running members do not agree on a running leader (during an election).
  Result<std::size_t> Leader() const;
  // Waits up to `timeout` for Leader to name one.
  Result<std::size_t> AwaitLeader(std::chrono::milliseconds timeout) const;

  std::size_t size() const { return members_.size(); }
  EtcdProcess& member(std::size_t index) { return *members_.at(index); }
  // Options for a store talking to the members in `order` (every member in index order when
  // empty); a store starts with the first.
  EtcdStoreOptions StoreOptions(const std::vector<std::size_t>& order = {}) const;
  // Every member's log, each headed by its name.
  std::string Logs() const;

 private:
  void Configure();

  std::vector<std::unique_ptr<EtcdProcess>> members_;
};

}  // namespace kpp::storage::testing
