#include "controllers/endpointslice/reconciler.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

std::string EndpointKey(const discovery::Endpoint& endpoint) {
  std::string key = endpoint.addresses.empty() ? "" : endpoint.addresses.front();
  if (endpoint.target_ref) key += "/" + endpoint.target_ref->uid;
  return key;
}

void SortEndpoints(std::vector<discovery::Endpoint>& endpoints) {
  std::sort(endpoints.begin(), endpoints.end(),
            [](const auto& a, const auto& b) { return EndpointKey(a) < EndpointKey(b); });
}

EndpointSlice NewSlice(const SliceOwner& owner, const std::vector<discovery::EndpointPort>& ports) {
  EndpointSlice slice;
  slice.api_version = "discovery.k8s.io/v1";
  slice.kind = "EndpointSlice";
  slice.metadata.namespace_ = owner.ns;
  // Upstream cuts the prefix so that the generated name stays a valid DNS subdomain.
  slice.metadata.generate_name = owner.name.substr(0, 57) + "-";
  slice.metadata.labels = owner.labels;
  slice.metadata.annotations = owner.annotations;
  slice.metadata.owner_references.push_back(owner.owner_ref);
  slice.address_type = "IPv4";
  slice.ports = ports;
  slice.ports.set_nil(false);
  slice.endpoints.set_nil(false);
  return slice;
}

// `slice` written again with the owner's labels and annotations.
EndpointSlice Refreshed(const EndpointSlice& slice, const SliceOwner& owner) {
  EndpointSlice out = slice;
  out.metadata.labels = owner.labels;
  for (const auto& [key, value] : owner.annotations)
    out.metadata.annotations[key] = value;
  out.endpoints.set_nil(false);
  return out;
}

bool MetadataCurrent(const EndpointSlice& slice, const SliceOwner& owner) {
  if (slice.metadata.labels != owner.labels) return false;
  return std::any_of(slice.metadata.owner_references.begin(), slice.metadata.owner_references.end(),
                     [&](const auto& ref) { return ref.uid == owner.owner_ref.uid; });
}

}  // namespace

std::string PortSetKey(const std::vector<discovery::EndpointPort>& ports) {
  std::vector<std::string> parts;
  for (const auto& port : ports) {
    parts.push_back(fmt::format("{}/{}/{}/{}", port.name.value_or(""),
                                port.protocol.value_or("TCP"), port.port.value_or(-1),
                                port.app_protocol.value_or("")));
  }
  std::sort(parts.begin(), parts.end());
  return fmt::format("{}", fmt::join(parts, ","));
}

SliceChanges ReconcileSlices(const SliceOwner& owner,
                             const std::map<std::string, PortGroup>& desired,
                             const std::vector<std::shared_ptr<const EndpointSlice>>& existing,
                             size_t max_endpoints_per_slice) {
  SliceChanges changes;
  std::map<std::string, std::vector<std::shared_ptr<const EndpointSlice>>> existing_by_ports;
  for (const auto& slice : existing)
    existing_by_ports[PortSetKey(slice->ports)].push_back(slice);
  size_t kept = 0;
  std::vector<std::string> deletable;
  for (const auto& [key, slices] : existing_by_ports) {
    if (!desired.contains(key)) {
      for (const auto& slice : slices)
        deletable.push_back(slice->metadata.name);
    }
  }
  for (const auto& [key, group] : desired) {
    std::map<std::string, const discovery::Endpoint*> wanted;
    for (const auto& endpoint : group.endpoints)
      wanted.emplace(EndpointKey(endpoint), &endpoint);
    struct Kept {
      EndpointSlice slice;
      bool changed;
    };
    std::vector<Kept> kept_slices;
    for (const auto& slice : existing_by_ports[key]) {
      Kept next{*slice, !MetadataCurrent(*slice, owner)};
      next.slice.endpoints.clear();
      for (const auto& endpoint : slice->endpoints) {
        auto found = wanted.find(EndpointKey(endpoint));
        if (found == wanted.end()) {
          next.changed = true;
          continue;
        }
        if (!(*found->second == endpoint)) next.changed = true;
        next.slice.endpoints.push_back(*found->second);
        wanted.erase(found);
      }
      if (next.slice.endpoints.empty()) {
        deletable.push_back(slice->metadata.name);
        continue;
      }
      kept_slices.push_back(std::move(next));
    }
    // New endpoints fill the kept slices with room first, fullest first (fewer, fuller slices).
    std::vector<const discovery::Endpoint*> remaining;
    for (const auto& [endpoint_key, endpoint] : wanted)
      remaining.push_back(endpoint);
    std::sort(kept_slices.begin(), kept_slices.end(), [](const Kept& a, const Kept& b) {
      return a.slice.endpoints.size() > b.slice.endpoints.size();
    });
    size_t next_remaining = 0;
    for (auto& kept_slice : kept_slices) {
      while (next_remaining < remaining.size() &&
             kept_slice.slice.endpoints.size() < max_endpoints_per_slice) {
        kept_slice.slice.endpoints.push_back(*remaining[next_remaining++]);
        kept_slice.changed = true;
      }
      if (kept_slice.changed) {
        SortEndpoints(kept_slice.slice.endpoints);
        changes.to_update.push_back(Refreshed(kept_slice.slice, owner));
      }
      ++kept;
    }
    while (next_remaining < remaining.size()) {
      EndpointSlice slice = NewSlice(owner, group.ports);
      while (next_remaining < remaining.size() &&
             slice.endpoints.size() < max_endpoints_per_slice) {
        slice.endpoints.push_back(*remaining[next_remaining++]);
      }
      SortEndpoints(slice.endpoints);
      changes.to_create.push_back(std::move(slice));
      ++kept;
    }
  }
  if (kept == 0 && owner.placeholder) {
    // Keep an existing empty slice without ports rather than replacing it.
    auto reusable = std::find_if(existing.begin(), existing.end(), [](const auto& slice) {
      return slice->endpoints.empty() && slice->ports.empty();
    });
    if (reusable != existing.end()) {
      std::erase(deletable, (*reusable)->metadata.name);
      if (!MetadataCurrent(**reusable, owner)) {
        changes.to_update.push_back(Refreshed(**reusable, owner));
      }
    } else {
      changes.to_create.push_back(NewSlice(owner, {}));
    }
  }
  changes.to_delete = std::move(deletable);
  return changes;
}

