#include "client/leaderelection/leader_elector.h"

#include <random>

#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::client::leaderelection {

using Lease = api::coordination_k8s_io::v1::Lease;
using LeaseSpec = api::coordination_k8s_io::v1::LeaseSpec;

namespace {

api::MicroTime MicroNow(Clock& clock) {
  return api::MicroTime::FromUnixMicros(
      std::chrono::duration_cast<std::chrono::microseconds>(clock.Now().time_since_epoch())
          .count());
}

int32_t WholeSeconds(std::chrono::milliseconds duration) {
  return static_cast<int32_t>(std::max<int64_t>(1, (duration.count() + 999) / 1000));
}

}  // namespace

Result<std::unique_ptr<LeaderElector>> LeaderElector::Create(
    std::shared_ptr<rest::RestClient> client, LeaderElectionConfig config) {
  if (config.lease_name.empty()) return InvalidError("leader election: lease name must be set");
  if (config.identity.empty()) return InvalidError("leader election: identity must be set");
  if (config.lease_duration <= config.renew_deadline) {
    return InvalidError("leaseDuration must be greater than renewDeadline");
  }
  if (config.renew_deadline.count() <= config.retry_period.count() * 12 / 10) {
    return InvalidError("renewDeadline must be greater than retryPeriod*JitterFactor");
  }
  if (config.retry_period.count() < 1) return InvalidError("retryPeriod must be greater than zero");
  return std::make_unique<LeaderElector>(std::move(client), std::move(config));
}

LeaderElector::LeaderElector(std::shared_ptr<rest::RestClient> client, LeaderElectionConfig config)
    : client_(std::move(client)), config_(std::move(config)), clock_(client_->clock()) {}

LeaderElector::~LeaderElector() {
  Stop();
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  stop_changed_.notify_all();
}

bool LeaderElector::Wait(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !stop_changed_.wait_for(lock, duration, [&] { return stopped_; });
}

std::string LeaderElector::GetLeader() const {
  std::lock_guard lock(mutex_);
  return observed_holder_;
}

void LeaderElector::Observe(const LeaseSpec& spec) {
  std::string holder = spec.holder_identity.value_or("");
  std::string report;
  {
    std::lock_guard lock(mutex_);
    const bool changed = !observed_lease_ || observed_lease_->spec != spec;
    if (changed) observed_time_ = clock_.Monotonic();
    observed_holder_ = holder;
    if (!holder.empty() && holder != reported_leader_) {
      reported_leader_ = holder;
      report = holder;
    }
  }
  if (!report.empty() && config_.callbacks.on_new_leader) config_.callbacks.on_new_leader(report);
}

bool LeaderElector::TryAcquireOrRenew() {
  TypedResource<Lease> leases(client_, config_.lease_namespace);
  const api::MicroTime now = MicroNow(clock_);
  LeaseSpec desired;
  desired.holder_identity = config_.identity;
  desired.lease_duration_seconds = WholeSeconds(config_.lease_duration);
  desired.acquire_time = now;
  desired.renew_time = now;
  desired.lease_transitions = 0;

  auto current = leases.Get(config_.lease_name);
  if (!current.ok()) {
    if (!IsNotFound(current.error())) {
      KLOG_ERROR("error retrieving resource lock {}/{}: {}", config_.lease_namespace,
                 config_.lease_name, current.error().message());
      return false;
    }
    Lease lease;
    lease.metadata.name = config_.lease_name;
    lease.metadata.namespace_ = config_.lease_namespace;
    lease.spec = desired;
    auto created = leases.Create(lease);
    if (!created.ok()) {
      KLOG_ERROR("error initially creating leader election record: {}", created.error().message());
      return false;
    }
    {
      std::lock_guard lock(mutex_);
      observed_lease_.reset();
    }
    Observe(created->spec);
    std::lock_guard lock(mutex_);
    observed_lease_ = *created;
    return true;
  }
  Lease lease = std::move(*current);
  Observe(lease.spec);
  const std::string holder = lease.spec.holder_identity.value_or("");
  std::chrono::steady_clock::time_point observed_time;
  {
    std::lock_guard lock(mutex_);
    observed_time = observed_time_;
    observed_lease_ = lease;
  }
  const auto held_for = std::chrono::seconds(lease.spec.lease_duration_seconds.value_or(0));
  if (!holder.empty() && holder != config_.identity &&
      observed_time + held_for > clock_.Monotonic()) {
    KLOG_V(4, "lock is held by {} and has not yet expired", holder);
    return false;
  }
  if (holder == config_.identity) {
    desired.acquire_time = lease.spec.acquire_time;
    desired.lease_transitions = lease.spec.lease_transitions.value_or(0);
  } else {
    desired.lease_transitions = lease.spec.lease_transitions.value_or(0) + 1;
  }
  lease.spec.holder_identity = desired.holder_identity;
  lease.spec.lease_duration_seconds = desired.lease_duration_seconds;
  lease.spec.acquire_time = desired.acquire_time;
  lease.spec.renew_time = desired.renew_time;
  lease.spec.lease_transitions = desired.lease_transitions;
  auto updated = leases.Update(lease);  // the resourceVersion makes it a compare-and-swap
  if (!updated.ok()) {
    KLOG_ERROR("failed to update lock {}/{}: {}", config_.lease_namespace, config_.lease_name,
               updated.error().message());
    return false;
  }
  Observe(updated->spec);
  std::lock_guard lock(mutex_);
  observed_lease_ = *updated;
  return true;
}

