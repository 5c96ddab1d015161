#include "scheduler/metrics.h"

#include <fmt/format.h>

#include <cmath>

namespace kpp::scheduler {
namespace {

std::vector<double> Exponential(double start, double factor, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i)
    out.push_back(start * std::pow(factor, i));
  return out;
}

std::string Bound(double value) {
  return fmt::format("{}", value);
}

}  // namespace

void Histogram::Observe(double value) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) ++counts_[i];
  }
  ++count_;
  sum_ += value;
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string& out) const {
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < bounds_.size(); ++i) {
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, Bound(bounds_[i]),
                       counts_[i]);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, count_);
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n", name, braces, sum_);
  out += fmt::format("{}_count{} {}\n", name, braces, count_);
}

void SchedulerMetrics::ObserveAttempt(const std::string& profile, const std::string& result,
                                      double seconds) {
  std::lock_guard lock(mutex_);
  ++attempts_[{result, profile}];
  auto it = attempt_durations_.find({result, profile});
  if (it == attempt_durations_.end()) {
    it = attempt_durations_
             .emplace(std::make_pair(result, profile), Histogram(Exponential(0.001, 2, 15)))
             .first;
  }
  it->second.Observe(seconds);
}

void SchedulerMetrics::ObserveScheduled(int attempts, double sli_seconds) {
  std::lock_guard lock(mutex_);
  attempts_histogram_.Observe(attempts);
  const std::string label = attempts >= 16 ? "16+" : std::to_string(attempts);
  auto it = sli_.find(label);
  if (it == sli_.end()) it = sli_.emplace(label, Histogram(Exponential(0.01, 2, 20))).first;
  it->second.Observe(sli_seconds);
}

void SchedulerMetrics::SetPendingSource(std::function<Pending()> source) {
  std::lock_guard lock(mutex_);
  pending_ = std::move(source);
}

uint64_t SchedulerMetrics::Attempts(const std::string& profile, const std::string& result) const {
  std::lock_guard lock(mutex_);
  auto it = attempts_.find({result, profile});
  return it == attempts_.end() ? 0 : it->second;
}

std::string SchedulerMetrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out +=
      "# HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by the "
      "result.\n# TYPE scheduler_schedule_attempts_total counter\n";
  for (const auto& [key, count] : attempts_) {
    out += fmt::format("scheduler_schedule_attempts_total{{profile=\"{}\",result=\"{}\"}} {}\n",
                       key.second, key.first, count);
  }
  out +=
      "# HELP scheduler_scheduling_attempt_duration_seconds Scheduling attempt latency in "
      "seconds (scheduling algorithm + binding)\n"
      "# TYPE scheduler_scheduling_attempt_duration_seconds histogram\n";
  for (const auto& [key, histogram] : attempt_durations_) {
    histogram.Render("scheduler_scheduling_attempt_duration_seconds",
                     fmt::format("profile=\"{}\",result=\"{}\"", key.second, key.first), out);
  }
  out +=
      "# HELP scheduler_pod_scheduling_sli_duration_seconds E2e latency for a pod being "
      "scheduled, from the time the pod enters the scheduling queue and might involve "
      "multiple scheduling attempts.\n"
      "# TYPE scheduler_pod_scheduling_sli_duration_seconds histogram\n";
  for (const auto& [attempts, histogram] : sli_) {
    histogram.Render("scheduler_pod_scheduling_sli_duration_seconds",
                     fmt::format("attempts=\"{}\"", attempts), out);
  }
  out +=
      "# HELP scheduler_pod_scheduling_attempts Number of attempts to successfully schedule "
      "a pod.\n# TYPE scheduler_pod_scheduling_attempts histogram\n";
  attempts_histogram_.Render("scheduler_pod_scheduling_attempts", "", out);
  if (pending_) {
    const Pending pending = pending_();
    out +=
        "# HELP scheduler_pending_pods Number of pending pods, by the queue type. 'active' "
        "means number of pods in activeQ; 'backoff' means number of pods in backoffQ; "
        "'unschedulable' means number of pods in unschedulablePods that the scheduler "
        "attempted to schedule and failed; 'gated' is the number of unschedulable pods that "
        "the scheduler never attempted to schedule because they are gated.\n"
        "# TYPE scheduler_pending_pods gauge\n";
    out += fmt::format("scheduler_pending_pods{{queue=\"active\"}} {}\n", pending.active);
    out += fmt::format("scheduler_pending_pods{{queue=\"backoff\"}} {}\n", pending.backoff);
    out += fmt::format("scheduler_pending_pods{{queue=\"gated\"}} {}\n", pending.gated);
    out += fmt::format("scheduler_pending_pods{{queue=\"unschedulable\"}} {}\n",
                       pending.unschedulable);
  }
  return out;
}

}  // namespace kpp::scheduler
