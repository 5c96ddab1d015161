#include "scheduler/scheduler.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "api/apps/v1/codec.h"
#include "api/core/v1/codec.h"
#include "api/policy/v1/codec.h"
#include "base/log.h"
#include "client/informers/transform.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"
#include "client/rest/rest_client.h"
#include "scheduler/plugins/registry.h"
#include "scheduler/pod_trim.h"

namespace kpp::scheduler {
namespace {

using client::informers::As;
using client::informers::ObjectRef;

bool Assigned(const Pod& pod) {
  return !pod.spec.node_name.empty();
}
bool Terminal(const Pod& pod) {
  return pod.status.phase == "Succeeded" || pod.status.phase == "Failed";
}

std::string TimeNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

uint32_t NodeUpdateActions(const Node& old_node, const Node& new_node) {
  uint32_t actions = 0;
  if (old_node.status.allocatable != new_node.status.allocatable) actions |= kUpdateNodeAllocatable;
  if (old_node.metadata.labels != new_node.metadata.labels) actions |= kUpdateNodeLabel;
  if (old_node.spec.taints != new_node.spec.taints ||
      old_node.spec.unschedulable != new_node.spec.unschedulable) {
    actions |= kUpdateNodeTaint;
  }
  if (old_node.status.conditions.size() != new_node.status.conditions.size()) {
    actions |= kUpdateNodeCondition;
  } else {
    for (size_t i = 0; i < old_node.status.conditions.size(); ++i) {
      if (old_node.status.conditions[i].type != new_node.status.conditions[i].type ||
          old_node.status.conditions[i].status != new_node.status.conditions[i].status) {
        actions |= kUpdateNodeCondition;
      }
    }
  }
  return actions;
}

api::core::v1::ObjectReference PodReference(const Pod& pod) {
  api::core::v1::ObjectReference ref;
  ref.kind = "Pod";
  ref.api_version = "v1";
  ref.namespace_ = pod.metadata.namespace_;
  ref.name = pod.metadata.name;
  ref.uid = pod.metadata.uid;
  ref.resource_version = pod.metadata.resource_version;
  return ref;
}

}  // namespace

Scheduler::Scheduler(std::shared_ptr<client::rest::RestClient> client, SchedulerOptions options,
                     SchedulerMetrics* metrics)
    : client_(std::move(client)), options_(std::move(options)), metrics_(metrics) {}

Result<std::unique_ptr<Scheduler>> Scheduler::Create(
    std::shared_ptr<client::rest::RestClient> client, SchedulerOptions options,
    SchedulerMetrics* metrics) {
  std::unique_ptr<Scheduler> scheduler(
      new Scheduler(std::move(client), std::move(options), metrics));
  auto& s = *scheduler;
  const Registry registry = plugins::InTreeRegistry();
  std::map<std::string, std::vector<ClusterEvent>> events;
  for (size_t i = 0; i < s.options_.profiles.size(); ++i) {
    KPP_ASSIGN_OR_RETURN(auto framework, Framework::Create(s.options_.profiles[i], registry, &s,
                                                           fmt::format("profiles[{}]", i)));
    if (s.by_name_.contains(framework->scheduler_name())) {
      return InvalidError(fmt::format("profiles[{}].schedulerName: Duplicate value: \"{}\"", i,
                                      framework->scheduler_name()));
    }
    for (auto& [plugin, registered] : framework->EventsToRegister())
      events[plugin] = registered;
    s.by_name_[framework->scheduler_name()] = framework.get();
    s.frameworks_.push_back(std::move(framework));
  }
  if (s.frameworks_.empty()) return InvalidError("profiles: Required value: at least one profile");
  const Framework* first = s.frameworks_.front().get();
  QueueOptions queue_options;
  queue_options.initial_backoff = s.options_.pod_initial_backoff;
  queue_options.max_backoff = s.options_.pod_max_backoff;
  s.queue_ = std::make_unique<SchedulingQueue>(
      [first](const QueuedPodInfo& a, const QueuedPodInfo& b) {
        return first->Less({a.pod_info->pod.get(), a.timestamp.time_since_epoch().count()},
                           {b.pod_info->pod.get(), b.timestamp.time_since_epoch().count()});
      },
      queue_options,
      [&s](const Pod& pod) {
        const Framework* framework = s.FrameworkFor(pod);
        return framework == nullptr || framework->RunPreEnqueue(pod);
      },
      std::move(events));
  s.parallelizer_ =
      std::make_unique<Parallelizer>(s.options_.parallelism > 0 ? s.options_.parallelism - 1 : -1);
  s.algorithm_ = std::make_unique<ScheduleAlgorithm>(*s.parallelizer_,
                                                     s.options_.percentage_of_nodes_to_score);
  s.informers_ = std::make_unique<client::informers::SharedInformerFactory>(s.client_);
  client::record::RecorderOptions recorder;
  recorder.component = first->scheduler_name();
  recorder.host = s.options_.identity;
  s.recorder_ = std::make_unique<client::record::EventRecorder>(s.client_, recorder);
  if (s.metrics_ != nullptr) {
    s.metrics_->SetPendingSource([queue = s.queue_.get()] {
      const auto counts = queue->PendingCounts();
      return SchedulerMetrics::Pending{counts.active, counts.backoff, counts.unschedulable,
                                       counts.gated};
    });
  }
  s.RegisterHandlers();
  return scheduler;
}

Scheduler::~Scheduler() {
  Stop();
}

const Framework* Scheduler::FrameworkFor(const Pod& pod) const {
  const std::string& name = pod.spec.scheduler_name.empty() ? std::string(kDefaultSchedulerName)
                                                            : pod.spec.scheduler_name;
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::map<std::string, std::string> Scheduler::NamespaceLabels(const std::string& ns) const {
  if (namespaces_ == nullptr) return {};
  auto found = client::informers::Lister<api::core::v1::Namespace>(*namespaces_).Get(ns);
  return found ? found->metadata.labels : std::map<std::string, std::string>{};
}

std::vector<std::shared_ptr<const api::policy::v1::PodDisruptionBudget>>
Scheduler::PodDisruptionBudgets() const {
  if (pod_disruption_budgets_ == nullptr) return {};
  return client::informers::Lister<api::policy::v1::PodDisruptionBudget>(*pod_disruption_budgets_)
      .List();
}

PluginStatus Scheduler::RunFilters(const CycleState& state, const PodInfo& pod,
                                   const NodeInfo& node) const {
  const Framework* framework = FrameworkFor(*pod.pod);
  return framework == nullptr ? PluginStatus{} : framework->RunFilter(state, pod, node);
}

void Scheduler::RecordEvent(const Pod& pod, const std::string& type, const std::string& reason,
                            const std::string& message) {
  recorder_->Event(PodReference(pod), type, reason, message);
}

labels::Selector Scheduler::DefaultSpreadSelector(const Pod& pod) const {
  using client::informers::Lister;
  if (services_ == nullptr) return labels::Selector::Nothing();
  const std::string& ns = pod.metadata.namespace_;
  std::map<std::string, std::string> merged;
  for (const auto& service : Lister<api::core::v1::Service>(*services_).ListNamespace(ns)) {
    const auto& selector = service->spec.selector;
    if (selector.empty() || !labels::Selector::FromSet(selector).Matches(pod.metadata.labels)) {
      continue;
    }
    merged.insert(selector.begin(), selector.end());
  }
  labels::Selector selector = labels::Selector::FromSet(merged);
  const api::meta::v1::OwnerReference* owner = nullptr;
  for (const auto& ref : pod.metadata.owner_references) {
    if (ref.controller.value_or(false)) owner = &ref;
  }
  if (owner != nullptr) {
    if (owner->api_version == "v1" && owner->kind == "ReplicationController") {
      if (auto rc = Lister<api::core::v1::ReplicationController>(*replication_controllers_)
                        .Get(ns, owner->name)) {
        merged.insert(rc->spec.selector.begin(), rc->spec.selector.end());
        selector = labels::Selector::FromSet(merged);
      }
    } else if (owner->api_version == "apps/v1" && owner->kind == "ReplicaSet") {
      if (auto rs = Lister<api::apps::v1::ReplicaSet>(*replica_sets_).Get(ns, owner->name)) {
        auto other = plugins::SelectorOf(rs->spec.selector ? &*rs->spec.selector : nullptr);
        if (!other.MatchesNothing()) selector = selector.Add(other.requirements());
      }
    } else if (owner->api_version == "apps/v1" && owner->kind == "StatefulSet") {
      if (auto ss = Lister<api::apps::v1::StatefulSet>(*stateful_sets_).Get(ns, owner->name)) {
        auto other = plugins::SelectorOf(ss->spec.selector ? &*ss->spec.selector : nullptr);
        if (!other.MatchesNothing()) selector = selector.Add(other.requirements());
      }
    }
  }
  if (selector.Empty()) return labels::Selector::Nothing();
  return selector;
}

void Scheduler::RegisterHandlers() {
  // Set before the first informer is made; objects of other kinds pass unchanged.
  informers_->default_options().transform = client::informers::TypedTransform<Pod>(
      [](const Pod& pod) { return TrimPodForScheduling(pod); });
  // namespaceSelector of pod affinity terms reads namespace labels.
  namespaces_ = &informers_->InformerFor<api::core::v1::Namespace>();
  services_ = &informers_->InformerFor<api::core::v1::Service>();
  replication_controllers_ = &informers_->InformerFor<api::core::v1::ReplicationController>();
  replica_sets_ = &informers_->InformerFor<api::apps::v1::ReplicaSet>();
  stateful_sets_ = &informers_->InformerFor<api::apps::v1::StatefulSet>();
  pod_disruption_budgets_ = &informers_->InformerFor<api::policy::v1::PodDisruptionBudget>();
  auto& pods = informers_->InformerFor<Pod>();
  pods.AddEventHandler({
      .on_add =
          [this](const ObjectRef& object, bool) {
            if (auto pod = As<Pod>(object)) OnPodAdd(pod);
          },
      .on_update =
          [this](const ObjectRef& old_object, const ObjectRef& new_object) {
            auto old_pod = As<Pod>(old_object);
            auto new_pod = As<Pod>(new_object);
            if (old_pod && new_pod) OnPodUpdate(old_pod, new_pod);
          },
      .on_delete =
          [this](const client::informers::DeletedObject& deleted) {
            if (auto pod = As<Pod>(deleted.object)) OnPodDelete(pod);
          },
  });
  auto& nodes = informers_->InformerFor<Node>();
  nodes.AddEventHandler({
      .on_add =
          [this](const ObjectRef& object, bool) {
            if (auto node = As<Node>(object)) {
              cache_.AddNode(node);
              queue_->MoveAllToActiveOrBackoffQueue(kEventNodeAdd);
            }
          },
      .on_update =
          [this](const ObjectRef& old_object, const ObjectRef& new_object) {
            auto old_node = As<Node>(old_object);
            auto new_node = As<Node>(new_object);
            if (old_node && new_node) OnNodeUpdate(old_node, new_node);
          },
      .on_delete =
          [this](const client::informers::DeletedObject& deleted) {
            if (auto node = As<Node>(deleted.object)) cache_.RemoveNode(node->metadata.name);
          },
  });
}

void Scheduler::OnPodAdd(const PodPtr& pod) {
  if (Assigned(*pod)) {
    if (Terminal(*pod)) return;
    cache_.AddPod(pod);
    // A placed pod may satisfy pending pods' affinity (or spread) rules.
    queue_->MoveAllToActiveOrBackoffQueue({EventResource::kAssignedPod, kAdd, "AssignedPodAdd"});
    return;
  }
  if (FrameworkFor(*pod) == nullptr || pod->metadata.deletion_timestamp) return;
  queue_->Add(pod);
}

void Scheduler::OnPodUpdate(const PodPtr& old_pod, const PodPtr& new_pod) {
  if (Assigned(*new_pod)) {
    if (!Assigned(*old_pod)) {
      queue_->Delete(new_pod->metadata.uid);
      if (!Terminal(*new_pod)) cache_.UpdatePod(new_pod);
      queue_->MoveAllToActiveOrBackoffQueue({EventResource::kAssignedPod, kAdd, "AssignedPodAdd"});
      return;
    }
    if (Terminal(*new_pod)) {
      cache_.RemovePod(new_pod->metadata.uid);
      queue_->MoveAllToActiveOrBackoffQueue(kEventAssignedPodDelete);
    } else {
      cache_.UpdatePod(new_pod);
    }
    return;
  }
  if (FrameworkFor(*new_pod) == nullptr) return;
  if (new_pod->metadata.deletion_timestamp) {
    queue_->Delete(new_pod->metadata.uid);
    return;
  }
  // Status-only changes (our own condition updates) do not make a pod schedulable.
  if (old_pod->spec == new_pod->spec && old_pod->metadata.labels == new_pod->metadata.labels &&
      old_pod->metadata.annotations == new_pod->metadata.annotations) {
    queue_->Refresh(new_pod);
    return;
  }
  queue_->Update(old_pod, new_pod);
}

void Scheduler::OnPodDelete(const PodPtr& pod) {
  if (Assigned(*pod)) {
    cache_.RemovePod(pod->metadata.uid);
    queue_->MoveAllToActiveOrBackoffQueue(kEventAssignedPodDelete);
    return;
  }
  queue_->Delete(pod->metadata.uid);
}

void Scheduler::OnNodeUpdate(const NodePtr& old_node, const NodePtr& new_node) {
  cache_.UpdateNode(new_node);
  const uint32_t actions = NodeUpdateActions(*old_node, *new_node);
  if (actions != 0) {
    queue_->MoveAllToActiveOrBackoffQueue({EventResource::kNode, actions, "NodeUpdate"});
  }
}

void Scheduler::Start() {
  if (started_) return;
  started_ = true;
  informers_->Start();
  queue_->Run();
  for (int i = 0; i < options_.binding_threads; ++i) {
    binding_threads_.emplace_back([this] { BindingLoop(); });
  }
  loop_ = std::thread([this] { Loop(); });
}

bool Scheduler::WaitForCacheSync(std::chrono::milliseconds timeout) {
  return informers_->WaitForCacheSync(timeout);
}

void Scheduler::Stop() {
  if (stopping_.exchange(true)) return;
  if (!queue_) return;  // Create failed half-way
  queue_->Close();
  if (loop_.joinable()) loop_.join();
  { std::lock_guard lock(binding_mutex_); }
  binding_ready_.notify_all();
  for (auto& thread : binding_threads_)
    thread.join();
  binding_threads_.clear();
  if (informers_) informers_->Shutdown();
  if (recorder_) recorder_->Shutdown();
}

void Scheduler::Loop() {
  // The informers must have listed before the first cycle, or pods would be placed on a partial
  // view of the nodes.
  while (!stopping_ && !informers_->WaitForCacheSync(std::chrono::milliseconds(1000))) {
  }
  while (!stopping_) {
    QueuedPodInfoPtr queued = queue_->Pop();
    if (!queued) return;
    ScheduleOne(std::move(queued));
  }
}

void Scheduler::ScheduleOne(QueuedPodInfoPtr queued) {
  const auto started = std::chrono::steady_clock::now();
  const Pod& pod = queued->pod();
  const Framework* framework = FrameworkFor(pod);
  if (framework == nullptr || pod.metadata.deletion_timestamp) {
    queue_->Done(queued->uid());
    return;
  }
  const int64_t cycle = queue_->SchedulingCycle();
  cache_.UpdateSnapshot(snapshot_);
  auto state = std::make_shared<CycleState>();
  ScheduleResult result;
  FitError fit_error;
  std::string error;
  const auto outcome = algorithm_->SchedulePod(*framework, *state, *queued->pod_info, snapshot_,
                                               result, fit_error, error);
  auto seconds_since = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  if (outcome == ScheduleOutcome::kUnschedulable) {
    std::string nominated;
    if (framework->HasPostFilter()) {
      PostFilterResult post;
      auto status = framework->RunPostFilter(*state, *queued->pod_info,
                                             fit_error.diagnosis.node_to_status, post);
      if (!status.IsSuccess()) fit_error.diagnosis.post_filter_msg = status.Message();
      nominated = post.nominated_node_name;
    }
    if (metrics_)
      metrics_->ObserveAttempt(framework->scheduler_name(), "unschedulable", seconds_since());
    HandleFailure(*framework, queued, "Unschedulable", fit_error.Message(),
                  fit_error.diagnosis.unschedulable_plugins, cycle, nominated);
    return;
  }
  if (outcome == ScheduleOutcome::kError) {
    const bool no_nodes = error == kNoNodesAvailableMessage;
    if (metrics_) {
      metrics_->ObserveAttempt(framework->scheduler_name(), no_nodes ? "unschedulable" : "error",
                               seconds_since());
    }
    HandleFailure(*framework, queued, no_nodes ? "Unschedulable" : "SchedulerError", error, {},
                  cycle);
    return;
  }

  // Assume: the cache counts the pod on its node from now on, before the binding is written.
  auto assumed_pod = std::make_shared<Pod>(pod);
  assumed_pod->spec.node_name = result.suggested_host;
  auto assumed = std::make_shared<const PodInfo>(std::move(assumed_pod));
  if (auto status = cache_.AssumePod(assumed); !status.ok()) {
    if (metrics_) metrics_->ObserveAttempt(framework->scheduler_name(), "error", seconds_since());
    HandleFailure(*framework, queued, "SchedulerError", status.error().message(), {}, cycle);
    return;
  }
  auto reserve = framework->RunReserve(*state, *assumed, result.suggested_host);
  if (reserve.IsSuccess()) reserve = framework->RunPermit(*state, *assumed, result.suggested_host);
  if (!reserve.IsSuccess()) {
    framework->RunUnreserve(*state, *assumed, result.suggested_host);
    cache_.ForgetPod(assumed->uid());
    if (metrics_)
      metrics_->ObserveAttempt(framework->scheduler_name(), "unschedulable", seconds_since());
    std::set<std::string> plugins;
    if (reserve.IsRejected()) plugins.insert(reserve.plugin());
    HandleFailure(*framework, queued, reserve.IsRejected() ? "Unschedulable" : "SchedulerError",
                  reserve.Message(), std::move(plugins), cycle);
    return;
  }
  SubmitBinding([this, framework, queued, assumed, state, node = result.suggested_host, started] {
    Bind(framework, queued, assumed, state, node, started);
  });
}

void Scheduler::Bind(const Framework* framework, QueuedPodInfoPtr queued, PodInfoPtr assumed,
                     std::shared_ptr<CycleState> state, std::string node,
                     std::chrono::steady_clock::time_point started) {
  const int64_t cycle = queue_->SchedulingCycle();
  auto status = framework->RunPreBind(*state, *assumed, node);
  if (status.IsSuccess()) status = framework->RunBind(*state, *assumed, node);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!status.IsSuccess()) {
    framework->RunUnreserve(*state, *assumed, node);
    cache_.ForgetPod(assumed->uid());
    // The node's share of the pod was freed: others waiting for room may fit now.
    queue_->MoveAllToActiveOrBackoffQueue(kEventAssignedPodDelete);
    if (metrics_) metrics_->ObserveAttempt(framework->scheduler_name(), "error", seconds);
    HandleFailure(*framework, queued, "SchedulerError",
                  fmt::format("binding rejected: {}", status.Message()), {}, cycle);
    return;
  }
  cache_.FinishBinding(assumed->uid());
  queue_->Done(assumed->uid());
  if (metrics_) {
    metrics_->ObserveAttempt(framework->scheduler_name(), "scheduled", seconds);
    const double sli =
        std::chrono::duration<double>(RealClock().Now() - queued->initial_attempt).count();
    metrics_->ObserveScheduled(queued->attempts, sli);
  }
  const Pod& pod = *assumed->pod;
  recorder_->Event(PodReference(pod), "Normal", "Scheduled",
                   fmt::format("Successfully assigned {}/{} to {}", pod.metadata.namespace_,
                               pod.metadata.name, node));
  framework->RunPostBind(*state, *assumed, node);
}

void Scheduler::HandleFailure(const Framework& framework, const QueuedPodInfoPtr& queued,
                              const std::string& reason, const std::string& message,
                              std::set<std::string> unschedulable_plugins, int64_t cycle,
                              const std::string& nominated_node) {
  (void)framework;
  const Pod& pod = queued->pod();
  KLOG_V(2, "unable to schedule pod {}/{}: {}", pod.metadata.namespace_, pod.metadata.name,
         message);
  // Requeue only pods that still exist unbound (the informer's view).
  client::informers::Lister<Pod> lister(informers_->InformerFor<Pod>());
  auto current = lister.Get(pod.metadata.namespace_, pod.metadata.name);
  if (current && current->metadata.uid == pod.metadata.uid && !Assigned(*current)) {
    queued->unschedulable_plugins = std::move(unschedulable_plugins);
    queue_->AddUnschedulableIfNotPresent(queued, cycle);
  } else {
    queue_->Done(queued->uid());
  }
  recorder_->Event(PodReference(pod), "Warning", "FailedScheduling", message);
  UpdatePodScheduledCondition(current ? *current : pod,
                              reason == "SchedulerError" ? reason : "Unschedulable", message,
                              nominated_node);
}

void Scheduler::UpdatePodScheduledCondition(const Pod& pod, const std::string& reason,
                                            const std::string& message,
                                            const std::string& nominated_node) {
  for (const auto& condition : pod.status.conditions) {
    if (condition.type == "PodScheduled" && condition.status == "False" &&
        condition.reason == reason && condition.message == message && nominated_node.empty()) {
      return;
    }
  }
  boost::json::object condition = {{"type", "PodScheduled"},   {"status", "False"},
                                   {"reason", reason},         {"message", message},
                                   {"lastProbeTime", nullptr}, {"lastTransitionTime", TimeNow()}};
  boost::json::object status{{"conditions", boost::json::array{condition}}};
  if (!nominated_node.empty()) status["nominatedNodeName"] = nominated_node;
  boost::json::object patch = {{"status", std::move(status)}};
  client::DynamicResource pods(client_, client::KindFor<Pod>(), pod.metadata.namespace_);
  SubmitBinding([pods, name = pod.metadata.name, body = boost::json::serialize(patch)] {
    auto result = pods.Patch(name, client::PatchType::kStrategicMerge, body, {}, "status");
    if (!result.ok() && !client::IsNotFound(result.error())) {
      KLOG_WARNING("updating the PodScheduled condition of {}: {}", name, result.error().message());
    }
  });
}

void Scheduler::SubmitBinding(std::function<void()> work) {
  {
    std::lock_guard lock(binding_mutex_);
    binding_work_.push_back(std::move(work));
  }
  binding_ready_.notify_one();
}

void Scheduler::BindingLoop() {
  std::unique_lock lock(binding_mutex_);
  while (true) {
    binding_ready_.wait(lock, [&] { return stopping_ || !binding_work_.empty(); });
    if (binding_work_.empty()) return;  // stopping, nothing left
    auto work = std::move(binding_work_.front());
    binding_work_.pop_front();
    lock.unlock();
    work();
    lock.lock();
  }
}

}  // namespace kpp::scheduler
