// The pod garbage collector (upstream's pkg/controller/podgc), every 20 s: deletes finished pods
// beyond --terminated-pod-gc-threshold (oldest first, evicted ones before others), pods bound to
// a node that no longer exists (after the node has been missing for a 40 s quarantine and a read
// from the server confirms it), terminating pods on a node that is not ready and tainted
// node.kubernetes.io/out-of-service, and terminating pods never scheduled. A pod that has not
// finished is first marked Failed, then deleted at once (grace period 0); orphans get the
// DisruptionTarget condition (reason DeletionByPodGC) too.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/core/v1/codec.h"
#include "base/clock.h"
#include "base/result.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"

namespace kpp::controllers {

inline constexpr int kDefaultTerminatedPodGcThreshold = 12500;
inline constexpr std::chrono::seconds kPodGcCheckPeriod{20};
inline constexpr std::chrono::seconds kOrphanQuarantine{40};
inline constexpr char kOutOfServiceTaint[] = "node.kubernetes.io/out-of-service";

// The requests the pod garbage collector makes.
class PodGCClient {
 public:
  virtual ~PodGCClient() = default;
  // Whether node `name` exists, read from the server (not a cache).
  virtual Result<bool> NodeExists(const std::string& name) = 0;
  // A strategic merge patch of the pod's status.
  virtual Status PatchPodStatus(const std::string& ns, const std::string& name,
                                const std::string& patch) = 0;
  // Deletes the pod with grace period 0, on the condition that its uid is `uid`.
  virtual Status ForceDeletePod(const std::string& ns, const std::string& name,
                                const std::string& uid) = 0;
};

class RestPodGCClient final : public PodGCClient {
 public:
  explicit RestPodGCClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Result<bool> NodeExists(const std::string& name) override;
  Status PatchPodStatus(const std::string& ns, const std::string& name,
                        const std::string& patch) override;
  Status ForceDeletePod(const std::string& ns, const std::string& name,
                        const std::string& uid) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

// The status patch that marks `pod` Failed, with the DisruptionTarget condition (reason
// DeletionByPodGC, `message`) when a message is given (upstream's
// markFailedAndDeletePodWithCondition: only orphaned pods get the condition).
std::string PodGCFailedStatusPatch(const api::core::v1::Pod& pod, const std::string& message,
                                   api::Time now);

using PodPtr = std::shared_ptr<const api::core::v1::Pod>;
using NodePtr = std::shared_ptr<const api::core::v1::Node>;

// One pass of the collector over a snapshot of all pods and nodes. Keeps, between passes, when
// it first saw each missing node (the quarantine).
class PodGCSyncer {
 public:
  PodGCSyncer(PodGCClient& client, int terminated_pod_threshold, Clock& clock)
      : client_(client), terminated_pod_threshold_(terminated_pod_threshold), clock_(clock) {}
  // Returns the pods deleted, "<ns>/<name>", in order.
  std::vector<std::string> Gc(const std::vector<PodPtr>& pods, const std::vector<NodePtr>& nodes);

 private:
  bool MarkFailedAndDelete(const api::core::v1::Pod& pod, const std::string& message);
  void GcTerminated(const std::vector<PodPtr>& pods);
  void GcTerminating(const std::vector<PodPtr>& pods, const std::vector<NodePtr>& nodes);
  void GcOrphaned(const std::vector<PodPtr>& pods, const std::vector<NodePtr>& nodes);
  void GcUnscheduledTerminating(const std::vector<PodPtr>& pods);

  PodGCClient& client_;
  int terminated_pod_threshold_;
  Clock& clock_;
  std::map<std::string, Clock::TimePoint> missing_since_;  // node name -> first seen missing
  std::vector<std::string> deleted_;
};

struct PodGCControllerOptions {
  int terminated_pod_gc_threshold = kDefaultTerminatedPodGcThreshold;
  std::chrono::milliseconds period = kPodGcCheckPeriod;
};

class PodGCController {
 public:
  PodGCController(client::informers::SharedInformerFactory& factory, PodGCClient& client,
                  PodGCControllerOptions options = {});
  ~PodGCController();
  void Run();
  void Stop();

 private:
  client::informers::SharedInformer& pods_informer_;
  client::informers::SharedInformer& nodes_informer_;
  PodGCControllerOptions options_;
  PodGCSyncer syncer_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kpp::controllers
