// Strategic-merge metadata of API fields (upstream's `patchStrategy` / `patchMergeKey` struct tags,
// x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key in OpenAPI), behind a small lookup
// interface so that the strategic merge patch does not depend on how the API schema is stored.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::patch {

struct PatchMeta {
  enum class Strategy {
    kDefault,  // no patchStrategy: maps merge, lists are replaced
    kMerge,    // lists merge: by merge key for lists of objects, as a set for lists of scalars
    kReplace,  // the value is replaced as a whole, maps included
  };

  Strategy strategy = Strategy::kDefault;
  // patchStrategy includes "retainKeys" (union types such as a Deployment's strategy). Applying a
  // patch does not need it (the $retainKeys directive in the patch is what counts); it is kept
  // for computing patches.
  bool retain_keys = false;
  // patchMergeKey: the member identifying an element of a merged list of objects, e.g. "name".
  std::string merge_key;

  static PatchMeta Merge(std::string merge_key = {}) {
    return {.strategy = Strategy::kMerge, .merge_key = std::move(merge_key)};
  }
  static PatchMeta Replace() { return {.strategy = Strategy::kReplace}; }

  bool operator==(const PatchMeta&) const = default;
};

// Builds metadata from the tag values, e.g. ("merge", "name") or ("merge,retainKeys", "").
// Accepted strategies: "", "merge", "replace", "retainKeys", and "retainKeys" combined with one
// of the other two. Errors: kInternalError for anything else (a schema bug, not a client's).
Result<PatchMeta> ParsePatchMeta(std::string_view strategy, std::string_view merge_key);

// Answers "what is the patch metadata of this field?" for one kind of object.
//
// `path` names the field by the member names leading to it from the object's root; list elements
// add no segment, so the ports of any container of a Pod are {"spec", "containers", "ports"}.
// Map-valued fields with arbitrary keys (labels, resource lists) make their keys path segments.
// Unknown fields answer PatchMeta{} (maps merge, lists replace), which is upstream's behaviour
// for objects without a schema; an implementation may instead return an error, which the
// strategic merge patch passes on unchanged.
//
// Implementations must be safe to call from several threads at once.
class PatchMetaLookup {
 public:
  virtual ~PatchMetaLookup() = default;
  virtual Result<PatchMeta> Lookup(std::span<const std::string> path) const = 0;
};

// The lookup for objects without a schema: every field is PatchMeta{}. A process-wide instance.
const PatchMetaLookup& NoPatchMeta();

// A lookup from a fixed table keyed by the dot-joined path, e.g. "spec.containers" or
// "spec.containers.ports". Paths not in the table answer PatchMeta{}. Meant for tests and small
// hand-written schemas; immutable after construction, so concurrent lookups are safe.
class PatchMetaTable final : public PatchMetaLookup {
 public:
  PatchMetaTable() = default;
  explicit PatchMetaTable(std::map<std::string, PatchMeta, std::less<>> by_path)
      : by_path_(std::move(by_path)) {}

  Result<PatchMeta> Lookup(std::span<const std::string> path) const override;

 private:
  std::map<std::string, PatchMeta, std::less<>> by_path_;
};

}  // namespace kpp::patch
