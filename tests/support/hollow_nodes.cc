#include "support/hollow_nodes.h"

#include <signal.h>

#include "support/eventually.h"

namespace kpp::testing {

HollowNodes::~HollowNodes() {
  Kill();
}

bool HollowNodes::Start(const KppServer& server, int count, const std::vector<std::string>& flags,
                        std::string* error) {
  std::vector<std::string> argv = {KppBinary(),    "hollow-nodes",
                                   "--kubeconfig", server.kubeconfig_path(),
                                   "--count",      std::to_string(count)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return process_.Start(argv, server.root_dir(), error);
}

bool HollowNodes::WaitReady(const KppServer& server, int count,
                            std::chrono::seconds timeout) const {
  return Eventually(
      [&] {
        const std::string out = server.Kubectl({"get", "nodes", "--no-headers"}).out;
        int ready = 0;
        for (size_t at = 0; (at = out.find(" Ready ", at)) != std::string::npos; ++at)
          ++ready;
        return ready == count;
      },
      timeout);
}

void HollowNodes::Kill() {
  if (!process_.running()) return;
  process_.Signal(SIGKILL);
  (void)process_.Wait(std::chrono::seconds(10));
}

}  // namespace kpp::testing
