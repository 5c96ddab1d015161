// Go time.Duration text, as metav1.Duration carries it in JSON ("1h30m", "1.5s", "300ms"):
// parsing like time.ParseDuration and formatting like Duration.String().
//
// Errors: ParseDuration fails with ErrorCode::kBadRequest and Go's message, e.g.
// `time: invalid duration "abc"`, `time: missing unit in duration "1"`,
// `time: unknown unit "d" in duration "1d"`.
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::intstr {

// A signed count of nanoseconds, as Go's time.Duration.
using Duration = std::chrono::nanoseconds;

// Parses "[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+" with units ns, us, µs, μs, ms, s, m, h, or "0".
Result<Duration> ParseDuration(std::string_view text);
// Go's canonical form: "1h0m0s", "1.5s", "300ms", "1µs", "0s", "-2m0s".
std::string FormatDuration(Duration duration);

}  // namespace kpp::intstr