void LeaderElector::Release() {
  Lease lease;
  {
    std::lock_guard lock(mutex_);
    if (!observed_lease_ || observed_lease_->spec.holder_identity != config_.identity) return;
    lease = *observed_lease_;
  }
  const api::MicroTime now = MicroNow(clock_);
  lease.spec.holder_identity = std::nullopt;
  lease.spec.lease_duration_seconds = 1;
  lease.spec.acquire_time = now;
  lease.spec.renew_time = now;
  TypedResource<Lease> leases(client_, config_.lease_namespace);
  auto updated = leases.Update(lease);
  if (!updated.ok()) {
    KLOG_ERROR("failed to release lock {}/{}: {}", config_.lease_namespace, config_.lease_name,
               updated.error().message());
  }
}

void LeaderElector::Run() {
  static thread_local std::mt19937_64 random(std::random_device{}());
  auto jittered = [&](std::chrono::milliseconds period) {
    // client-go's wait.JitterUntil with factor 1.2.
    const auto extra = static_cast<int64_t>(period.count() * 1.2 * (random() % 1000) / 1000.0);
    return period + std::chrono::milliseconds(extra);
  };
  // Acquire.
  while (!TryAcquireOrRenew()) {
    if (!Wait(jittered(config_.retry_period))) return;
  }
  KLOG_INFO("successfully acquired lease {}/{}", config_.lease_namespace, config_.lease_name);
  leading_ = true;
  std::thread leader_thread;
  if (config_.callbacks.on_started_leading) {
    leader_thread = std::thread(config_.callbacks.on_started_leading);
  }
  // Renew until a renewal fails for the renew deadline, or Stop().
  bool stopped = false;
  while (true) {
    if (!Wait(config_.retry_period)) {
      stopped = true;
      break;
    }
    const auto deadline = clock_.Monotonic() + config_.renew_deadline;
    bool renewed = false;
    while (true) {
      if (TryAcquireOrRenew()) {
        renewed = true;
        break;
      }
      if (clock_.Monotonic() + config_.retry_period >= deadline) break;
      if (!Wait(config_.retry_period)) {
        stopped = true;
        break;
      }
    }
    if (stopped || !renewed) break;
  }
  leading_ = false;
  if (stopped && config_.release_on_cancel) Release();
  if (!stopped) {
    KLOG_INFO("failed to renew lease {}/{}: lost leadership", config_.lease_namespace,
              config_.lease_name);
  }
  if (config_.callbacks.on_stopped_leading) config_.callbacks.on_stopped_leading();
  if (leader_thread.joinable()) leader_thread.join();
}

}  // namespace kpp::client::leaderelection
