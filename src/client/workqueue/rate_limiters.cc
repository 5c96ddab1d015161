#include "client/workqueue/rate_limiters.h"

#include <algorithm>
#include <cmath>

namespace kpp::client::workqueue {

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Duration base_delay,
                                                                     Duration max_delay)
    : base_delay_(base_delay), max_delay_(max_delay) {}

Duration ItemExponentialFailureRateLimiter::When(const std::string& item) {
  std::lock_guard lock(mutex_);
  const int exponent = failures_[item]++;
  // Computed in floating point so that large exponents saturate instead of overflowing.
  const double delay = static_cast<double>(base_delay_.count()) * std::pow(2.0, exponent);
  if (delay >= static_cast<double>(max_delay_.count())) return max_delay_;
  return Duration(static_cast<Duration::rep>(delay));
}

void ItemExponentialFailureRateLimiter::Forget(const std::string& item) {
  std::lock_guard lock(mutex_);
  failures_.erase(item);
}

int ItemExponentialFailureRateLimiter::NumRequeues(const std::string& item) {
  std::lock_guard lock(mutex_);
  const auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

ItemFastSlowRateLimiter::ItemFastSlowRateLimiter(Duration fast_delay, Duration slow_delay,
                                                 int max_fast_attempts)
    : fast_delay_(fast_delay), slow_delay_(slow_delay), max_fast_attempts_(max_fast_attempts) {}

Duration ItemFastSlowRateLimiter::When(const std::string& item) {
  std::lock_guard lock(mutex_);
  return ++failures_[item] <= max_fast_attempts_ ? fast_delay_ : slow_delay_;
}

void ItemFastSlowRateLimiter::Forget(const std::string& item) {
  std::lock_guard lock(mutex_);
  failures_.erase(item);
}

int ItemFastSlowRateLimiter::NumRequeues(const std::string& item) {
  std::lock_guard lock(mutex_);
  const auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

TokenBucket::TokenBucket(double qps, int burst, Clock& clock)
    : clock_(clock),
      qps_(qps),
      burst_(std::max(burst, 1)),
      tokens_(burst_),
      last_(clock.Monotonic()) {}

void TokenBucket::Refill() {
  const auto now = clock_.Monotonic();
  if (now > last_) {
    tokens_ = std::min<double>(burst_,
                               tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
    last_ = now;
  }
}

Duration TokenBucket::Reserve() {
  std::lock_guard lock(mutex_);
  if (qps_ <= 0) return Duration(0);  // no limit
  Refill();
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration(0);
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

bool TokenBucket::TryAccept() {
  std::lock_guard lock(mutex_);
  if (qps_ <= 0) return true;
  Refill();
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void TokenBucket::Accept() {
  const Duration wait = Reserve();
  if (wait > Duration(0)) clock_.SleepFor(wait);
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, Clock& clock)
    : bucket_(qps, burst, clock) {}

Duration BucketRateLimiter::When(const std::string&) {
  return bucket_.Reserve();
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Duration MaxOfRateLimiter::When(const std::string& item) {
  Duration longest(0);
  for (auto& limiter : limiters_)
    longest = std::max(longest, limiter->When(item));
  return longest;
}

void MaxOfRateLimiter::Forget(const std::string& item) {
  for (auto& limiter : limiters_)
    limiter->Forget(item);
}

int MaxOfRateLimiter::NumRequeues(const std::string& item) {
  int most = 0;
  for (auto& limiter : limiters_)
    most = std::max(most, limiter->NumRequeues(item));
  return most;
}

std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(
      std::chrono::milliseconds(5), std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace kpp::client::workqueue
