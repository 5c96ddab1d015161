// What this binary is: its own version, the Kubernetes version it serves, and build facts.
#pragma once

#include <string>

namespace kpp {

struct BuildInfo {
  std::string version;         // kpp's own version, e.g. "0.1.0"
  std::string git_commit;      // full commit hash, or "unknown"
  std::string git_tree_state;  // "clean", "dirty" or "unknown"
  std::string build_date;      // RFC 3339, UTC
  std::string compiler;        // e.g. "GNU 12.2.0"
};

// Generated at build time (cmake/version_info.cmake).
const BuildInfo& GetBuildInfo();

// The Kubernetes API version kpp implements. The default kubectl on our machines is 1.32, so
// serving 1.32 keeps it free of version-skew warnings.
inline constexpr int kKubernetesMajor = 1;
inline constexpr int kKubernetesMinor = 32;
inline constexpr int kKubernetesPatch = 0;

// gitVersion as Kubernetes reports it, with kpp's version as semver build metadata,
// e.g. "v1.32.0+kpp.0.1.0".
std::string KubernetesGitVersion();
// "linux/amd64" style platform string.
std::string Platform();

}  // namespace kpp
