#include "controllers/endpointslice/endpointslice_controller.h"

#include "base/log.h"

namespace kpp::controllers {
namespace {

using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

}  // namespace

discovery::Endpoint EndpointForPod(const Pod& pod, const std::string& ip, const Service& service) {
  discovery::Endpoint endpoint;
  endpoint.addresses = {ip};
  const bool serving = IsPodReady(pod);
  const bool terminating = pod.metadata.deletion_timestamp.has_value();
  // A terminating pod is never "ready" unless the service publishes not-ready addresses.
  endpoint.conditions.ready = service.spec.publish_not_ready_addresses || (serving && !terminating);
  endpoint.conditions.serving = serving;
  endpoint.conditions.terminating = terminating;
  api::core::v1::ObjectReference ref;
  ref.kind = "Pod";
  ref.namespace_ = pod.metadata.namespace_;
  ref.name = pod.metadata.name;
  ref.uid = pod.metadata.uid;
  endpoint.target_ref = ref;
  if (!pod.spec.node_name.empty()) endpoint.node_name = pod.spec.node_name;
  if (ShouldSetHostname(pod, service)) endpoint.hostname = pod.spec.hostname;
  return endpoint;
}

std::map<std::string, PortGroup> DesiredPortGroups(
    const Service& service, const std::vector<std::shared_ptr<const Pod>>& pods,
    api::Time* trigger_time) {
  std::map<std::string, PortGroup> groups;
  const auto selector = labels::Selector::FromSet(service.spec.selector);
  api::Time trigger = service.metadata.creation_timestamp;
  for (const auto& pod : pods) {
    if (!selector.Matches(pod->metadata.labels)) continue;
    if (!ShouldPodBeInEndpoints(*pod, /*include_terminating=*/true)) continue;
    const std::string ip = PodIPv4(*pod);
    if (ip.empty()) continue;
    trigger = std::max(trigger, PodTriggerTime(*pod));
    std::vector<discovery::EndpointPort> ports;
    for (const auto& service_port : service.spec.ports) {
      auto number = FindPort(*pod, service_port);
      if (!number.ok()) continue;
      discovery::EndpointPort port;
      port.name = service_port.name;
      port.protocol = service_port.protocol.empty() ? "TCP" : service_port.protocol;
      port.port = *number;
      port.app_protocol = service_port.app_protocol;
      ports.push_back(std::move(port));
    }
    auto& group = groups[PortSetKey(ports)];
    if (group.ports.empty()) group.ports = ports;
    group.endpoints.push_back(EndpointForPod(*pod, ip, service));
  }
  if (trigger_time != nullptr) *trigger_time = trigger;
  return groups;
}

std::map<std::string, std::string> SliceLabelsFor(const Service& service) {
  auto labels = service.metadata.labels;
  labels[kServiceNameLabel] = service.metadata.name;
  labels[kManagedByLabel] = kEndpointSliceControllerName;
  if (IsHeadless(service)) {
    labels[kHeadlessLabel] = "";
  } else {
    labels.erase(kHeadlessLabel);
  }
  return labels;
}

Status EndpointSliceSyncer::Sync(const std::string& key, const Service* service) {
  // A deleted service's slices go with it (owner reference, garbage collector); a service
  // without a selector gets none from us.
  if (service == nullptr || service->spec.selector.empty()) return Ok();
  if (service->metadata.deletion_timestamp) return Ok();
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
    if (managed_by == labels.end() || managed_by->second != kEndpointSliceControllerName) continue;
    if (slice->address_type != "IPv4") continue;
    if (slice->metadata.deletion_timestamp) continue;
    existing.push_back(slice);
  }
  api::Time trigger;
  auto desired = DesiredPortGroups(*service, pods_.List(ns), &trigger);
  SliceOwner owner;
  owner.ns = ns;
  owner.name = name;
  owner.labels = SliceLabelsFor(*service);
  if (!trigger.IsZero()) {
    owner.annotations[kLastChangeTriggerTimeAnnotation] = TriggerTimeString(trigger);
  }
  owner.owner_ref = ControllerRef("v1", "Service", service->metadata);
  auto changes = ReconcileSlices(owner, desired, existing, max_endpoints_per_slice_);
  if (changes.empty()) return Ok();
  return ApplySliceChanges(client_, ns, changes, &tracker_, key);
}

// --- the controller around the syncer ---

EndpointSliceController::EndpointSliceController(client::informers::SharedInformerFactory& factory,
                                                 EndpointsClient& client,
                                                 EndpointSliceControllerOptions options)
    : services_informer_(factory.InformerFor<Service>()),
      pods_informer_(factory.InformerFor<Pod>()),
      slices_informer_(factory.InformerFor<EndpointSlice>()),
      pods_(pods_informer_),
      slices_(slices_informer_),
      options_(options),
      syncer_(pods_, slices_, client, options.max_endpoints_per_slice),
      workers_(queue_,
               SyncCached<Service>(services_informer_,
                                   [this](const std::string& key, const Service* object) {
                                     return syncer_.Sync(key, object);
                                   }),
               {.what = "syncing endpoint slices of"}) {
  services_informer_.AddEventHandler(
      {.on_add = [this](const ObjectRef& object, bool) { queue_.Add(KeyOf(object->metadata())); },
       .on_update = [this](const ObjectRef&,
                           const ObjectRef& object) { queue_.Add(KeyOf(object->metadata())); },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (deleted.object) queue_.Add(KeyOf(deleted.object->metadata()));
           }});
  pods_informer_.AddEventHandler(
      {.on_add =
           [this](const ObjectRef& object, bool) {
             if (auto pod = As<Pod>(object)) EnqueueServicesOf(*pod);
           },
       .on_update =
           [this](const ObjectRef& old_object, const ObjectRef& new_object) {
             auto old_pod = As<Pod>(old_object);
             auto new_pod = As<Pod>(new_object);
             if (!old_pod || !new_pod) return;
             if (old_pod->metadata.resource_version == new_pod->metadata.resource_version) return;
             EnqueueServicesOf(*new_pod);
             if (old_pod->metadata.labels != new_pod->metadata.labels) EnqueueServicesOf(*old_pod);
           },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (auto pod = As<Pod>(deleted.object)) EnqueueServicesOf(*pod);
           }});
  // A slice of ours changed or deleted by someone else is put back.
  auto enqueue_owner = [this](const ObjectRef& object) {
    const auto& labels = object->metadata().labels;
    auto service_name = labels.find(kServiceNameLabel);
    auto managed_by = labels.find(kManagedByLabel);
    if (service_name == labels.end() || managed_by == labels.end() ||
        managed_by->second != kEndpointSliceControllerName) {
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

EndpointSliceController::~EndpointSliceController() {
  Stop();
}

void EndpointSliceController::EnqueueServicesOf(const Pod& pod) {
  client::informers::Lister<Service> services(services_informer_);
  for (const auto& service : services.ListNamespace(pod.metadata.namespace_)) {
    if (service->spec.selector.empty()) continue;
    if (labels::Selector::FromSet(service->spec.selector).Matches(pod.metadata.labels)) {
      queue_.Add(KeyOf(service->metadata));
    }
  }
}

void EndpointSliceController::Run() {
  workers_.Start(options_.workers);
}

void EndpointSliceController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
