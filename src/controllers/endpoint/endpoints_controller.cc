#include "controllers/endpoint/endpoints_controller.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

using api::core::v1::EndpointAddress;
using api::core::v1::EndpointPort;
using api::core::v1::EndpointSubset;
using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

using PortKey = std::tuple<std::string, int32_t, std::string, std::optional<std::string>>;
using AddressKey = std::pair<std::string, std::string>;  // IP, target uid

PortKey KeyOfPort(const EndpointPort& port) {
  return {port.name, port.port, port.protocol, port.app_protocol};
}

AddressKey KeyOfAddress(const EndpointAddress& address) {
  return {address.ip, address.target_ref ? address.target_ref->uid : ""};
}

EndpointAddress AddressOf(const Pod& pod, const std::string& ip, const Service& service) {
  EndpointAddress address;
  address.ip = ip;
  if (!pod.spec.node_name.empty()) address.node_name = pod.spec.node_name;
  api::core::v1::ObjectReference ref;
  ref.kind = "Pod";
  ref.namespace_ = pod.metadata.namespace_;
  ref.name = pod.metadata.name;
  ref.uid = pod.metadata.uid;
  address.target_ref = ref;
  if (ShouldSetHostname(pod, service)) address.hostname = pod.spec.hostname;
  return address;
}

void AddAddress(std::vector<EndpointSubset>& subsets, const EndpointAddress& address,
                std::vector<EndpointPort> ports, bool ready) {
  EndpointSubset subset;
  (ready ? subset.addresses : subset.not_ready_addresses).push_back(address);
  subset.ports = std::move(ports);
  subsets.push_back(std::move(subset));
}

size_t CountAddresses(const std::vector<EndpointSubset>& subsets) {
  size_t count = 0;
  for (const auto& subset : subsets)
    count += subset.addresses.size() + subset.not_ready_addresses.size();
  return count;
}

// Keeps the first kMaxEndpointsPerObject addresses, ready ones first.
void Truncate(std::vector<EndpointSubset>& subsets) {
  size_t room = kMaxEndpointsPerObject;
  for (auto& subset : subsets) {
    if (subset.addresses.size() > room) subset.addresses.resize(room);
    room -= subset.addresses.size();
  }
  for (auto& subset : subsets) {
    if (subset.not_ready_addresses.size() > room) subset.not_ready_addresses.resize(room);
    room -= subset.not_ready_addresses.size();
  }
  std::erase_if(subsets, [](const EndpointSubset& subset) {
    return subset.addresses.empty() && subset.not_ready_addresses.empty();
  });
}

}  // namespace

std::vector<EndpointSubset> RepackSubsets(const std::vector<EndpointSubset>& subsets) {
  // Port -1 stands for "no ports" so that addresses without ports are kept.
  const EndpointPort no_ports{"", -1, "", std::nullopt};
  std::map<AddressKey, EndpointAddress> addresses;
  std::map<PortKey, EndpointPort> ports;
  std::map<PortKey, std::map<AddressKey, bool>> ready_by_port;
  auto map_address = [&](const EndpointAddress& address, const EndpointPort& port, bool ready) {
    const auto address_key = KeyOfAddress(address);
    addresses.emplace(address_key, address);
    const auto port_key = KeyOfPort(port);
    ports.emplace(port_key, port);
    auto& ready_of = ready_by_port[port_key];
    auto found = ready_of.find(address_key);
    // Not ready on any listing wins.
    if (found == ready_of.end() || found->second) ready_of[address_key] = ready;
  };
  for (const auto& subset : subsets) {
    std::vector<EndpointPort> subset_ports = subset.ports;
    if (subset_ports.empty()) subset_ports.push_back(no_ports);
    for (const auto& port : subset_ports) {
      for (const auto& address : subset.addresses)
        map_address(address, port, true);
      for (const auto& address : subset.not_ready_addresses)
        map_address(address, port, false);
    }
  }
  // Ports with the same addresses (and readiness) share a subset.
  std::map<std::map<AddressKey, bool>, std::vector<PortKey>> ports_by_addresses;
  for (const auto& [port_key, ready_of] : ready_by_port)
    ports_by_addresses[ready_of].push_back(port_key);
  std::vector<EndpointSubset> out;
  for (const auto& [ready_of, port_keys] : ports_by_addresses) {
    EndpointSubset subset;
    for (const auto& [address_key, ready] : ready_of) {
      (ready ? subset.addresses : subset.not_ready_addresses).push_back(addresses[address_key]);
    }
    for (const auto& port_key : port_keys) {
      if (std::get<1>(port_key) != -1) subset.ports.push_back(ports[port_key]);
    }
    out.push_back(std::move(subset));
  }
  auto first_address = [](const EndpointSubset& subset) {
    return !subset.addresses.empty() ? KeyOfAddress(subset.addresses.front())
                                     : KeyOfAddress(subset.not_ready_addresses.front());
  };
  std::sort(out.begin(), out.end(), [&](const EndpointSubset& a, const EndpointSubset& b) {
    return first_address(a) < first_address(b);
  });
  return out;
}

