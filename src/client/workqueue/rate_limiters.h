// How long an item waits before it is handed out again, as client-go's workqueue rate limiters:
// per-item exponential back-off, an overall token bucket, and the maximum of several.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"

namespace kpp::client::workqueue {

using Duration = std::chrono::nanoseconds;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay before `item` may be processed again; counts one more failure of it.
  virtual Duration When(const std::string& item) = 0;
  // Stops tracking `item` (it succeeded).
  virtual void Forget(const std::string& item) = 0;
  // How many times `item` has been requeued since it was last forgotten.
  virtual int NumRequeues(const std::string& item) = 0;
};

// base * 2^failures, capped at `max_delay` (client-go: 5 ms up to 1000 s for controllers).
class ItemExponentialFailureRateLimiter final : public RateLimiter {
 public:
  ItemExponentialFailureRateLimiter(Duration base_delay, Duration max_delay);
  Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) override;

 private:
  std::mutex mutex_;
  std::map<std::string, int> failures_;
  Duration base_delay_;
  Duration max_delay_;
};

// `fast_delay` for the first `max_fast_attempts` failures, then `slow_delay`.
class ItemFastSlowRateLimiter final : public RateLimiter {
 public:
  ItemFastSlowRateLimiter(Duration fast_delay, Duration slow_delay, int max_fast_attempts);
  Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) override;

 private:
  std::mutex mutex_;
  std::map<std::string, int> failures_;
  Duration fast_delay_;
  Duration slow_delay_;
  int max_fast_attempts_;
};

// A token bucket of `burst` tokens refilled at `qps` per second. Thread-safe. Reserve() always
// takes a token, possibly one that only exists in the future, and says how long to wait for it
// (golang.org/x/time/rate's Reserve); TryAccept() takes one only when one is there now.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst, Clock& clock = RealClock());
  Duration Reserve();
  bool TryAccept();
  // Reserve() and sleep until the token exists (client-go's flowcontrol Accept).
  void Accept();
  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  void Refill();

  std::mutex mutex_;
  Clock& clock_;
  double qps_;
  int burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

// An overall limit shared by all items: each When() reserves a token of the bucket.
class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, Clock& clock = RealClock());
  Duration When(const std::string& item) override;
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) override { return 0; }

 private:
  TokenBucket bucket_;
};

// The longest delay of its limiters; requeues as counted by the most pessimistic one.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: per item 5 ms doubling up to 1000 s, overall 10 qps
// with a burst of 100.
std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(Clock& clock = RealClock());

}  // namespace kpp::client::workqueue
