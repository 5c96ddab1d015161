// The e2e fixture: a real `build/kpp server` on a free loopback port in a temp data dir, plus the
// real clients (kubectl of every installed version, curl) pointed at it. The server is always
// stopped and the temp dir removed, whatever the test does.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "support/subprocess.h"

namespace kpp::testing {

// The kpp binary under test (build/kpp).
std::string KppBinary();

// The real kubectl for `minor` ("1.27" ... "1.33"), or the default kubectl when empty. The
// versioned binaries sit beside the one `kubectl` on PATH resolves to. Empty when absent.
std::string KubectlPath(const std::string& minor = "");
// Minor versions ("1.27", ...) that have a versioned kubectl on this machine, in order.
std::vector<std::string> InstalledKubectlVersions();

class KppServer {
 public:
  KppServer();
  ~KppServer();
  KppServer(const KppServer&) = delete;
  KppServer& operator=(const KppServer&) = delete;

  // Starts the server (control plane only, 127.0.0.1, port 0 unless `extra_args` say otherwise)
  // and waits until it has written its kubeconfig, which it does once it serves.
  ::testing::AssertionResult Start(const std::vector<std::string>& extra_args = {});
  // Sends `signal_number`, then waits for a clean exit (status 0).
  ::testing::AssertionResult Stop(int signal_number = SIGTERM);
  bool running() const { return process_ && process_->running(); }
  // The controllers of the embedded controller manager every suite gets: each namespace's
  // default service account and kube-root-ca.crt, token secrets, quota status, and expired
  // bootstrap tokens deleted.
  static constexpr std::string_view kEssentialControllers =
      "serviceaccount,root-ca-cert-publisher,serviceaccount-token,resourcequota,tokencleaner";
  // Runs all of the embedded controller manager's controllers (only kEssentialControllers unless
  // asked for: see Start).
  void set_controller_manager(bool enabled) { controller_manager_ = enabled; }
  // Runs kEssentialControllers and these (`--controllers`), e.g. "namespace" for suites that
  // delete namespaces but test the API server otherwise.
  void set_controllers(std::string controllers) { controllers_ = std::move(controllers); }
  // Suites that bind pods to nodes themselves turn the scheduler off, so it does not race them.
  void set_scheduler(bool enabled) { scheduler_ = enabled; }

  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // Where the server writes its kubeconfig: <data-dir>/kubeconfig.yaml unless Start was given
  // --write-kubeconfig.
  const std::string& kubeconfig_path() const { return kubeconfig_path_; }
  // The fixture's own temp dir (holds the data dir); removed with the fixture.
  const std::string& root_dir() const { return root_dir_; }
  std::string Logs() const;

  // Writes `content` to `name` in the fixture's temp dir (a manifest for kubectl -f); returns
  // its path. A failure to write fails the test.
  std::string WriteFile(const std::string& name, const std::string& content) const;
  // Runs kubectl (of `minor`, or the default) with this server's kubeconfig.
  ProcessResult Kubectl(const std::vector<std::string>& args, const std::string& minor = "") const;
  // Writes a kubeconfig for this server (its address and CA) whose user authenticates with the
  // bearer `token` only, no client certificate; returns its path.
  std::string TokenKubeconfig(const std::string& token) const;
  // Runs kubectl as the user of `kubeconfig` (given after the admin one: the last one wins).
  ProcessResult KubectlAs(const std::string& kubeconfig, std::vector<std::string> args,
                          const std::string& minor = "") const;
  // GET `path` with curl, verifying the server against the cluster CA; with the admin client
  // certificate when `authenticate`. Output is the body followed by "\n<http status>".
  ProcessResult Curl(const std::string& path, bool authenticate) const;

 private:
  ::testing::AssertionResult WaitForDefaultServiceAccount(
      std::chrono::steady_clock::time_point deadline) const;

  std::string root_dir_;
  std::string data_dir_;
  std::string kubeconfig_path_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
  int starts_ = 0;
  mutable int token_kubeconfigs_ = 0;
  bool controller_manager_ = false;
  std::string controllers_;
  bool scheduler_ = true;
};

}  // namespace kpp::testing
