// The table of API kinds served as resources, generated from the schema (api/**/*.api): what
// discovery, routing and kubectl's resource mapping are built from.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace kpp::api {

class KindCodec;

// A field with a strategic-merge patch strategy, by its dotted path from the object's root
// (list elements add no segment): {"spec.containers", "merge", "name"}.
struct PatchField {
  std::string_view path;
  std::string_view strategy;  // e.g. "merge", "merge,retainKeys", "replace"
  std::string_view merge_key;
};

// How an object's metadata.name is checked (the schema's `name=`), as upstream's per-kind name
// validation: a DNS-1123 subdomain for most kinds, a DNS-1123 label (Namespace), a DNS-1035
// label (Service), or only a valid path segment (RBAC kinds, PersistentVolume and claims).
enum class NameRule : unsigned char { kSubdomain, kLabel, kDns1035Label, kPathSegment };

struct KindInfo {
  std::string_view group;  // "" for the core group
  std::string_view version;
  std::string_view kind;
  std::string_view plural;  // the resource name in URLs, e.g. "pods"
  std::string_view singular;
  std::string_view list_kind;  // empty when the kind has no list
  bool namespaced;
  std::string_view short_names;   // comma-separated, e.g. "po"
  std::string_view categories;    // comma-separated, e.g. "all"
  std::string_view subresources;  // comma-separated, e.g. "status,scale"
  std::string_view verbs;         // comma-separated, sorted
  std::string_view openapi_name;  // e.g. "io.k8s.api.core.v1.Pod"
  const KindCodec* codec;         // decoding into an api::Object (api/runtime/object.h)
  std::span<const PatchField> patch_fields;
  // The version of this kind the store holds its objects in (the schema's `storage=`), or null
  // when that is this one. Requests in this version are converted to and from it
  // (api/conversion/conversions.h); both share one storage key.
  const KindInfo* storage = nullptr;
  // For a deprecated version (the schema's `deprecated=`/`removed=`), the warning upstream sends
  // with every response: "extensions/v1beta1 Deployment is deprecated in v1.8+, unavailable in
  // v1.16+; use apps/v1 Deployment". Empty otherwise.
  std::string_view deprecation_warning = {};
  NameRule name_rule = NameRule::kSubdomain;
  // Dotted JSON paths of the fields an update may not change (the schema's `immutable=`), e.g.
  // "spec.selector": upstream's `field is immutable`.
  std::span<const std::string_view> immutable_fields = {};
};

// The kind table entry whose version `kind`'s objects are stored in: `kind` itself unless the
// schema names another.
// The apiVersion of a kind's objects: "v1" for the core group, else "<group>/<version>".
inline std::string GroupVersionOf(const KindInfo& kind) {
  if (kind.group.empty()) return std::string(kind.version);
  return std::string(kind.group) + "/" + std::string(kind.version);
}

inline const KindInfo& StorageKind(const KindInfo& kind) {
  return kind.storage != nullptr ? *kind.storage : kind;
}

// Every resource kind of every group/version, in schema order. Static; thread-safe.
std::span<const KindInfo> AllKinds();

}  // namespace kpp::api
