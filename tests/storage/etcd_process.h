// A real etcd for tests: Debian's etcd-server binary run as a one-member cluster on free loopback
// ports, with its data in a temp dir. The process is always killed and the dir removed when the
// object goes away. A missing etcd binary is a test failure, never a skip: the etcd backend's
// tests are only meaningful against the real thing (scripts/install-deps installs it).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/etcd/etcd_store.h"
#include "support/subprocess.h"

namespace kpp::storage::testing {

// A free TCP port on 127.0.0.1 (bound to port 0, then released). etcd cannot listen on port 0
// itself, as it must advertise its URLs.
int FreeLoopbackPort();

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

  // Starts etcd (plain http, or https with `tls`; `extra_args` appended to its command line) and
  // waits until it serves requests.
  ::testing::AssertionResult Start(const EtcdTlsFiles* tls = nullptr,
                                   const std::vector<std::string>& extra_args = {});
  // SIGKILL, as a crash: the data dir stays for a restart.
  void Kill();
  // Starts again on the same ports and data dir, as a member that was restarted.
  ::testing::AssertionResult Restart();

  std::string client_url() const;
  // Options for a store talking to this member only (short timeouts, for tests).
  EtcdStoreOptions StoreOptions() const;
  std::string Logs() const;
  const std::string& dir() const { return dir_; }

 private:
  // Runs etcd with the current settings and waits for it; `port_taken` tells whether it failed
  // because one of its ports was in use.
  ::testing::AssertionResult Launch(bool* port_taken);

  std::string dir_;
  int client_port_ = 0;
  int peer_port_ = 0;
  std::unique_ptr<kpp::testing::Process> process_;
  std::unique_ptr<EtcdTlsFiles> tls_;
  std::vector<std::string> extra_args_;
  int starts_ = 0;
};

}  // namespace kpp::storage::testing
