// Printers of the smaller groups: autoscaling (HorizontalPodAutoscaler), coordination (Lease),
// scheduling (PriorityClass), node (RuntimeClass), policy (PodDisruptionBudget), certificates
// (CertificateSigningRequest), admissionregistration (webhook configurations) and events.k8s.io
// (Event, printed as the core Event it is stored beside).
#include <fmt/format.h>

#include "api/admissionregistration.k8s.io/v1/types.h"
#include "api/autoscaling/v2/types.h"
#include "api/certificates.k8s.io/v1/types.h"
#include "api/coordination.k8s.io/v1/types.h"
#include "api/events.k8s.io/v1/types.h"
#include "api/node.k8s.io/v1/types.h"
#include "api/policy/v1/types.h"
#include "api/scheduling.k8s.io/v1/types.h"
#include "apiserver/printers/registry.h"

namespace kpp::apiserver::printers {
namespace {

namespace autoscaling = api::autoscaling::v2;

// Go's (*Quantity).String(), which shows an absent quantity as "<nil>".
std::string Quantity(const std::optional<api::Quantity>& quantity) {
  return quantity ? QuantityText(*quantity) : "<nil>";
}

std::string Percent(int32_t value) {
  return fmt::format("{}%", value);
}

// One target per metric, "<current>/<target>", at most two then " + N more...".
std::string HpaMetrics(const std::vector<autoscaling::MetricSpec>& specs,
                       const std::vector<autoscaling::MetricStatus>& statuses) {
  if (specs.empty()) return "<none>";
  std::vector<std::string> list;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    const autoscaling::MetricStatus* status = i < statuses.size() ? &statuses[i] : nullptr;
    std::string current = "<unknown>";
    if (spec.type == "External" && spec.external) {
      const auto& target = spec.external->target;
      if (target.average_value) {
        if (status && status->external && status->external->current.average_value) {
          current = QuantityText(*status->external->current.average_value);
        }
        list.push_back(fmt::format("{}/{} (avg)", current, QuantityText(*target.average_value)));
      } else {
        if (status && status->external) current = Quantity(status->external->current.value);
        list.push_back(fmt::format("{}/{}", current, Quantity(target.value)));
      }
    } else if (spec.type == "Pods" && spec.pods) {
      if (status && status->pods) current = Quantity(status->pods->current.average_value);
      list.push_back(fmt::format("{}/{}", current, Quantity(spec.pods->target.average_value)));
    } else if (spec.type == "Object" && spec.object) {
      const auto& target = spec.object->target;
      if (target.average_value) {
        if (status && status->object && status->object->current.average_value) {
          current = QuantityText(*status->object->current.average_value);
        }
        list.push_back(fmt::format("{}/{} (avg)", current, QuantityText(*target.average_value)));
      } else {
        if (status && status->object) current = Quantity(status->object->current.value);
        list.push_back(fmt::format("{}/{}", current, Quantity(target.value)));
      }
    } else if ((spec.type == "Resource" && spec.resource) ||
               (spec.type == "ContainerResource" && spec.container_resource)) {
      const bool container = spec.type == "ContainerResource";
      const std::string& name = container ? spec.container_resource->name : spec.resource->name;
      const auto& target = container ? spec.container_resource->target : spec.resource->target;
      const autoscaling::MetricValueStatus* value = nullptr;
      if (status && container && status->container_resource) {
        value = &status->container_resource->current;
      } else if (status && !container && status->resource) {
        value = &status->resource->current;
      }
      if (target.average_value) {
        if (value) current = Quantity(value->average_value);
        list.push_back(
            fmt::format("{}: {}/{}", name, current, QuantityText(*target.average_value)));
      } else {
        if (value && value->average_utilization) current = Percent(*value->average_utilization);
        const std::string wanted =
            target.average_utilization ? Percent(*target.average_utilization) : "<auto>";
        list.push_back(fmt::format("{}: {}/{}", name, current, wanted));
      }
    } else {
      list.push_back("<unknown type>");
    }
  }
  constexpr size_t kMax = 2;
  std::string text;
  for (size_t i = 0; i < list.size() && i < kMax; ++i) {
    if (i > 0) text += ", ";
    text += list[i];
  }
  if (list.size() > kMax) text += fmt::format(" + {} more...", list.size() - kMax);
  return text;
}

void PrintHpa(const autoscaling::HorizontalPodAutoscaler& hpa, const PrintContext& context,
              Row& row) {
  static const std::vector<autoscaling::MetricStatus> kNoStatuses;
  const auto& statuses = hpa.status.current_metrics ? *hpa.status.current_metrics : kNoStatuses;
  row.cells.push_back(Cell(hpa.metadata.name));
  row.cells.push_back(Cell(hpa.spec.scale_target_ref.kind + "/" + hpa.spec.scale_target_ref.name));
  row.cells.push_back(Cell(HpaMetrics(hpa.spec.metrics, statuses)));
  row.cells.push_back(
      Cell(hpa.spec.min_replicas ? std::to_string(*hpa.spec.min_replicas) : "<unset>"));
  row.cells.push_back(IntCell(hpa.spec.max_replicas));
  row.cells.push_back(IntCell(hpa.status.current_replicas));
  row.cells.push_back(Cell(Age(hpa.metadata, context)));
}

void PrintLease(const api::coordination_k8s_io::v1::Lease& lease, const PrintContext& context,
                Row& row) {
  row.cells.push_back(Cell(lease.metadata.name));
  row.cells.push_back(Cell(lease.spec.holder_identity.value_or("")));
  row.cells.push_back(Cell(Age(lease.metadata, context)));
}

void PrintPriorityClass(const api::scheduling_k8s_io::v1::PriorityClass& object,
                        const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(IntCell(object.value));
  row.cells.push_back(BoolCell(object.global_default));
  row.cells.push_back(Cell(Age(object.metadata, context)));
  row.cells.push_back(Cell(object.preemption_policy.value_or("")));
}

void PrintRuntimeClass(const api::node_k8s_io::v1::RuntimeClass& object,
                       const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(object.handler));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintPodDisruptionBudget(const api::policy::v1::PodDisruptionBudget& pdb,
                              const PrintContext& context, Row& row) {
  const auto text = [](const std::optional<api::IntOrString>& value) {
    return value ? IntOrStringText(*value) : std::string("N/A");
  };
  row.cells.push_back(Cell(pdb.metadata.name));
  row.cells.push_back(Cell(text(pdb.spec.min_available)));
  row.cells.push_back(Cell(text(pdb.spec.max_unavailable)));
  row.cells.push_back(IntCell(pdb.status.disruptions_allowed));
  row.cells.push_back(Cell(Age(pdb.metadata, context)));
}

void PrintCertificateSigningRequest(
    const api::certificates_k8s_io::v1::CertificateSigningRequest& csr, const PrintContext& context,
    Row& row) {
  bool approved = false;
  bool denied = false;
  bool failed = false;
  for (const auto& condition : csr.status.conditions) {
    if (condition.type == "Approved") approved = true;
    if (condition.type == "Denied") denied = true;
    if (condition.type == "Failed") failed = true;
  }
  std::string status = denied ? "Denied" : approved ? "Approved" : "Pending";
  if (failed) status += ",Failed";
  if (!csr.status.certificate.empty()) status += ",Issued";
  std::string requested_duration = "<none>";
  if (csr.spec.expiration_seconds) {
    requested_duration = HumanDuration(std::chrono::seconds(*csr.spec.expiration_seconds));
  }
  row.cells.push_back(Cell(csr.metadata.name));
  row.cells.push_back(Cell(Age(csr.metadata, context)));
  row.cells.push_back(Cell(OrElse(csr.spec.signer_name, "<none>")));
  row.cells.push_back(Cell(csr.spec.username));
  row.cells.push_back(Cell(requested_duration));
  row.cells.push_back(Cell(status));
}

template <typename Configuration>
void PrintWebhookConfiguration(const Configuration& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(IntCell(static_cast<int64_t>(object.webhooks.size())));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

// An events.k8s.io Event as the core Event upstream converts it to.
void PrintEventsEvent(const api::events_k8s_io::v1::Event& event, const PrintContext& context,
                      Row& row) {
  api::core::v1::Event core;
  core.metadata = event.metadata;
  core.involved_object = event.regarding;
  core.reason = event.reason;
  core.message = event.note;
  core.source = event.deprecated_source;
  core.first_timestamp = event.deprecated_first_timestamp;
  core.last_timestamp = event.deprecated_last_timestamp;
  core.count = event.deprecated_count;
  core.type = event.type;
  core.event_time = event.event_time;
  if (event.series) {
    core.series = api::core::v1::EventSeries{event.series->count, event.series->last_observed_time};
  }
  core.reporting_component = event.reporting_controller;
  core.reporting_instance = event.reporting_instance;
  PrintEvent(core, context, row);
}

Column WebhooksColumn() {
  return {"Webhooks", "integer", "", "How many webhooks the configuration registers.", 0};
}

}  // namespace

void AddClusterPrinters(PrinterMap& printers) {
  printers[{"autoscaling", "HorizontalPodAutoscaler"}] = {
      {NameColumn(),
       {"Reference", "string", "", "The object being scaled.", 0},
       {"Targets", "string", "", "Current and target values of each metric.", 0},
       {"MinPods", "string", "", "The fewest replicas it scales to.", 0},
       {"MaxPods", "string", "", "The most replicas it scales to.", 0},
       {"Replicas", "string", "", "The replicas it last saw.", 0},
       AgeColumn()},
      &PrintAs<autoscaling::HorizontalPodAutoscaler, PrintHpa>};
  printers[{"coordination.k8s.io", "Lease"}] = {
      {NameColumn(), {"Holder", "string", "", "Who holds the lease.", 0}, AgeColumn()},
      &PrintAs<api::coordination_k8s_io::v1::Lease, PrintLease>};
  printers[{"scheduling.k8s.io", "PriorityClass"}] = {
      {NameColumn(),
       {"Value", "integer", "", "The priority pods of this class get.", 0},
       {"Global-Default", "boolean", "", "Whether pods without a class get this one.", 0},
       AgeColumn(),
       {"PreemptionPolicy", "string", "", "Whether pods of the class preempt others.", 0}},
      &PrintAs<api::scheduling_k8s_io::v1::PriorityClass, PrintPriorityClass>};
  printers[{"node.k8s.io", "RuntimeClass"}] = {
      {NameColumn(),
       {"Handler", "string", "", "The runtime handler the class selects.", 0},
       AgeColumn()},
      &PrintAs<api::node_k8s_io::v1::RuntimeClass, PrintRuntimeClass>};
  printers[{"policy", "PodDisruptionBudget"}] = {
      {NameColumn(),
       {"Min Available", "string", "", "The fewest pods that must stay available.", 0},
       {"Max Unavailable", "string", "", "The most pods that may be unavailable.", 0},
       {"Allowed Disruptions", "integer", "", "How many pods may be disrupted now.", 0},
       AgeColumn()},
      &PrintAs<api::policy::v1::PodDisruptionBudget, PrintPodDisruptionBudget>};
  printers[{"certificates.k8s.io", "CertificateSigningRequest"}] = {
      {NameColumn(),
       AgeColumn(),
       {"SignerName", "string", "", "The signer asked to sign.", 0},
       {"Requestor", "string", "", "Who asked for the certificate.", 0},
       {"RequestedDuration", "string", "", "How long the certificate should be valid.", 0},
       {"Condition", "string", "", "Approved, Denied or Pending, and whether it was issued.", 0}},
      &PrintAs<api::certificates_k8s_io::v1::CertificateSigningRequest,
               PrintCertificateSigningRequest>};
  namespace admission = api::admissionregistration_k8s_io::v1;
  printers[{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"}] = {
      {NameColumn(), WebhooksColumn(), AgeColumn()},
      &PrintAs<admission::MutatingWebhookConfiguration,
               PrintWebhookConfiguration<admission::MutatingWebhookConfiguration>>};
  printers[{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"}] = {
      {NameColumn(), WebhooksColumn(), AgeColumn()},
      &PrintAs<admission::ValidatingWebhookConfiguration,
               PrintWebhookConfiguration<admission::ValidatingWebhookConfiguration>>};
  Printer events = EventPrinter();
  events.print = &PrintAs<api::events_k8s_io::v1::Event, PrintEventsEvent>;
  printers[{"events.k8s.io", "Event"}] = std::move(events);
}

}  // namespace kpp::apiserver::printers
