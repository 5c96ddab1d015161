// Printers of apps (Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision) and batch
// (Job, CronJob).
#include <fmt/format.h>

#include <cctype>

#include "api/apps/v1/types.h"
#include "api/batch/v1/types.h"
#include "apiserver/printers/registry.h"

namespace kpp::apiserver::printers {
namespace {

namespace apps = api::apps::v1;
namespace batch = api::batch::v1;

constexpr std::string_view kContainersDescription = "The names of the template's containers.";
constexpr std::string_view kImagesDescription = "The images of the template's containers.";
constexpr std::string_view kSelectorDescription = "The label selector of the pods it manages.";

Column WideContainers() {
  return {"Containers", "string", "", kContainersDescription, 1};
}
Column WideImages() {
  return {"Images", "string", "", kImagesDescription, 1};
}
Column WideSelector() {
  return {"Selector", "string", "", kSelectorDescription, 1};
}

// The Containers and Images cells of a pod template.
void AddContainerCells(const api::core::v1::PodTemplateSpec& pod_template, Row& row) {
  auto [names, images] = ContainerCells(pod_template.spec.containers);
  row.cells.push_back(Cell(std::move(names)));
  row.cells.push_back(Cell(std::move(images)));
}

const api::meta::v1::LabelSelector* Pointer(
    const std::optional<api::meta::v1::LabelSelector>& selector) {
  return selector ? &*selector : nullptr;
}

void PrintDeployment(const apps::Deployment& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(
      Cell(fmt::format("{}/{}", object.status.ready_replicas, object.spec.replicas.value_or(1))));
  row.cells.push_back(IntCell(object.status.updated_replicas));
  row.cells.push_back(IntCell(object.status.available_replicas));
  row.cells.push_back(Cell(Age(object.metadata, context)));
  AddContainerCells(object.spec.template_, row);
  row.cells.push_back(Cell(SelectorString(Pointer(object.spec.selector))));
}

void PrintReplicaSet(const apps::ReplicaSet& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(IntCell(object.spec.replicas.value_or(1)));
  row.cells.push_back(IntCell(object.status.replicas));
  row.cells.push_back(IntCell(object.status.ready_replicas));
  row.cells.push_back(Cell(Age(object.metadata, context)));
  AddContainerCells(object.spec.template_, row);
  row.cells.push_back(Cell(FormatLabelSelector(Pointer(object.spec.selector))));
}

void PrintStatefulSet(const apps::StatefulSet& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(
      Cell(fmt::format("{}/{}", object.status.ready_replicas, object.spec.replicas.value_or(1))));
  row.cells.push_back(Cell(Age(object.metadata, context)));
  AddContainerCells(object.spec.template_, row);
}

void PrintDaemonSet(const apps::DaemonSet& object, const PrintContext& context, Row& row) {
  const auto& status = object.status;
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(IntCell(status.desired_number_scheduled));
  row.cells.push_back(IntCell(status.current_number_scheduled));
  row.cells.push_back(IntCell(status.number_ready));
  row.cells.push_back(IntCell(status.updated_number_scheduled));
  row.cells.push_back(IntCell(status.number_available));
  row.cells.push_back(Cell(FormatLabels(object.spec.template_.spec.node_selector)));
  row.cells.push_back(Cell(Age(object.metadata, context)));
  AddContainerCells(object.spec.template_, row);
  row.cells.push_back(Cell(FormatLabelSelector(Pointer(object.spec.selector))));
}

// "daemonset.apps/name": the controlling owner, kind lower-cased and qualified by its group.
std::string ControllerName(const api::meta::v1::ObjectMeta& metadata) {
  for (const auto& owner : metadata.owner_references) {
    if (!owner.controller.value_or(false)) continue;
    const auto slash = owner.api_version.find('/');
    const std::string group =
        slash == std::string::npos ? std::string() : owner.api_version.substr(0, slash);
    if (owner.kind.empty() && group.empty()) return owner.name;
    std::string kind = group.empty() ? owner.kind : owner.kind + "." + group;
    for (char& c : kind)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return kind + "/" + owner.name;
  }
  return "<none>";
}

void PrintControllerRevision(const apps::ControllerRevision& object, const PrintContext& context,
                             Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(ControllerName(object.metadata)));
  row.cells.push_back(IntCell(object.revision));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

// The status of the first condition of `type`, as upstream reads it.
bool HasJobCondition(const batch::JobStatus& status, std::string_view type) {
  for (const auto& condition : status.conditions) {
    if (condition.type == type) return condition.status == "True";
  }
  return false;
}

void PrintJob(const batch::Job& job, const PrintContext& context, Row& row) {
  std::string completions;
  if (job.spec.completions) {
    completions = fmt::format("{}/{}", job.status.succeeded, *job.spec.completions);
  } else if (job.spec.parallelism.value_or(0) > 1) {
    completions = fmt::format("{}/1 of {}", job.status.succeeded, *job.spec.parallelism);
  } else {
    completions = fmt::format("{}/1", job.status.succeeded);
  }
  std::string duration;
  if (job.status.start_time && !job.status.start_time->IsZero()) {
    const auto start = std::chrono::system_clock::time_point(
        std::chrono::seconds(job.status.start_time->unix_seconds));
    if (!job.status.completion_time || job.status.completion_time->IsZero()) {
      duration = HumanDuration(context.now - start);
    } else {
      duration = HumanDuration(std::chrono::seconds(job.status.completion_time->unix_seconds -
                                                    job.status.start_time->unix_seconds));
    }
  }
  std::string status = "Running";
  if (HasJobCondition(job.status, "Complete")) {
    status = "Complete";
  } else if (HasJobCondition(job.status, "Failed")) {
    status = "Failed";
  } else if (job.metadata.deletion_timestamp) {
    status = "Terminating";
  } else if (HasJobCondition(job.status, "Suspended")) {
    status = "Suspended";
  } else if (HasJobCondition(job.status, "FailureTarget")) {
    status = "FailureTarget";
  }
  row.cells.push_back(Cell(job.metadata.name));
  row.cells.push_back(Cell(status));
  row.cells.push_back(Cell(completions));
  row.cells.push_back(Cell(duration));
  row.cells.push_back(Cell(Age(job.metadata, context)));
  AddContainerCells(job.spec.template_, row);
  row.cells.push_back(Cell(FormatLabelSelector(Pointer(job.spec.selector))));
}

void PrintCronJob(const batch::CronJob& cron_job, const PrintContext& context, Row& row) {
  const auto& spec = cron_job.spec;
  std::string last_schedule = "<none>";
  if (cron_job.status.last_schedule_time) {
    last_schedule = TimestampSince(*cron_job.status.last_schedule_time, context);
  }
  row.cells.push_back(Cell(cron_job.metadata.name));
  row.cells.push_back(Cell(spec.schedule));
  row.cells.push_back(Cell(spec.time_zone.value_or("<none>")));
  row.cells.push_back(Cell(BoolPointerText(spec.suspend)));
  row.cells.push_back(IntCell(static_cast<int64_t>(cron_job.status.active.size())));
  row.cells.push_back(Cell(last_schedule));
  row.cells.push_back(Cell(Age(cron_job.metadata, context)));
  AddContainerCells(spec.job_template.spec.template_, row);
  row.cells.push_back(Cell(FormatLabelSelector(Pointer(spec.job_template.spec.selector))));
}

}  // namespace

void AddAppsPrinters(PrinterMap& printers) {
  printers[{"apps", "Deployment"}] = {
      {NameColumn(),
       {"Ready", "string", "", "Ready pods out of the desired number.", 0},
       {"Up-to-date", "string", "", "Pods that run the current template.", 0},
       {"Available", "string", "", "Pods available to serve.", 0},
       AgeColumn(),
       WideContainers(),
       WideImages(),
       WideSelector()},
      &PrintAs<apps::Deployment, PrintDeployment>};
  printers[{"apps", "ReplicaSet"}] = {{NameColumn(),
                                       {"Desired", "integer", "", "How many pods are wanted.", 0},
                                       {"Current", "integer", "", "How many pods exist.", 0},
                                       {"Ready", "integer", "", "How many pods are ready.", 0},
                                       AgeColumn(),
                                       WideContainers(),
                                       WideImages(),
                                       WideSelector()},
                                      &PrintAs<apps::ReplicaSet, PrintReplicaSet>};
  printers[{"apps", "StatefulSet"}] = {
      {NameColumn(),
       {"Ready", "string", "", "Ready pods out of the desired number.", 0},
       AgeColumn(),
       WideContainers(),
       WideImages()},
      &PrintAs<apps::StatefulSet, PrintStatefulSet>};
  printers[{"apps", "DaemonSet"}] = {
      {NameColumn(),
       {"Desired", "integer", "", "Nodes that should run the daemon pod.", 0},
       {"Current", "integer", "", "Nodes that run at least one daemon pod.", 0},
       {"Ready", "integer", "", "Nodes whose daemon pod is ready.", 0},
       {"Up-to-date", "integer", "", "Nodes that run the current template.", 0},
       {"Available", "integer", "", "Nodes whose daemon pod is available.", 0},
       {"Node Selector", "string", "", "The labels a node needs to run the pod.", 0},
       AgeColumn(),
       WideContainers(),
       WideImages(),
       WideSelector()},
      &PrintAs<apps::DaemonSet, PrintDaemonSet>};
  printers[{"apps", "ControllerRevision"}] = {
      {NameColumn(),
       {"Controller", "string", "", "The object that owns the revision.", 0},
       {"Revision", "string", "", "The revision number.", 0},
       AgeColumn()},
      &PrintAs<apps::ControllerRevision, PrintControllerRevision>};
}

void AddBatchPrinters(PrinterMap& printers) {
  printers[{"batch", "Job"}] = {
      {NameColumn(),
       {"Status", "string", "", "Status of the job.", 0},
       {"Completions", "string", "", "Succeeded pods out of the completions wanted.", 0},
       {"Duration", "string", "", "How long the job ran or has been running.", 0},
       AgeColumn(),
       WideContainers(),
       WideImages(),
       WideSelector()},
      &PrintAs<batch::Job, PrintJob>};
  printers[{"batch", "CronJob"}] = {
      {NameColumn(),
       {"Schedule", "string", "", "The cron schedule.", 0},
       {"Timezone", "string", "", "The time zone of the schedule.", 0},
       {"Suspend", "boolean", "", "Whether new runs are held back.", 0},
       {"Active", "integer", "", "How many jobs run now.", 0},
       {"Last Schedule", "string", "", "When a job was last scheduled.", 0},
       AgeColumn(),
       WideContainers(),
       WideImages(),
       WideSelector()},
      &PrintAs<batch::CronJob, PrintCronJob>};
}

}  // namespace kpp::apiserver::printers
