// Waiting in e2e tests for what a controller or a cache makes true shortly.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <thread>

namespace kpp::testing {

// Polls `condition` every `interval` until it holds or `timeout` has passed, then once more.
// A condition that throws (a JSON field read before the object has it) counts as not holding.
inline bool Eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60),
                       std::chrono::milliseconds interval = std::chrono::milliseconds(200)) {
  const auto holds = [&] {
    try {
      return condition();
    } catch (const std::exception&) {
      return false;
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (holds()) return true;
    std::this_thread::sleep_for(interval);
  }
  return holds();
}

}  // namespace kpp::testing
