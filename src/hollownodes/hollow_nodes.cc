#include "hollownodes/hollow_nodes.h"

#include <fmt/format.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <condition_variable>
#include <optional>

#include "api/coordination.k8s.io/v1/codec.h"
#include "api/core/v1/codec.h"
#include "base/log.h"
#include "client/informers/transform.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::hollownodes {

namespace v1 = api::core::v1;
using api::coordination_k8s_io::v1::Lease;
using client::TypedResource;
using client::informers::ObjectRef;
using namespace std::chrono_literals;

struct HollowNodes::NodeState {
  NodeIdentity identity;
  std::string uid;
  // What the lease renewals PUT: the last lease the server answered with.
  std::optional<Lease> lease;
  std::vector<v1::NodeCondition> reported_conditions;
  std::chrono::steady_clock::time_point last_report{};
  int register_failures = 0;
  int lease_failures = 0;
  bool lease_phase_spread = false;
};

namespace {

constexpr char kRegisterKey = 'r';
constexpr char kLeaseKey = 'l';
constexpr char kStatusKey = 's';
constexpr char kUsageKey[] = "m";  // one key for every node's usage report

std::string HeartbeatKey(char what, int index) {
  return what + std::to_string(index);
}

// Upstream's lease controller backs off 200 ms doubling up to 7 s; registration likewise.
std::chrono::milliseconds Backoff(int failures) {
  std::chrono::milliseconds delay = 200ms;
  for (int i = 1; i < failures && delay < 7s; ++i)
    delay *= 2;
  return std::min<std::chrono::milliseconds>(delay, 7s);
}

bool IsTerminal(const v1::Pod& pod) {
  return pod.status.phase == "Succeeded" || pod.status.phase == "Failed";
}

// The pod looks as this node reported it Running (the informer shows our own write back).
bool ReportedRunning(const v1::Pod& pod) {
  return pod.status.phase == "Running" && !pod.status.pod_ip.empty() &&
         pod.status.container_statuses.size() == pod.spec.containers.size() &&
         pod.status.init_container_statuses.size() == pod.spec.init_containers.size();
}

bool FinishesOnItsOwn(const v1::Pod& pod) {
  return pod.spec.restart_policy == "Never" || pod.spec.restart_policy == "OnFailure";
}

}  // namespace

HollowNodes::HollowNodes(std::shared_ptr<client::rest::RestClient> client, HollowNodesConfig config,
                         Clock& clock)
    : client_(std::move(client)),
      config_(std::move(config)),
      clock_(clock),
      heartbeats_(clock),
      pods_(client::workqueue::DefaultControllerRateLimiter(), clock) {}

HollowNodes::~HollowNodes() {
  Stop();
}

api::Time HollowNodes::Now() const {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
}

Status HollowNodes::Start() {
  if (started_.exchange(true)) return Ok();
  KPP_ASSIGN_OR_RETURN(auto identities, PlanNodes(config_.node_template, config_.count));
  nodes_.reserve(identities.size());
  used_offsets_.resize(identities.size());
  for (auto& identity : identities) {
    node_by_name_[identity.name] = identity.index;
    auto state = std::make_unique<NodeState>();
    state->identity = std::move(identity);
    nodes_.push_back(std::move(state));
  }

  if (config_.events) {
    client::record::RecorderOptions recorder_options;
    recorder_options.component = "kubelet";
    recorder_ = std::make_unique<client::record::EventRecorder>(client_, recorder_options);
  }
  // One informer for every bound pod; the handler keeps those of our nodes.
  client::informers::InformerOptions options;
  options.selectors.field_selector = "spec.nodeName!=";
  options.indexers = {};
  options.clock = &clock_;
  options.transform =
      client::informers::TypedTransform<v1::Pod>([](const v1::Pod& pod) { return TrimPod(pod); });
  pod_informer_ = std::make_unique<client::informers::SharedInformer>(
      client::DynamicResource(client_, client::KindFor<v1::Pod>()), options);
  client::informers::EventHandler handler;
  handler.on_add = [this](const ObjectRef& object, bool) { EnqueuePod(object); };
  handler.on_update = [this](const ObjectRef&, const ObjectRef& object) { EnqueuePod(object); };
  handler.on_delete = [this](const client::informers::DeletedObject& deleted) {
    EnqueuePod(deleted.object);
  };
  pod_informer_->AddEventHandler(std::move(handler));
  pod_informer_->Run();

  for (const auto& node : nodes_)
    heartbeats_.Add(HeartbeatKey(kRegisterKey, node->identity.index));
  if (config_.report_usage) heartbeats_.AddAfter(kUsageKey, config_.usage_report_interval);
  for (int i = 0; i < config_.heartbeat_workers; ++i) {
    threads_.emplace_back([this] { HeartbeatWorker(); });
  }
  for (int i = 0; i < config_.pod_workers; ++i)
    threads_.emplace_back([this] { PodWorker(); });
  return Ok();
}

