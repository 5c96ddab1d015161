// Leveled logging in klog's line format, so kpp's logs read like upstream components' logs:
//   I1123 18:22:17.123456   12345 server.cc:42] message
// Messages are fmt format strings. Verbose logs are guarded by -v, as klog.V(n).
#pragma once

#include <fmt/format.h>

#include <string>

namespace kpp::log {

enum class Severity { kInfo, kWarning, kError };

// Sets the -v level: KLOG_V(n) messages are written when n <= level. Thread-safe.
void SetVerbosity(int level);
int Verbosity();

// Writes one line to stderr. Thread-safe; lines from different threads never interleave.
void Write(Severity severity, const char* file, int line, const std::string& message);

}  // namespace kpp::log

#define KPP_LOG_AT(severity, ...) \
  ::kpp::log::Write(severity, __FILE__, __LINE__, ::fmt::format(__VA_ARGS__))
#define KLOG_INFO(...) KPP_LOG_AT(::kpp::log::Severity::kInfo, __VA_ARGS__)
#define KLOG_WARNING(...) KPP_LOG_AT(::kpp::log::Severity::kWarning, __VA_ARGS__)
#define KLOG_ERROR(...) KPP_LOG_AT(::kpp::log::Severity::kError, __VA_ARGS__)
// Verbose info, written only when `level` <= the -v verbosity; arguments are not evaluated
// otherwise.
#define KLOG_V(level, ...)                                          \
  do {                                                              \
    if (::kpp::log::Verbosity() >= (level)) KLOG_INFO(__VA_ARGS__); \
  } while (false)
