// `kpp hollow-nodes`: many simulated kubelets in one process. Each registers its Node, renews
// its Lease and reports its status as upstream's kubelet does, and "runs" the pods bound to it
// without containers (Running and Ready with an IP; finished after a run time; killed and
// deleted when deleted).
//
// Cheap at 10,000 nodes: nothing is per node but a small state record. Heartbeats (register,
// lease renewals every 10 s, status checks every 10 s) are keys in one delaying queue (its heap
// is the timer) served by a few worker threads that make blocking requests; pods come from ONE
// shared informer over every bound pod, whose handler hands keys of our nodes' pods to one
// rate-limited work queue with a few workers of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "client/informers/shared_informer.h"
#include "client/record/event_recorder.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"
#include "hollownodes/status.h"
#include "hollownodes/usage.h"

namespace kpp::hollownodes {

struct HollowNodesConfig {
  NodeTemplate node_template;
  int count = 1;
  // How long a pod with restartPolicy Never or OnFailure runs before it succeeds; 0: forever.
  std::chrono::seconds pod_run_time{0};
  // A deleted pod's containers "stop" after its grace period, but never later than this.
  std::chrono::milliseconds max_termination_grace{2000};
  int heartbeat_workers = 16;
  int pod_workers = 16;
  // Upstream's kubelet: the lease is renewed every 10 s (a quarter of its 40 s duration), the
  // node status is checked every 10 s and written when it changed or 5 minutes passed.
  std::chrono::milliseconds lease_renew_interval{10'000};
  std::chrono::milliseconds status_check_interval{10'000};
  std::chrono::milliseconds status_report_interval{300'000};
  // Usage reports to metrics.k8s.io (hollownodes/usage.h), every interval, when enabled.
  bool report_usage = false;
  PodUsageDefaults pod_usage;
  std::chrono::milliseconds usage_report_interval{10'000};
  // Record the kubelet's events (node Starting/NodeReady..., pod Pulled/Created/Started/Killing).
  bool events = true;
};

// Figures for logs, tests and the scale check.
struct HollowNodesStats {
  int registered = 0;
  int64_t lease_renewals = 0;
  int64_t lease_failures = 0;
  int64_t status_reports = 0;
  int64_t pod_status_writes = 0;
  int64_t pod_deletes = 0;
  int64_t request_failures = 0;
  int64_t usage_reports = 0;
};

class HollowNodes {
 public:
  HollowNodes(std::shared_ptr<client::rest::RestClient> client, HollowNodesConfig config,
              Clock& clock = RealClock());
  ~HollowNodes();
  HollowNodes(const HollowNodes&) = delete;
  HollowNodes& operator=(const HollowNodes&) = delete;

  // Plans the nodes (an error for a bad template), then starts registering them and watching
  // their pods in the background.
  Status Start();
  // Stops every thread; the nodes stay registered, as a stopped kubelet leaves its Node.
  void Stop();
  HollowNodesStats Stats() const;

 private:
  struct NodeState;
  struct PodAddress {
    std::string uid;
    int node = -1;
    uint32_t offset = 0;  // within the node's pod range; 0 for host-network pods
  };

  void HeartbeatWorker();
  void HandleHeartbeat(const std::string& key);
  Status Register(NodeState& node);
  Status RenewLease(NodeState& node);
  Status CheckStatus(NodeState& node);
  // One usage report per registered node, from the pod informer's cache.
  void ReportUsage();

  void PodWorker();
  void EnqueuePod(const client::informers::ObjectRef& object);
  // Brings one pod toward what its node would report; an error requeues it with back-off.
  Status SyncPod(const std::string& key);
  Result<std::string> AssignPodIp(const std::string& key, const api::core::v1::Pod& pod, int node);
  void ReleasePodIp(const std::string& key);
  api::Time Now() const;
  void RecordNodeEvents(const NodeState& node);
  void RecordPodEvents(const api::core::v1::Pod& pod, bool starting);

  std::shared_ptr<client::rest::RestClient> client_;
  HollowNodesConfig config_;
  Clock& clock_;
  std::vector<std::unique_ptr<NodeState>> nodes_;
  std::unordered_map<std::string, int> node_by_name_;

  client::workqueue::DelayingQueue heartbeats_;
  client::workqueue::RateLimitingQueue pods_;
  std::unique_ptr<client::informers::SharedInformer> pod_informer_;
  std::unique_ptr<client::record::EventRecorder> recorder_;
  std::vector<std::thread> threads_;
  std::atomic<bool> started_ = false;

  mutable std::mutex pods_mutex_;                              // guards the three below
  std::unordered_map<std::string, PodAddress> pod_addresses_;  // by pod key
  std::vector<std::vector<uint64_t>> used_offsets_;            // per node, a bit per address
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> terminating_since_;

  std::atomic<int> registered_ = 0;
  std::atomic<int64_t> lease_renewals_ = 0;
  std::atomic<int64_t> lease_failures_ = 0;
  std::atomic<int64_t> status_reports_ = 0;
  std::atomic<int64_t> pod_status_writes_ = 0;
  std::atomic<int64_t> pod_deletes_ = 0;
  std::atomic<int64_t> request_failures_ = 0;
  std::atomic<int64_t> usage_reports_ = 0;
};

// The command: connects with `kubeconfig`, runs the nodes until SIGTERM or SIGINT, logs figures
// every minute. Returns the process exit code.
int RunHollowNodes(const std::string& kubeconfig, HollowNodesConfig config);

}  // namespace kpp::hollownodes
