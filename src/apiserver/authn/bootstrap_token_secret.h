// What a bootstrap token's secret says, read by both the API server's authenticator and the
// controller manager's token cleaner (upstream keeps this in k8s.io/cluster-bootstrap).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "api/runtime/scalars.h"
#include "base/clock.h"

namespace kpp::apiserver {

inline constexpr std::string_view kBootstrapTokenSecretType = "bootstrap.kubernetes.io/token";
inline constexpr std::string_view kBootstrapTokenSecretPrefix = "bootstrap-token-";
// Bootstrap token secrets count only in this namespace.
inline constexpr std::string_view kBootstrapTokenNamespace = "kube-system";

// How long until a token whose decoded data.expiration (RFC 3339) is `expiration` expires:
// negative once it has, nullopt when it never does (no expiration). An unreadable one counts as
// passed, as upstream's.
inline std::optional<std::chrono::seconds> BootstrapTokenTimeLeft(std::string_view expiration,
                                                                  Clock::TimePoint now) {
  if (expiration.empty()) return std::nullopt;
  auto parsed = api::Time::Parse(expiration);
  if (!parsed.ok()) return std::chrono::seconds(-1);
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return std::chrono::seconds(parsed->unix_seconds - now_seconds);
}

}  // namespace kpp::apiserver
