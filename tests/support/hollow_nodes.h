// `kpp hollow-nodes` for e2e tests: simulated kubelets against a KppServer, killed (SIGKILL)
// when the test ends.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "support/kpp_server_fixture.h"
#include "support/subprocess.h"

namespace kpp::testing {

class HollowNodes {
 public:
  HollowNodes() = default;
  ~HollowNodes();
  HollowNodes(const HollowNodes&) = delete;
  HollowNodes& operator=(const HollowNodes&) = delete;

  // `kpp hollow-nodes --kubeconfig <the server's> --count <count> <flags...>`; false, with
  // `error` set, when it does not start.
  bool Start(const KppServer& server, int count, const std::vector<std::string>& flags,
             std::string* error);
  // Waits until `count` nodes show Ready in `kubectl get nodes`.
  bool WaitReady(const KppServer& server, int count,
                 std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // SIGKILL, then waits for the process; nothing when it is not running.
  void Kill();

  bool running() const { return process_.running(); }
  std::string Stderr() const { return process_.Stderr(); }

 private:
  Process process_;
};

}  // namespace kpp::testing