void HollowNodes::Stop() {
  if (!started_) return;
  heartbeats_.ShutDown();
  pods_.ShutDown();
  if (pod_informer_) pod_informer_->Stop();
  if (recorder_) recorder_->Shutdown();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

HollowNodesStats HollowNodes::Stats() const {
  HollowNodesStats stats;
  stats.registered = registered_;
  stats.lease_renewals = lease_renewals_;
  stats.lease_failures = lease_failures_;
  stats.status_reports = status_reports_;
  stats.pod_status_writes = pod_status_writes_;
  stats.pod_deletes = pod_deletes_;
  stats.request_failures = request_failures_;
  stats.usage_reports = usage_reports_;
  return stats;
}

// ---- heartbeats -------------------------------------------------------------------------------

void HollowNodes::HeartbeatWorker() {
  while (auto key = heartbeats_.Get()) {
    HandleHeartbeat(*key);
    heartbeats_.Done(*key);
  }
}

void HollowNodes::HandleHeartbeat(const std::string& key) {
  if (key == kUsageKey) {
    ReportUsage();
    heartbeats_.AddAfter(key, config_.usage_report_interval);
    return;
  }
  const int index = std::stoi(key.substr(1));
  NodeState& node = *nodes_[static_cast<size_t>(index)];
  switch (key[0]) {
    case kRegisterKey:
      if (auto status = Register(node); !status.ok()) {
        ++request_failures_;
        KLOG_WARNING("Unable to register node {} with API server: {}", node.identity.name,
                     status.error().message());
        heartbeats_.AddAfter(key, Backoff(++node.register_failures));
        return;
      }
      node.register_failures = 0;
      ++registered_;
      RecordNodeEvents(node);
      heartbeats_.Add(HeartbeatKey(kLeaseKey, index));
      heartbeats_.AddAfter(HeartbeatKey(kStatusKey, index), config_.status_check_interval);
      return;
    case kLeaseKey:
      if (auto status = RenewLease(node); !status.ok()) {
        ++lease_failures_;
        KLOG_V(2, "Failed to update lease of node {}: {}", node.identity.name,
               status.error().message());
        heartbeats_.AddAfter(key, Backoff(++node.lease_failures));
        return;
      }
      node.lease_failures = 0;
      ++lease_renewals_;
      if (!node.lease_phase_spread) {
        // Nodes registered in a burst would renew in a burst every 10 s; one longer first
        // interval (golden-ratio offsets by index) spreads the renewals evenly over it.
        node.lease_phase_spread = true;
        const double fraction = std::fmod(index * 0.6180339887498949, 1.0);
        heartbeats_.AddAfter(key, config_.lease_renew_interval +
                                      std::chrono::duration_cast<std::chrono::milliseconds>(
                                          config_.lease_renew_interval * fraction));
        return;
      }
      heartbeats_.AddAfter(key, config_.lease_renew_interval);
      return;
    case kStatusKey:
      if (auto status = CheckStatus(node); !status.ok()) {
        ++request_failures_;
        KLOG_V(2, "Error updating node status of {}, will retry: {}", node.identity.name,
               status.error().message());
      }
      heartbeats_.AddAfter(key, config_.status_check_interval);
      return;
    default: return;
  }
}

Status HollowNodes::Register(NodeState& node) {
  TypedResource<v1::Node> nodes(client_);
  KPP_ASSIGN_OR_RETURN(v1::Node desired, BuildNode(config_.node_template, node.identity, Now()));
  auto created = nodes.Create(desired);
  if (created.ok()) {
    node.uid = created->metadata.uid;
    node.reported_conditions = created->status.conditions;
    node.last_report = clock_.Monotonic();
    return Ok();
  }
  if (!client::IsAlreadyExists(created.error())) return created.error();
  // Registered before (a restart): take the node over as the kubelet does, reporting our status.
  KPP_ASSIGN_OR_RETURN(v1::Node existing, nodes.Get(node.identity.name));
  node.uid = existing.metadata.uid;
  desired.status.conditions = HealthyNodeConditions(Now(), existing.status.conditions);
  auto desired_json = boost::json::parse(api::ToJson(desired)).as_object();
  boost::json::object patch;
  patch["status"] = desired_json["status"];
  KPP_ASSIGN_OR_RETURN(v1::Node patched,
                       nodes.Patch(node.identity.name, client::PatchType::kStrategicMerge,
                                   boost::json::serialize(patch), {}, "status"));
  node.reported_conditions = patched.status.conditions;
  node.last_report = clock_.Monotonic();
  return Ok();
}

Status HollowNodes::RenewLease(NodeState& node) {
  TypedResource<Lease> leases(client_, kNodeLeaseNamespace);
  const auto now = api::MicroTime::FromUnixMicros(
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now().time_since_epoch())
          .count());
  if (node.lease.has_value()) {
    Lease renewed = *node.lease;
    renewed.spec.renew_time = now;
    auto updated = leases.Update(renewed);
    if (updated.ok()) {
      node.lease = std::move(*updated);
      return Ok();
    }
    // Someone else changed or removed it: read it again below, as the kubelet does.
    node.lease.reset();
    if (!client::IsConflict(updated.error()) && !client::IsNotFound(updated.error())) {
      return updated.error();
    }
  }
  auto existing = leases.Get(node.identity.name);
  if (!existing.ok()) {
    if (!client::IsNotFound(existing.error())) return existing.error();
    KPP_ASSIGN_OR_RETURN(Lease created,
                         leases.Create(BuildLease(node.identity.name, node.uid, now)));
    node.lease = std::move(created);
    return Ok();
  }
  Lease renewed = BuildLease(node.identity.name, node.uid, now);
  renewed.metadata = existing->metadata;
  if (renewed.metadata.owner_references.empty()) {
    renewed.metadata.owner_references =
        BuildLease(node.identity.name, node.uid, now).metadata.owner_references;
  }
  KPP_ASSIGN_OR_RETURN(Lease updated, leases.Update(renewed));
  node.lease = std::move(updated);
  return Ok();
}

