// The custom resources the API server serves, from the CustomResourceDefinitions in the store:
// a thread-safe registry of KindInfo entries (with an unstructured codec) that routing,
// discovery, OpenAPI, printers and the watch cache consult beside the generated kind table, and
// upstream's naming/establishing rules that decide a definition's status.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "api/runtime/kinds.h"
#include "apiextensions/unstructured.h"

namespace kpp::apiextensions {

inline constexpr std::string_view kCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

// A column of `kubectl get` (additionalPrinterColumns).
struct PrinterColumn {
  std::string name;
  std::string type;
  std::string format;
  std::string description;
  int32_t priority = 0;
  std::string json_path;
};

// The scale subresource's paths (".spec.replicas", ...).
struct ScalePaths {
  std::string spec_replicas;
  std::string status_replicas;
  std::string label_selector;  // empty when unset
};

// One version of a custom resource as served. Its `info` is what the rest of the server sees
// (CustomResourceOf finds this from it). Never freed while the registry lives, so a request that
// found it may finish after the definition changed.
struct ServedCustomResource {
  std::string crd_name;
  std::string group;
  std::string version;
  std::string kind;
  std::string list_kind;
  std::string plural;
  std::string singular;
  std::string short_names;
  std::string categories;
  std::string subresources;
  std::string verbs;
  std::string openapi_name;
  std::string deprecation_warning;
  std::string storage_version;  // the version objects are stored in
  bool namespaced = true;
  bool served = true;
  bool terminating = false;
  std::vector<PrinterColumn> columns;  // the Age column when the version declares none
  std::optional<ScalePaths> scale;
  boost::json::value schema;  // openAPIV3Schema, null when none
  std::unique_ptr<UnstructuredSchema> schema_hooks;
  std::unique_ptr<UnstructuredCodec> codec;
  api::KindInfo info{};
};

// Builds the served versions of one definition (a CustomResourceDefinition as JSON, using
// status.acceptedNames, falling back to spec.names), storage version included.
std::vector<std::unique_ptr<ServedCustomResource>> BuildServedVersions(
    const boost::json::object& crd);

// What a custom resource's definition says of `kind`, or null for the generated kinds.
const ServedCustomResource* CustomResourceOf(const api::KindInfo& kind);

class CustomResourceKinds {
 public:
  CustomResourceKinds() = default;
  CustomResourceKinds(const CustomResourceKinds&) = delete;
  CustomResourceKinds& operator=(const CustomResourceKinds&) = delete;

  // The served version `group/version/plural`, or null.
  const api::KindInfo* Find(std::string_view group, std::string_view version,
                            std::string_view plural) const;
  // Every served version of every served definition, by definition name then version priority.
  std::vector<const api::KindInfo*> Served() const;
  // Bumped whenever what is served changes.
  uint64_t generation() const { return generation_.load(); }

  // Serves exactly `crds` (definitions as JSON whose names are accepted; each keeps being served
  // while terminating, for its cleanup).
  void Update(const std::vector<boost::json::object>& crds);

 private:
  struct Definition {
    std::string fingerprint;
    std::vector<ServedCustomResource*> versions;
  };
  mutable std::shared_mutex mutex_;
  std::map<std::string, Definition> definitions_;           // by CRD name
  std::vector<std::unique_ptr<ServedCustomResource>> all_;  // never shrinks
  std::atomic<uint64_t> generation_{0};
};

// What upstream's naming controller decides for `crd` given the other definitions and the
// built-in kinds: status.acceptedNames and the NamesAccepted and Established conditions (the
// establishing controller's step folded in: Established once the names are accepted), plus
// storedVersions with the storage version. `now` stamps conditions that change. Returns the new
// status object (the old one's other fields kept).
boost::json::object DesiredStatus(const boost::json::object& crd,
                                  std::span<const boost::json::object> all_crds,
                                  std::span<const api::KindInfo> builtins, std::string_view now);

// Whether the NamesAccepted condition of `crd`'s status is True.
bool NamesAccepted(const boost::json::object& crd);

// Sets or replaces condition `type` in a status object, keeping lastTransitionTime when the
// status stays.
void SetCondition(boost::json::object& status, std::string_view type, std::string_view value,
                  std::string_view reason, std::string_view message, std::string_view now);

// The first step of deleting a definition, as upstream's CRD store: deletionTimestamp, the
// cleanup finalizer and the Terminating condition; the finalizer's controller deletes the
// objects, then the definition. False when it is already being deleted.
bool BeginCrdTermination(api::Object& crd, std::string_view now);

bool IsCustomResourceDefinition(const api::KindInfo& kind);

}  // namespace kpp::apiextensions
