#include "apiserver/health.h"

#include <algorithm>
#include <set>

#include "base/log.h"

namespace kpp::apiserver {
namespace {

http::Response TextResponse(int status, std::string body) {
  http::Response response{status, {}, std::move(body)};
  response.SetHeader("Content-Type", "text/plain; charset=utf-8");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("Cache-Control", "no-cache, private");
  return response;
}

struct EndpointName {
  std::string_view name;
  unsigned mask;
};
constexpr EndpointName kEndpoints[] = {
    {"healthz", HealthChecks::kHealthz},
    {"livez", HealthChecks::kLivez},
    {"readyz", HealthChecks::kReadyz},
};

}  // namespace

void HealthChecks::Add(std::string name, unsigned endpoints, Check check) {
  checks_.push_back({std::move(name), endpoints, std::move(check)});
}

std::optional<http::Response> HealthChecks::Serve(const http::Request& request) const {
  std::string_view path = request.path;
  if (path.empty() || path[0] != '/') return std::nullopt;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  for (const auto& endpoint : kEndpoints) {
    if (path == endpoint.name) return ServeAll(endpoint.name, endpoint.mask, request);
    if (path.starts_with(endpoint.name) && path.size() > endpoint.name.size() &&
        path[endpoint.name.size()] == '/') {
      const std::string_view check_name = path.substr(endpoint.name.size() + 1);
      for (const auto& check : checks_) {
        if ((check.endpoints & endpoint.mask) == 0 || check.name != check_name) continue;
        if (auto status = check.check(); !status.ok()) {
          KLOG_INFO("{} check {} failed: {}", endpoint.name, check.name, status.error().message());
          return TextResponse(500, "internal server error: " + status.error().message() + "\n");
        }
        return TextResponse(200, "ok");
      }
      return TextResponse(404, "404 page not found\n");
    }
  }
  return std::nullopt;
}

http::Response HealthChecks::ServeAll(std::string_view endpoint, unsigned mask,
                                      const http::Request& request) const {
  std::set<std::string, std::less<>> excluded;
  for (const auto& [key, value] : request.query) {
    if (key == "exclude") excluded.insert(value);
  }
  std::string verbose_output;
  bool failed = false;
  std::set<std::string, std::less<>> unmatched = excluded;
  for (const auto& check : checks_) {
    if ((check.endpoints & mask) == 0) continue;
    if (excluded.contains(check.name)) {
      unmatched.erase(check.name);
      verbose_output += "[+]" + check.name + " excluded: ok\n";
      continue;
    }
    if (auto status = check.check(); !status.ok()) {
      failed = true;
      // Like upstream, the reason goes to the log, not to the (possibly anonymous) caller.
      KLOG_INFO("{} check {} failed: {}", endpoint, check.name, status.error().message());
      verbose_output += "[-]" + check.name + " failed: reason withheld\n";
    } else {
      verbose_output += "[+]" + check.name + " ok\n";
    }
  }
  if (!unmatched.empty()) {
    std::string names;
    for (const auto& name : unmatched) {
      names += names.empty() ? "" : ",";
      names += "\"" + name + "\"";
    }
    verbose_output += "warn: some health checks cannot be excluded: no matches for " + names + "\n";
  }
  if (failed) {
    return TextResponse(500, verbose_output + std::string(endpoint) + " check failed\n");
  }
  if (request.HasQuery("verbose")) {
    return TextResponse(200, verbose_output + std::string(endpoint) + " check passed\n");
  }
  return TextResponse(200, "ok");
}

}  // namespace kpp::apiserver
