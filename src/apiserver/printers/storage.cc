// Printers of storage.k8s.io: StorageClass, CSIDriver, CSINode, VolumeAttachment,
// CSIStorageCapacity.
#include "api/storage.k8s.io/v1/types.h"
#include "apiserver/printers/registry.h"

namespace kpp::apiserver::printers {
namespace {

namespace storage = api::storage_k8s_io::v1;

bool IsDefaultClass(const api::meta::v1::ObjectMeta& metadata) {
  for (const char* key : {"storageclass.kubernetes.io/is-default-class",
                          "storageclass.beta.kubernetes.io/is-default-class"}) {
    const auto found = metadata.annotations.find(key);
    if (found != metadata.annotations.end() && found->second == "true") return true;
  }
  return false;
}

void PrintStorageClass(const storage::StorageClass& object, const PrintContext& context, Row& row) {
  std::string name = object.metadata.name;
  if (IsDefaultClass(object.metadata)) name += " (default)";
  row.cells.push_back(Cell(name));
  row.cells.push_back(Cell(object.provisioner));
  row.cells.push_back(Cell(object.reclaim_policy.value_or("Delete")));
  row.cells.push_back(Cell(object.volume_binding_mode.value_or("Immediate")));
  row.cells.push_back(BoolCell(object.allow_volume_expansion.value_or(false)));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintCsiDriver(const storage::CSIDriver& object, const PrintContext& context, Row& row) {
  const auto& spec = object.spec;
  std::string modes;
  for (const auto& mode : spec.volume_lifecycle_modes) {
    if (!modes.empty()) modes += ',';
    modes += mode;
  }
  std::string token_requests = "<unset>";
  if (!spec.token_requests.empty()) {
    token_requests.clear();
    for (const auto& request : spec.token_requests) {
      if (!token_requests.empty()) token_requests += ',';
      token_requests += request.audience;
    }
  }
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(BoolCell(spec.attach_required.value_or(true)));
  row.cells.push_back(BoolCell(spec.pod_info_on_mount.value_or(false)));
  row.cells.push_back(BoolCell(spec.storage_capacity.value_or(false)));
  row.cells.push_back(Cell(token_requests));
  row.cells.push_back(BoolCell(spec.requires_republish.value_or(false)));
  row.cells.push_back(Cell(OrElse(modes, "<none>")));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintCsiNode(const storage::CSINode& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(IntCell(static_cast<int64_t>(object.spec.drivers.size())));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintVolumeAttachment(const storage::VolumeAttachment& object, const PrintContext& context,
                           Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(object.spec.attacher));
  row.cells.push_back(Cell(object.spec.source.persistent_volume_name.value_or("")));
  row.cells.push_back(Cell(object.spec.node_name));
  row.cells.push_back(BoolCell(object.status.attached));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintCsiStorageCapacity(const storage::CSIStorageCapacity& object, const PrintContext&,
                             Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(object.storage_class_name));
  row.cells.push_back(Cell(object.capacity ? QuantityText(*object.capacity) : "<unset>"));
}

}  // namespace

void AddStoragePrinters(PrinterMap& printers) {
  constexpr std::string_view kGroup = "storage.k8s.io";
  printers[{kGroup, "StorageClass"}] = {
      {NameColumn(),
       {"Provisioner", "string", "", "The volume plugin that provisions volumes.", 0},
       {"ReclaimPolicy", "string", "", "What happens to released volumes.", 0},
       {"VolumeBindingMode", "string", "", "When volumes are bound and provisioned.", 0},
       {"AllowVolumeExpansion", "string", "", "Whether volumes may grow.", 0},
       AgeColumn()},
      &PrintAs<storage::StorageClass, PrintStorageClass>};
  printers[{kGroup, "CSIDriver"}] = {
      {NameColumn(),
       {"AttachRequired", "boolean", "", "Whether volumes need an attach step.", 0},
       {"PodInfoOnMount", "boolean", "", "Whether the driver gets pod details on mount.", 0},
       {"StorageCapacity", "boolean", "", "Whether the scheduler considers capacity.", 0},
       {"TokenRequests", "string", "", "Audiences of the tokens the driver receives.", 0},
       {"RequiresRepublish", "boolean", "", "Whether volumes are mounted again periodically.", 0},
       {"Modes", "string", "", "The volume lifecycle modes supported.", 0},
       AgeColumn()},
      &PrintAs<storage::CSIDriver, PrintCsiDriver>};
  printers[{kGroup, "CSINode"}] = {
      {NameColumn(),
       {"Drivers", "integer", "", "How many CSI drivers the node has.", 0},
       AgeColumn()},
      &PrintAs<storage::CSINode, PrintCsiNode>};
  printers[{kGroup, "VolumeAttachment"}] = {
      {NameColumn(),
       {"Attacher", "string", "name", "The driver that attaches the volume.", 0},
       {"PV", "string", "", "The persistent volume attached.", 0},
       {"Node", "string", "", "The node it is attached to.", 0},
       {"Attached", "boolean", "", "Whether the attach succeeded.", 0},
       AgeColumn()},
      &PrintAs<storage::VolumeAttachment, PrintVolumeAttachment>};
  printers[{kGroup, "CSIStorageCapacity"}] = {
      {NameColumn(),
       {"StorageClassName", "string", "", "The storage class the capacity is for.", 0},
       {"Capacity", "string", "", "The capacity available.", 0}},
      &PrintAs<storage::CSIStorageCapacity, PrintCsiStorageCapacity>};
}

}  // namespace kpp::apiserver::printers