Status HollowNodes::CheckStatus(NodeState& node) {
  // A hollow node's status only changes by its heartbeat, so the check is whether the report
  // is due (upstream's nodeStatusReportFrequency).
  const auto due = node.last_report + config_.status_report_interval;
  if (clock_.Monotonic() < due) return Ok();
  auto conditions = HealthyNodeConditions(Now(), node.reported_conditions);
  boost::json::array items;
  for (const auto& condition : conditions)
    items.push_back(boost::json::parse(api::ToJson(condition)));
  boost::json::object status;
  status["conditions"] = std::move(items);
  boost::json::object patch;
  patch["status"] = std::move(status);
  TypedResource<v1::Node> nodes(client_);
  auto patched = nodes.Patch(node.identity.name, client::PatchType::kStrategicMerge,
                             boost::json::serialize(patch), {}, "status");
  if (!patched.ok()) {
    if (client::IsNotFound(patched.error())) {
      // Someone deleted the Node: register it again.
      --registered_;
      heartbeats_.Add(HeartbeatKey(kRegisterKey, node.identity.index));
    }
    return patched.error();
  }
  ++status_reports_;
  node.reported_conditions = patched->status.conditions;
  node.last_report = clock_.Monotonic();
  return Ok();
}

void HollowNodes::ReportUsage() {
  std::vector<std::vector<std::shared_ptr<const v1::Pod>>> pods_by_node(nodes_.size());
  for (const auto& object : pod_informer_->store().List()) {
    auto pod = client::informers::As<v1::Pod>(object);
    if (pod == nullptr || pod->metadata.deletion_timestamp || !ReportedRunning(*pod)) continue;
    auto node = node_by_name_.find(pod->spec.node_name);
    if (node == node_by_name_.end()) continue;
    pods_by_node[static_cast<size_t>(node->second)].push_back(std::move(pod));
  }
  const api::Time now = Now();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& node = *nodes_[i];
    if (node.uid.empty()) continue;  // not registered yet
    auto labels = config_.node_template.labels;
    labels["kubernetes.io/hostname"] = node.identity.name;
    client::rest::Request request;
    request.method = "POST";
    request.path = "/apis/metrics.k8s.io/v1beta1/nodes/" + node.identity.name + "/report";
    request.body = UsageReport(node.identity.name, labels, pods_by_node[i], config_.pod_usage, now,
                               config_.usage_report_interval);
    if (auto sent = client_->Do(request); !sent.ok()) {
      ++request_failures_;
      KLOG_V(2, "Failed to report the usage of node {}: {}", node.identity.name,
             sent.error().message());
      continue;
    }
    ++usage_reports_;
  }
}

