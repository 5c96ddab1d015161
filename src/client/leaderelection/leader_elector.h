// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package: a
// candidate takes the lease when it is free or its holder has not renewed it for the lease
// duration (judged by when this candidate saw the record change, not by the holder's clock),
// renews it every retry period, and gives up leadership when it cannot renew within the renew
// deadline. On Stop() a leader releases the lease (holder cleared, duration 1 s) so another
// candidate takes over at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/coordination.k8s.io/v1/codec.h"
#include "base/clock.h"
#include "client/rest/rest_client.h"

namespace kpp::client::leaderelection {

struct LeaderCallbacks {
  // Runs on a thread of its own once this candidate leads; it should return soon after
  // on_stopped_leading is called (or IsLeader() turns false).
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  // Whenever the observed holder changes (also to this candidate).
  std::function<void(const std::string& identity)> on_new_leader;
};

struct LeaderElectionConfig {
  std::string lease_namespace = "kube-system";
  std::string lease_name;
  std::string identity;
  // Upstream's defaults for components.
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  bool release_on_cancel = true;
  LeaderCallbacks callbacks;
};

class LeaderElector {
 public:
  // An error when the durations are not lease > renew deadline > retry period * 1.2 (client-go's
  // rule) or a name is missing.
  static Result<std::unique_ptr<LeaderElector>> Create(std::shared_ptr<rest::RestClient> client,
                                                       LeaderElectionConfig config);
  ~LeaderElector();

  // Campaigns, leads until the lease is lost or Stop() is called, then returns; call on a thread
  // of its own. Run once per elector.
  void Run();
  // Ends Run(): a leader stops renewing and (release_on_cancel) releases the lease.
  void Stop();
  bool IsLeader() const { return leading_; }
  // The holder last observed ("" when none).
  std::string GetLeader() const;

  LeaderElector(std::shared_ptr<rest::RestClient> client, LeaderElectionConfig config);

 private:
  // One attempt to take or renew the lease; true when this candidate holds it now.
  bool TryAcquireOrRenew();
  void Release();
  bool Wait(std::chrono::milliseconds duration);  // false when stopped
  void Observe(const api::coordination_k8s_io::v1::LeaseSpec& spec);

  std::shared_ptr<rest::RestClient> client_;
  LeaderElectionConfig config_;
  Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stopped_ = false;
  std::atomic<bool> leading_ = false;
  std::optional<api::coordination_k8s_io::v1::Lease> observed_lease_;
  std::chrono::steady_clock::time_point observed_time_;
  std::string observed_holder_;
  std::string reported_leader_;
};

}  // namespace kpp::client::leaderelection
