// What the EndpointSlice and EndpointSlice mirroring controllers share (upstream's
// endpointslice reconciler, simplified): given the endpoints one owner should publish, grouped
// by the port set they serve, and the slices it has, the slices to create, update and delete.
// Endpoints stay in the slice they are in when they can (fewer writes, stable names); new ones
// fill slices with room before new slices are made; a slice left empty goes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controllers/endpoint/endpoints_client.h"

namespace kpp::controllers {

namespace discovery = api::discovery_k8s_io::v1;

inline constexpr char kServiceNameLabel[] = "kubernetes.io/service-name";
inline constexpr char kManagedByLabel[] = "endpointslice.kubernetes.io/managed-by";
inline constexpr char kEndpointSliceControllerName[] = "endpointslice-controller.k8s.io";
inline constexpr char kMirroringControllerName[] = "endpointslicemirroring-controller.k8s.io";

struct PortGroup {
  std::vector<discovery::EndpointPort> ports;
  std::vector<discovery::Endpoint> endpoints;
};

// A key naming a port set whatever the order of its ports.
std::string PortSetKey(const std::vector<discovery::EndpointPort>& ports);

// Whose slices these are and what every one of them carries.
struct SliceOwner {
  std::string ns;
  std::string name;  // generateName "<name>-"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;  // set on the slices written
  api::meta::v1::OwnerReference owner_ref;
  // With no endpoints at all, keep one empty slice (the EndpointSlice controller does; the
  // mirroring one does not).
  bool placeholder = true;
};

struct SliceChanges {
  std::vector<EndpointSlice> to_create;
  std::vector<EndpointSlice> to_update;
  std::vector<std::string> to_delete;  // names
  bool empty() const { return to_create.empty() && to_update.empty() && to_delete.empty(); }
};

// `desired` by PortSetKey; `existing` are the owner's slices.
SliceChanges ReconcileSlices(const SliceOwner& owner,
                             const std::map<std::string, PortGroup>& desired,
                             const std::vector<std::shared_ptr<const EndpointSlice>>& existing,
                             size_t max_endpoints_per_slice);

// The slice writes of each owner not yet seen in the informer cache (upstream's
// endpointSliceTracker): a sync on a stale cache would create the same slices twice, so it waits
// (an error: requeued with back-off) until the cache shows them. An expectation older than 30 s
// counts as met (the slice may have been deleted since). Thread-safe.
class SliceTracker {
 public:
  explicit SliceTracker(Clock& clock = RealClock()) : clock_(clock) {}
  // Whether `slices` (the cache's slices of the owner's namespace) show every write made for
  // `owner_key`.
  bool Fresh(const std::string& owner_key,
             const std::vector<std::shared_ptr<const EndpointSlice>>& slices);
  void Written(const std::string& owner_key, const EndpointSlice& slice);
  void Deleted(const std::string& owner_key, const std::string& name);

 private:
  struct Expected {
    std::optional<uint64_t> resource_version;  // nullopt: deleted
    Clock::TimePoint at;
  };
  Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, std::map<std::string, Expected>> expected_;
};

// Writes `changes`: creations, then updates, then deletions (upstream's order, so that there is
// never a moment without the endpoints), noting them in `tracker` under `owner_key`. Returns the
// first error after trying all.
Status ApplySliceChanges(EndpointsClient& client, const std::string& ns,
                         const SliceChanges& changes, SliceTracker* tracker = nullptr,
                         const std::string& owner_key = "");

}  // namespace kpp::controllers
