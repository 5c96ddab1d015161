#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace kpp::log {
namespace {

std::atomic<int> verbosity{0};

spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    // Deliberately leaked: logging must keep working while static destructors run.
    auto* l = new spdlog::logger("kpp", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%L%m%d %H:%M:%S.%f %7t %s:%#] %v");
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpdlog(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return spdlog::level::info;
    case Severity::kWarning: return spdlog::level::warn;
    case Severity::kError: return spdlog::level::err;
  }
  return spdlog::level::err;
}

}  // namespace

void SetVerbosity(int level) {
  verbosity.store(level, std::memory_order_relaxed);
}
int Verbosity() {
  return verbosity.load(std::memory_order_relaxed);
}

void Write(Severity severity, const char* file, int line, const std::string& message) {
  Logger().log(spdlog::source_loc{file, line, ""}, ToSpdlog(severity), message);
}

}  // namespace kpp::log