void HollowNodes::RecordNodeEvents(const NodeState& node) {
  if (!recorder_) return;
  // The kubelet refers to its node by name, also as uid.
  v1::ObjectReference reference;
  reference.kind = "Node";
  reference.name = node.identity.name;
  reference.uid = node.identity.name;
  const std::string& name = node.identity.name;
  recorder_->Event(reference, client::record::kEventTypeNormal, "Starting", "Starting kubelet.");
  recorder_->Event(reference, client::record::kEventTypeNormal, "NodeAllocatableEnforced",
                   "Updated Node Allocatable limit across pods");
  for (const char* reason :
       {"NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID", "NodeReady"}) {
    recorder_->Event(reference, client::record::kEventTypeNormal, reason,
                     fmt::format("Node {} status is now: {}", name, reason));
  }
}

void HollowNodes::RecordPodEvents(const v1::Pod& pod, bool starting) {
  if (!recorder_) return;
  auto reference_to = [&](const std::string& field_path) {
    v1::ObjectReference reference;
    reference.kind = "Pod";
    reference.api_version = "v1";
    reference.namespace_ = pod.metadata.namespace_;
    reference.name = pod.metadata.name;
    reference.uid = pod.metadata.uid;
    reference.resource_version = pod.metadata.resource_version;
    reference.field_path = field_path;
    return reference;
  };
  auto record = [&](const v1::Container& container, const std::string& field_path) {
    const auto reference = reference_to(field_path);
    if (starting) {
      recorder_->Event(
          reference, client::record::kEventTypeNormal, "Pulled",
          fmt::format("Container image \"{}\" already present on machine", container.image));
      recorder_->Event(reference, client::record::kEventTypeNormal, "Created",
                       "Created container: " + container.name);
      recorder_->Event(reference, client::record::kEventTypeNormal, "Started",
                       "Started container " + container.name);
    } else {
      recorder_->Event(reference, client::record::kEventTypeNormal, "Killing",
                       "Stopping container " + container.name);
    }
  };
  if (starting) {
    for (const auto& container : pod.spec.init_containers) {
      record(container, "spec.initContainers{" + container.name + "}");
    }
  }
  for (const auto& container : pod.spec.containers) {
    record(container, "spec.containers{" + container.name + "}");
  }
}

// ---- pods -------------------------------------------------------------------------------------

void HollowNodes::EnqueuePod(const ObjectRef& object) {
  if (object == nullptr) return;
  auto pod = client::informers::As<v1::Pod>(object);
  if (pod == nullptr || node_by_name_.count(pod->spec.node_name) == 0) return;
  pods_.Add(pod->metadata.namespace_ + "/" + pod->metadata.name);
}

void HollowNodes::PodWorker() {
  while (auto key = pods_.Get()) {
    if (auto status = SyncPod(*key); !status.ok()) {
      ++request_failures_;
      KLOG_V(2, "Error syncing pod {}, requeuing: {}", *key, status.error().message());
      pods_.AddRateLimited(*key);
    } else {
      pods_.Forget(*key);
    }
    pods_.Done(*key);
  }
}

Result<std::string> HollowNodes::AssignPodIp(const std::string& key, const v1::Pod& pod, int node) {
  const NodeIdentity& identity = nodes_[static_cast<size_t>(node)]->identity;
  if (pod.spec.host_network) return identity.internal_ip;
  std::lock_guard lock(pods_mutex_);
  auto& used = used_offsets_[static_cast<size_t>(node)];
  const uint64_t size = identity.pod_cidr.Size();
  if (used.empty()) used.assign((size + 63) / 64, 0);
  auto found = pod_addresses_.find(key);
  if (found != pod_addresses_.end() && found->second.uid == pod.metadata.uid &&
      found->second.node == node) {
    return Ipv4ToString(identity.pod_cidr.base + found->second.offset);
  }
  if (found != pod_addresses_.end()) {
    if (found->second.offset != 0) {
      auto& old = used_offsets_[static_cast<size_t>(found->second.node)];
      old[found->second.offset / 64] &= ~(uint64_t{1} << (found->second.offset % 64));
    }
    pod_addresses_.erase(found);
  }
  // A pod that already shows an address of our range keeps it (the process restarted).
  uint32_t offset = 0;
  if (!pod.status.pod_ip.empty()) {
    auto cidr = Ipv4Cidr::Parse(pod.status.pod_ip + "/32");
    if (cidr.ok() && cidr->base > identity.pod_cidr.base &&
        cidr->base - identity.pod_cidr.base < size - 1) {
      offset = cidr->base - identity.pod_cidr.base;
    }
  }
  if (offset == 0) {
    // .0 is the network, .1 the node's bridge, the last the broadcast address.
    for (uint32_t candidate = 2; candidate + 1 < size; ++candidate) {
      if ((used[candidate / 64] & (uint64_t{1} << (candidate % 64))) == 0) {
        offset = candidate;
        break;
      }
    }
  }
  if (offset == 0) {
    return InternalError(fmt::format("no free address in {} of node {}",
                                     identity.pod_cidr.ToString(), identity.name));
  }
  used[offset / 64] |= uint64_t{1} << (offset % 64);
  pod_addresses_[key] = PodAddress{pod.metadata.uid, node, offset};
  return Ipv4ToString(identity.pod_cidr.base + offset);
}

