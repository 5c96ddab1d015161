// Conversion between the versions of a kind, for whoever serves a kind in several versions while
// storing it in one (api::StorageKind): a table of the hand-written conversion functions, by
// kind and versions, and the two steps the registry takes around the store.
//
// As upstream, a request in another version is converted to the storage version before it is
// validated and stored, and what the store holds is defaulted in the storage version and then
// converted to the version the client asked for. Metadata (name, uid, resourceVersion, labels,
// annotations, ...) passes through every conversion unchanged, except where a conversion keeps
// fields the target version lacks in annotations (autoscaling.h).
#pragma once

#include <span>
#include <string_view>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "base/result.h"

namespace kpp::api::conversion {

// One registered conversion: objects of `kind` from group/version `from` to `to` ("v1" for the
// core group, "apps/v1" otherwise).
struct Registration {
  std::string_view kind;
  std::string_view from;
  std::string_view to;
  // A null object when `object` is not of the `from` type (a caller's bug, reported by
  // Convert); an error when the conversion fails.
  Result<ObjectPtr> (*convert)(const Object& object);
};

// Every registered conversion. Static.
std::span<const Registration> Registrations();

// Whether objects of `from` can be converted to `to`: the same kind in two versions with a
// registered conversion, or `from` and `to` the same.
bool CanConvert(const KindInfo& from, const KindInfo& to);

// `object`, which is of `from`'s type, as an object of `to` (apiVersion and kind set to `to`'s).
// Fails when no conversion is registered or `object` is not of `from`'s type.
Result<ObjectPtr> Convert(const Object& object, const KindInfo& from, const KindInfo& to);

// `object`, of `kind`'s type, in the version `kind` is stored in, with that version's defaults.
// Returns `object` itself when `kind` is stored as itself.
Result<ObjectPtr> ToStorageVersion(const KindInfo& kind, ObjectPtr object);

// `object`, of the type of `kind`'s storage version, as `kind`: defaulted in the storage
// version first (upstream defaults what it reads from storage), then converted. Returns `object`
// itself when `kind` is stored as itself.
Result<ObjectPtr> FromStorageVersion(const KindInfo& kind, ObjectPtr object);

}  // namespace kpp::api::conversion
