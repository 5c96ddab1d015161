// /healthz, /livez and /readyz with upstream's output: "ok", or with ?verbose one line per check
// ("[+]ping ok"), ?exclude=<check>, per-check paths (/readyz/ping), and 500 with the check list
// when a check fails.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver {

class HealthChecks {
 public:
  // Which endpoints a check belongs to.
  enum Endpoint : unsigned { kHealthz = 1, kLivez = 2, kReadyz = 4, kAll = 7 };
  using Check = std::function<Status()>;

  // Registers `check` under `name` for `endpoints`. Not thread-safe: register before serving.
  void Add(std::string name, unsigned endpoints, Check check);

  // The response for a health path, or nullopt when `request` is not for one. Thread-safe.
  std::optional<http::Response> Serve(const http::Request& request) const;

 private:
  struct NamedCheck {
    std::string name;
    unsigned endpoints;
    Check check;
  };
  http::Response ServeAll(std::string_view endpoint, unsigned mask,
                          const http::Request& request) const;

  std::vector<NamedCheck> checks_;
};

}  // namespace kpp::apiserver
