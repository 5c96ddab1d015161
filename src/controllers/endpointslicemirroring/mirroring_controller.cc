#include "controllers/endpointslicemirroring/mirroring_controller.h"

#include "base/log.h"

namespace kpp::controllers {
namespace {

using client::informers::DeletedObject;
using client::informers::ObjectRef;

constexpr char kLastAppliedAnnotation[] = "kubectl.kubernetes.io/last-applied-configuration";

discovery::Endpoint MirroredEndpoint(const api::core::v1::EndpointAddress& address, bool ready) {
  discovery::Endpoint endpoint;
  endpoint.addresses = {address.ip};
  endpoint.conditions.ready = ready;
  if (!address.hostname.empty()) endpoint.hostname = address.hostname;
  if (address.node_name) endpoint.node_name = address.node_name;
  if (address.target_ref) endpoint.target_ref = address.target_ref;
  return endpoint;
}

bool IsIPv4(const std::string& ip) {
  return !ip.empty() && ip.find(':') == std::string::npos;
}

}  // namespace

std::map<std::string, PortGroup> MirroredPortGroups(const Endpoints& endpoints,
                                                    size_t max_per_subset) {
  std::map<std::string, PortGroup> groups;
  for (const auto& subset : endpoints.subsets) {
    std::vector<discovery::EndpointPort> ports;
    for (const auto& subset_port : subset.ports) {
      discovery::EndpointPort port;
      port.name = subset_port.name;
      port.protocol = subset_port.protocol.empty() ? "TCP" : subset_port.protocol;
      port.port = subset_port.port;
      port.app_protocol = subset_port.app_protocol;
      ports.push_back(std::move(port));
    }
    auto& group = groups[PortSetKey(ports)];
    if (group.ports.empty()) group.ports = ports;
    size_t taken = 0;
    for (const auto& [addresses, ready] :
         {std::pair{&subset.addresses, true}, std::pair{&subset.not_ready_addresses, false}}) {
      for (const auto& address : *addresses) {
        if (taken == max_per_subset) break;
        if (!IsIPv4(address.ip)) continue;
        group.endpoints.push_back(MirroredEndpoint(address, ready));
        ++taken;
      }
    }
  }
  std::erase_if(groups, [](const auto& entry) { return entry.second.endpoints.empty(); });
  return groups;
}

Status EndpointSliceMirroringSyncer::Sync(const std::string& key, const Endpoints* endpoints) {
  const auto [ns, name] = SplitKey(key);
  std::vector<std::shared_ptr<const EndpointSlice>> existing;
  const auto all_slices = slices_.List(ns);
  if (!tracker_.Fresh(key, all_slices)) {
    return InternalError("the cached endpoint slices of " + key + " are not up to date yet");
  }
  for (const auto& slice : all_slices) {
    const auto& labels = slice->metadata.labels;
    auto service_name = labels.find(kServiceNameLabel);
    auto managed_by = labels.find(kManagedByLabel);
    if (service_name == labels.end() || service_name->second != name) continue;
    if (managed_by == labels.end() || managed_by->second != kMirroringControllerName) continue;
    existing.push_back(slice);
  }
  auto service = services_.Get(ns, name);
  const bool mirror = endpoints != nullptr && service != nullptr &&
                      service->spec.selector.empty() &&
                      endpoints->metadata.labels.count(kSkipMirrorLabel) == 0;
  SliceOwner owner;
  owner.ns = ns;
  owner.name = name;
  owner.placeholder = false;
  std::map<std::string, PortGroup> desired;
  if (mirror) {
    owner.labels = endpoints->metadata.labels;
    owner.labels[kServiceNameLabel] = name;
    owner.labels[kManagedByLabel] = kMirroringControllerName;
    owner.annotations = endpoints->metadata.annotations;
    owner.annotations.erase(kLastAppliedAnnotation);
    owner.annotations.erase(kLastChangeTriggerTimeAnnotation);
    owner.owner_ref = ControllerRef("v1", "Endpoints", endpoints->metadata);
    desired = MirroredPortGroups(*endpoints, max_endpoints_per_subset_);
  }
  auto changes = ReconcileSlices(owner, desired, existing, max_endpoints_per_subset_);
  if (changes.empty()) return Ok();
  return ApplySliceChanges(client_, ns, changes, &tracker_, key);
}

// --- the controller around the syncer ---

EndpointSliceMirroringController::EndpointSliceMirroringController(
    client::informers::SharedInformerFactory& factory, EndpointsClient& client,
    EndpointSliceMirroringControllerOptions options)
    : services_informer_(factory.InformerFor<Service>()),
      endpoints_informer_(factory.InformerFor<Endpoints>()),
      slices_informer_(factory.InformerFor<EndpointSlice>()),
      services_(services_informer_),
      slices_(slices_informer_),
      options_(options),
      syncer_(services_, slices_, client, options.max_endpoints_per_subset),
      workers_(queue_,
               SyncCached<Endpoints>(endpoints_informer_,
                                     [this](const std::string& key, const Endpoints* object) {
                                       return syncer_.Sync(key, object);
                                     }),
               {.what = "mirroring endpoints"}) {
  auto enqueue = [this](const ObjectRef& object) { queue_.Add(KeyOf(object->metadata())); };
  for (auto* informer : {&services_informer_, &endpoints_informer_}) {
    informer->AddEventHandler(
        {.on_add = [enqueue](const ObjectRef& object, bool) { enqueue(object); },
         .on_update = [enqueue](const ObjectRef&, const ObjectRef& object) { enqueue(object); },
         .on_delete =
             [enqueue](const DeletedObject& deleted) {
               if (deleted.object) enqueue(deleted.object);
             }});
  }
  auto enqueue_owner = [this](const ObjectRef& object) {
    const auto& labels = object->metadata().labels;
    auto service_name = labels.find(kServiceNameLabel);
    auto managed_by = labels.find(kManagedByLabel);
    if (service_name == labels.end() || managed_by == labels.end() ||
        managed_by->second != kMirroringControllerName) {
      return;
    }
    queue_.Add(object->metadata().namespace_ + "/" + service_name->second);
  };
  slices_informer_.AddEventHandler(
      {.on_add = [enqueue_owner](const ObjectRef& object, bool) { enqueue_owner(object); },
       .on_update = [enqueue_owner](const ObjectRef&,
                                    const ObjectRef& object) { enqueue_owner(object); },
       .on_delete =
           [enqueue_owner](const DeletedObject& deleted) {
             if (deleted.object) enqueue_owner(deleted.object);
           }});
}

EndpointSliceMirroringController::~EndpointSliceMirroringController() {
  Stop();
}

void EndpointSliceMirroringController::Run() {
  workers_.Start(options_.workers);
}

void EndpointSliceMirroringController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
