// The scheduler's Prometheus metrics, upstream's names: attempts by result and profile,
// attempt durations, pending pods per queue, the scheduling SLI (first attempt to bound).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kpp::scheduler {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size()) {}
  void Observe(double value);
  // Appends the _bucket/_sum/_count lines of `name` with `labels` ("a=\"b\"" pairs or "").
  void Render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

class SchedulerMetrics {
 public:
  struct Pending {
    size_t active = 0, backoff = 0, unschedulable = 0, gated = 0;
  };
  // result: "scheduled", "unschedulable" or "error".
  void ObserveAttempt(const std::string& profile, const std::string& result, double seconds);
  void ObserveScheduled(int attempts, double sli_seconds);
  void SetPendingSource(std::function<Pending()> source);
  std::string Render() const;
  uint64_t Attempts(const std::string& profile, const std::string& result) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, uint64_t> attempts_;
  std::map<std::pair<std::string, std::string>, Histogram> attempt_durations_;
  std::map<std::string, Histogram> sli_;  // by attempts label
  Histogram attempts_histogram_{{1, 2, 4, 8, 16}};
  std::function<Pending()> pending_;
};

}  // namespace kpp::scheduler
