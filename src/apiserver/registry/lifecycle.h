// Object lifecycle rules the generic pipeline shares across kinds, as upstream's registry keeps
// them: which kinds track metadata.generation, the parts of an object (spec-like fields, status)
// the strategies compare and copy, and how a DELETE plays out with grace periods and finalizers
// (upstream's rest.BeforeDelete and the generic store's finalizer handling).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/meta/v1/types.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "base/result.h"

namespace kpp::apiserver {

inline constexpr std::string_view kOrphanFinalizer = "orphan";
inline constexpr std::string_view kForegroundFinalizer = "foregroundDeletion";

// Whether `kind` lists `subresource` in the schema (`subresources=`).
bool HasSubresource(const api::KindInfo& kind, std::string_view subresource);

// Kinds whose strategies set metadata.generation to 1 on create and bump it when the desired
// state changes (workloads, autoscalers, disruption budgets, ingresses, network policies, CRDs).
bool TracksGeneration(const api::KindInfo& kind);

// Whether anything outside metadata and status (and apiVersion/kind) differs: upstream compares
// the spec.
bool SpecChanged(const api::Object& object, const api::Object& old);
// object.status = from.status (removed when `from` has none).
void CopyStatus(api::Object& object, const api::Object& from);
// Everything of `from` except metadata and status replaces `object`'s.
void CopyAllButMetadataAndStatus(api::Object& object, const api::Object& from);

// How a delete proceeds, decided from the stored object and the request's DeleteOptions.
enum class DeleteAction {
  kDeleteNow,  // remove the object from the store
  kUpdate,     // store the object as changed (deletionTimestamp, finalizers) and keep it
  kPending,    // already being deleted as asked: nothing changes, answer with the object
};

// Plans the delete of `object` (changed in place when the answer is kUpdate), as upstream:
// a graceful kind (Pod) gets deletionTimestamp = now + grace and deletionGracePeriodSeconds
// (a later delete may only shorten it; grace 0 deletes at once); orphanDependents or
// propagationPolicy Orphan/Foreground (or the kind's default, `orphan_by_default`) set the
// orphan or foregroundDeletion finalizer; an object with finalizers is marked deleting
// (deletionTimestamp, grace 0) and kept until they are removed.
Result<DeleteAction> PlanDelete(const api::KindInfo& kind, api::Object& object,
                                api::meta::v1::DeleteOptions& options, int64_t now_unix_seconds);

// The first step of deleting a namespace, as upstream's namespace store: the first delete sets
// deletionTimestamp and phase Terminating (and the orphan/foregroundDeletion finalizers the
// options ask for). True when the namespace is kept for the namespace controller to empty
// (spec.finalizers not empty); false when the generic delete goes on; a Conflict when it is
// already terminating and still has spec.finalizers.
Result<bool> BeginNamespaceTermination(const api::KindInfo& kind, api::Object& namespace_,
                                       const api::meta::v1::DeleteOptions& options,
                                       int64_t now_unix_seconds);

// Whether objects of `kind` (as requested, in its version) orphan their dependents when a delete
// names no propagation policy: upstream's DefaultGarbageCollectionPolicy keeps the old behaviour
// for core/v1 ReplicationController, batch/v1 Job and the removed workload versions.
bool OrphanByDefault(const api::KindInfo& kind);

// Whether `updated` (the new state of `old`) is to be deleted instead of stored: it is being
// deleted, without grace left (deletionGracePeriodSeconds 0), and its last finalizer is gone. A
// namespace (no grace period) also needs its spec.finalizers gone, so the namespace controller's
// finalize is what deletes it (upstream's ShouldDeleteNamespaceDuringUpdate).
bool FinalizersDone(const api::Object& updated, const api::Object& old);

// Runs the strategy's hook for an update of `object` over `old` through `subresource`: the main
// resource and scale (PrepareForUpdate), status (PrepareForStatusUpdate), a namespace's finalize
// (only spec.finalizers and metadata change); binding prepares its object itself.
void PrepareUpdate(const api::KindInfo& kind, std::string_view subresource, api::Object& object,
                   const api::Object& old);

}  // namespace kpp::apiserver