void HollowNodes::ReleasePodIp(const std::string& key) {
  std::lock_guard lock(pods_mutex_);
  auto found = pod_addresses_.find(key);
  if (found == pod_addresses_.end()) return;
  if (found->second.offset != 0) {
    auto& used = used_offsets_[static_cast<size_t>(found->second.node)];
    used[found->second.offset / 64] &= ~(uint64_t{1} << (found->second.offset % 64));
  }
  pod_addresses_.erase(found);
}

Status HollowNodes::SyncPod(const std::string& key) {
  auto object = pod_informer_->store().Get(key);
  auto cached = object ? client::informers::As<v1::Pod>(object) : nullptr;
  const auto node_it = cached ? node_by_name_.find(cached->spec.node_name) : node_by_name_.end();
  if (cached == nullptr || node_it == node_by_name_.end()) {
    ReleasePodIp(key);
    std::lock_guard lock(pods_mutex_);
    terminating_since_.erase(key);
    return Ok();
  }
  const v1::Pod& pod = *cached;
  const int node = node_it->second;
  const NodeIdentity& identity = nodes_[static_cast<size_t>(node)]->identity;
  TypedResource<v1::Pod> pods(client_, pod.metadata.namespace_);
  const api::Time now = Now();

  if (pod.metadata.deletion_timestamp.has_value()) {
    // The containers get the grace period (capped) to stop, then the pod goes.
    std::chrono::steady_clock::time_point since;
    bool first_seen = false;
    {
      std::lock_guard lock(pods_mutex_);
      auto [entry, inserted] = terminating_since_.try_emplace(key, clock_.Monotonic());
      since = entry->second;
      first_seen = inserted;
    }
    if (first_seen && !IsTerminal(pod) && !pod.status.container_statuses.empty()) {
      RecordPodEvents(pod, /*starting=*/false);
    }
    const int64_t grace_seconds = pod.metadata.deletion_grace_period_seconds.value_or(
        pod.spec.termination_grace_period_seconds.value_or(30));
    const auto grace = std::min<std::chrono::milliseconds>(std::chrono::seconds(grace_seconds),
                                                           config_.max_termination_grace);
    // Nothing runs in a pod that finished or never started: it goes at once, as upstream.
    const bool running = !IsTerminal(pod) && !pod.status.container_statuses.empty();
    const auto left = since + grace - clock_.Monotonic();
    if (running && left > 0ns) {
      pods_.AddAfter(key, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
      return Ok();
    }
    if (running) {
      auto written = pods.PatchIgnoringAnswer(
          pod.metadata.name, client::PatchType::kMerge,
          PodStatusPatch(pod, BuildSucceededPodStatus(pod, now)), {}, "status");
      if (!written.ok() && !client::IsNotFound(written.error())) return written.error();
      ++pod_status_writes_;
    }
    client::DeleteOptions options;
    options.grace_period_seconds = 0;
    options.precondition_uid = pod.metadata.uid;
    auto deleted = pods.Delete(pod.metadata.name, options);
    if (!deleted.ok() && !client::IsNotFound(deleted.error()) &&
        !client::IsConflict(deleted.error())) {
      return deleted.error();
    }
    ++pod_deletes_;
    ReleasePodIp(key);
    std::lock_guard lock(pods_mutex_);
    terminating_since_.erase(key);
    return Ok();
  }

  if (IsTerminal(pod)) {
    // The sandbox is gone: its address is free again.
    ReleasePodIp(key);
    return Ok();
  }

  if (!ReportedRunning(pod)) {
    KPP_ASSIGN_OR_RETURN(std::string pod_ip, AssignPodIp(key, pod, node));
    std::string patch =
        PodStatusPatch(pod, BuildRunningPodStatus(pod, identity.internal_ip, pod_ip, now, now));
    if (recorder_) {
      // The events name the pod as written (its new resourceVersion).
      KPP_ASSIGN_OR_RETURN(v1::Pod written, pods.Patch(pod.metadata.name, client::PatchType::kMerge,
                                                       std::move(patch), {}, "status"));
      RecordPodEvents(written, /*starting=*/true);
    } else {
      KPP_RETURN_IF_ERROR(pods.PatchIgnoringAnswer(pod.metadata.name, client::PatchType::kMerge,
                                                   std::move(patch), {}, "status"));
    }
    ++pod_status_writes_;
    if (config_.pod_run_time.count() > 0 && FinishesOnItsOwn(pod)) {
      pods_.AddAfter(key, config_.pod_run_time);
    }
    return Ok();
  }
  // Running as reported: keep its address reserved (also after a restart of this process).
  KPP_ASSIGN_OR_RETURN(std::string pod_ip, AssignPodIp(key, pod, node));
  (void)pod_ip;
  if (config_.pod_run_time.count() == 0 || !FinishesOnItsOwn(pod)) return Ok();
  const api::Time started = pod.status.start_time.value_or(now);
  const int64_t ends = started.unix_seconds + config_.pod_run_time.count();
  if (now.unix_seconds < ends) {
    pods_.AddAfter(key, std::chrono::seconds(ends - now.unix_seconds));
    return Ok();
  }
  KPP_RETURN_IF_ERROR(pods.PatchIgnoringAnswer(
      pod.metadata.name, client::PatchType::kMerge,
      PodStatusPatch(pod, BuildSucceededPodStatus(pod, now)), {}, "status"));
  ++pod_status_writes_;
  ReleasePodIp(key);
  return Ok();
}

// ---- the command ------------------------------------------------------------------------------

int RunHollowNodes(const std::string& kubeconfig, HollowNodesConfig config) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto rest_config = client::rest::LoadKubeconfig(kubeconfig);
  if (!rest_config.ok()) {
    KLOG_ERROR("kpp hollow-nodes: {}", rest_config.error().message());
    return 1;
  }
  // One client serves every node: its rate limit would throttle them all together, so there
  // is none; the worker counts bound the load instead.
  rest_config->qps = 0;
  rest_config->user_agent = "kpp-hollow-nodes";
  auto client = client::rest::RestClient::Create(*rest_config);
  if (!client.ok()) {
    KLOG_ERROR("kpp hollow-nodes: {}", client.error().message());
    return 1;
  }
  HollowNodes nodes(*client, config);
  const auto started = std::chrono::steady_clock::now();
  if (auto status = nodes.Start(); !status.ok()) {
    KLOG_ERROR("kpp hollow-nodes: {}", status.error().message());
    return 2;
  }
  KLOG_INFO("Starting {} hollow nodes ({}0 .. {}{})", config.count,
            config.node_template.name_prefix, config.node_template.name_prefix, config.count - 1);

  // A thread logs progress; the main thread waits for the signal.
  std::mutex mutex;
  std::condition_variable stop_changed;
  bool stopping = false;
  std::thread reporter([&] {
    bool all_registered = false;
    auto next_report = std::chrono::steady_clock::now() + 60s;
    std::unique_lock lock(mutex);
    while (!stopping) {
      stop_changed.wait_for(lock, 200ms);
      if (stopping) break;
      const auto stats = nodes.Stats();
      if (!all_registered && stats.registered >= config.count) {
        all_registered = true;
        KLOG_INFO(
            "All {} hollow nodes registered in {:.1f}s", config.count,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      }
      if (std::chrono::steady_clock::now() >= next_report) {
        next_report += 60s;
        KLOG_INFO(
            "hollow nodes: registered={} leaseRenewals={} leaseFailures={} statusReports={} "
            "podStatusWrites={} podDeletes={} failures={}",
            stats.registered, stats.lease_renewals, stats.lease_failures, stats.status_reports,
            stats.pod_status_writes, stats.pod_deletes, stats.request_failures);
      }
    }
  });
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  KLOG_INFO("Received signal {}, stopping hollow nodes (they stay registered)", signal_number);
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  stop_changed.notify_all();
  reporter.join();
  nodes.Stop();
  return 0;
}

}  // namespace kpp::hollownodes
