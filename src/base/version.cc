#include "base/version.h"

#include <fmt/format.h>

namespace kpp {

std::string KubernetesGitVersion() {
  return fmt::format("v{}.{}.{}+kpp.{}", kKubernetesMajor, kKubernetesMinor, kKubernetesPatch,
                     GetBuildInfo().version);
}

std::string Platform() {
#if defined(__x86_64__)
  return "linux/amd64";
#elif defined(__aarch64__)
  return "linux/arm64";
#else
  return "linux/unknown";
#endif
}

}  // namespace kpp