namespace {

std::optional<uint64_t> ParseResourceVersion(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

bool SliceTracker::Fresh(const std::string& owner_key,
                         const std::vector<std::shared_ptr<const EndpointSlice>>& slices) {
  std::lock_guard lock(mutex_);
  auto owner = expected_.find(owner_key);
  if (owner == expected_.end()) return true;
  const auto now = clock_.Now();
  std::erase_if(owner->second, [&](const auto& entry) {
    const auto& [name, expected] = entry;
    if (now - expected.at > std::chrono::seconds(30)) return true;
    auto found = std::find_if(slices.begin(), slices.end(),
                              [&](const auto& slice) { return slice->metadata.name == name; });
    if (!expected.resource_version) return found == slices.end();
    if (found == slices.end()) return false;
    auto seen = ParseResourceVersion((*found)->metadata.resource_version);
    return !seen || *seen >= *expected.resource_version;
  });
  const bool fresh = owner->second.empty();
  if (fresh) expected_.erase(owner);
  return fresh;
}

void SliceTracker::Written(const std::string& owner_key, const EndpointSlice& slice) {
  auto resource_version = ParseResourceVersion(slice.metadata.resource_version);
  if (slice.metadata.name.empty() || !resource_version) return;
  std::lock_guard lock(mutex_);
  expected_[owner_key][slice.metadata.name] = {resource_version, clock_.Now()};
}

void SliceTracker::Deleted(const std::string& owner_key, const std::string& name) {
  std::lock_guard lock(mutex_);
  expected_[owner_key][name] = {std::nullopt, clock_.Now()};
}

Status ApplySliceChanges(EndpointsClient& client, const std::string& ns,
                         const SliceChanges& changes, SliceTracker* tracker,
                         const std::string& owner_key) {
  std::optional<Error> first_error;
  auto note = [&](Status status) {
    if (!status.ok() && !first_error) first_error = std::move(status).error();
  };
  for (const auto& slice : changes.to_create) {
    auto created = client.CreateEndpointSlice(slice);
    if (!created.ok()) {
      note(std::move(created).error());
    } else if (tracker != nullptr) {
      tracker->Written(owner_key, *created);
    }
  }
  for (const auto& slice : changes.to_update) {
    auto updated = client.UpdateEndpointSlice(slice);
    if (!updated.ok()) {
      note(std::move(updated).error());
    } else if (tracker != nullptr) {
      tracker->Written(owner_key, *updated);
    }
  }
  for (const auto& name : changes.to_delete) {
    auto deleted = client.DeleteEndpointSlice(ns, name);
    if (!deleted.ok() && !client::IsNotFound(deleted.error())) {
      note(std::move(deleted));
    } else if (tracker != nullptr) {
      tracker->Deleted(owner_key, name);
    }
  }
  if (first_error) return *first_error;
  return Ok();
}

}  // namespace kpp::controllers