Endpoints DesiredEndpoints(const Service& service,
                           const std::vector<std::shared_ptr<const Pod>>& pods) {
  Endpoints endpoints;
  endpoints.api_version = "v1";
  endpoints.kind = "Endpoints";
  endpoints.metadata.name = service.metadata.name;
  endpoints.metadata.namespace_ = service.metadata.namespace_;
  endpoints.metadata.labels = service.metadata.labels;
  if (IsHeadless(service)) {
    endpoints.metadata.labels[kHeadlessLabel] = "";
  } else {
    endpoints.metadata.labels.erase(kHeadlessLabel);
  }
  const auto selector = labels::Selector::FromSet(service.spec.selector);
  const bool tolerate_unready = service.spec.publish_not_ready_addresses;
  api::Time trigger = service.metadata.creation_timestamp;
  std::vector<EndpointSubset> subsets;
  for (const auto& pod : pods) {
    if (!selector.Matches(pod->metadata.labels)) continue;
    if (!ShouldPodBeInEndpoints(*pod, tolerate_unready)) continue;
    const std::string ip = PodIPv4(*pod);
    if (ip.empty()) continue;
    trigger = std::max(trigger, PodTriggerTime(*pod));
    const auto address = AddressOf(*pod, ip, service);
    const bool ready = tolerate_unready || IsPodReady(*pod);
    if (service.spec.ports.empty()) {
      if (IsHeadless(service)) AddAddress(subsets, address, {}, ready);
      continue;
    }
    for (const auto& service_port : service.spec.ports) {
      auto port_number = FindPort(*pod, service_port);
      if (!port_number.ok()) {
        KLOG_V(4, "service {}/{} port {}: {}", service.metadata.namespace_, service.metadata.name,
               service_port.name, port_number.error().message());
        continue;
      }
      EndpointPort port{service_port.name, *port_number,
                        service_port.protocol.empty() ? "TCP" : service_port.protocol,
                        service_port.app_protocol};
      AddAddress(subsets, address, {port}, ready);
    }
  }
  endpoints.subsets = RepackSubsets(subsets);
  if (CountAddresses(endpoints.subsets) > kMaxEndpointsPerObject) {
    Truncate(endpoints.subsets);
    endpoints.metadata.annotations[kOverCapacityAnnotation] = "truncated";
  }
  if (!trigger.IsZero()) {
    endpoints.metadata.annotations[kLastChangeTriggerTimeAnnotation] = TriggerTimeString(trigger);
  }
  return endpoints;
}

Status EndpointsSyncer::Sync(const std::string& key, const Service* service) {
  const auto [ns, name] = SplitKey(key);
  if (service == nullptr) {
    auto deleted = client_.DeleteEndpoints(ns, name);
    if (!deleted.ok() && !client::IsNotFound(deleted.error())) return deleted;
    return Ok();
  }
  // No selector: the endpoints are someone else's (upstream tells a nil selector from an empty
  // one; ours cannot, and an empty selector selecting every pod is never what a service means).
  if (service->spec.selector.empty()) return Ok();
  if (service->metadata.deletion_timestamp) return Ok();
  auto desired = DesiredEndpoints(*service, pods_.List(ns));
  auto current = endpoints_.Get(ns, name);
  if (!current) {
    auto created = client_.CreateEndpoints(desired);
    if (!created.ok()) {
      // Created meanwhile: the informer will show it and the next sync updates it.
      return std::move(created).error();
    }
    return Ok();
  }
  auto over_capacity = [](const Endpoints& endpoints) {
    return endpoints.metadata.annotations.contains(kOverCapacityAnnotation);
  };
  if (current->subsets == desired.subsets && current->metadata.labels == desired.metadata.labels &&
      over_capacity(*current) == over_capacity(desired)) {
    return Ok();
  }
  Endpoints updated = *current;
  updated.subsets = desired.subsets;
  updated.metadata.labels = desired.metadata.labels;
  for (const char* annotation : {kOverCapacityAnnotation, kLastChangeTriggerTimeAnnotation}) {
    auto found = desired.metadata.annotations.find(annotation);
    if (found == desired.metadata.annotations.end()) {
      updated.metadata.annotations.erase(annotation);
    } else {
      updated.metadata.annotations[annotation] = found->second;
    }
  }
  auto written = client_.UpdateEndpoints(updated);
  if (!written.ok()) return std::move(written).error();
  return Ok();
}

// --- the controller around the syncer ---

EndpointsController::EndpointsController(client::informers::SharedInformerFactory& factory,
                                         EndpointsClient& client,
                                         EndpointsControllerOptions options)
    : services_informer_(factory.InformerFor<Service>()),
      pods_informer_(factory.InformerFor<Pod>()),
      endpoints_informer_(factory.InformerFor<Endpoints>()),
      pods_(pods_informer_),
      endpoints_(endpoints_informer_),
      options_(options),
      syncer_(pods_, endpoints_, client),
      workers_(queue_,
               SyncCached<Service>(services_informer_,
                                   [this](const std::string& key, const Service* object) {
                                     return syncer_.Sync(key, object);
                                   }),
               {.what = "syncing endpoints"}) {
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
  // Endpoints deleted by someone else come back.
  endpoints_informer_.AddEventHandler({.on_delete = [this](const DeletedObject& deleted) {
    if (deleted.object) queue_.Add(KeyOf(deleted.object->metadata()));
  }});
}

EndpointsController::~EndpointsController() {
  Stop();
}

void EndpointsController::EnqueueServicesOf(const Pod& pod) {
  client::informers::Lister<Service> services(services_informer_);
  for (const auto& service : services.ListNamespace(pod.metadata.namespace_)) {
    if (service->spec.selector.empty()) continue;
    if (labels::Selector::FromSet(service->spec.selector).Matches(pod.metadata.labels)) {
      queue_.Add(KeyOf(service->metadata));
    }
  }
}

void EndpointsController::Run() {
  workers_.Start(options_.workers);
}

void EndpointsController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
