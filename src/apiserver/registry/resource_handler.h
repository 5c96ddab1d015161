// REST for resources: create, get, list, update and delete of every kind in the kind table,
// stored in the Store. One fixed pipeline (decode → defaults → strategy → validation → store)
// serves every kind; what differs per kind lives in its Strategy (strategy.h).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "api/meta/v1/types.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apimachinery/patch/patch_meta.h"
#include "apiserver/admission/admission.h"
#include "apiserver/authn/user.h"
#include "apiserver/registry/field_managers.h"
#include "apiserver/registry/lease_manager.h"
#include "apiserver/registry/strategy.h"
#include "base/clock.h"
#include "base/result.h"
#include "http/server.h"
#include "storage/store.h"

namespace kpp::apiextensions {
class CustomResourceKinds;
}

namespace kpp::apiserver {

class CachedResources;
class ListFilter;

// A request for a resource, parsed from its path.
struct ResourceRequest {
  const api::KindInfo* kind = nullptr;
  std::string namespace_;  // empty: cluster-scoped, or a list across all namespaces
  std::string name;        // empty: the collection
  std::string subresource;
  // Who asks (admission needs it); null for in-process requests, which act as the server.
  const UserInfo* user = nullptr;
};

struct ResourceOptions {
  // How long an Event lives after its last write (upstream's --event-ttl).
  std::chrono::seconds event_ttl{3600};
  // The admission plugins every create, update and delete goes through (admission/); none when
  // null.
  std::shared_ptr<const admission::Chain> admission;
};

class ResourceHandler {
 public:
  // `store` and `clock` must outlive the handler. Thread-safe after construction.
  // `custom_kinds` (optional) adds the custom resources of CustomResourceDefinitions.
  ResourceHandler(storage::Store& store, Clock& clock, std::span<const api::KindInfo> kinds,
                  const apiextensions::CustomResourceKinds* custom_kinds = nullptr,
                  ResourceOptions options = {});
  ~ResourceHandler();

  // The response for a resource request, or nullopt when the path is not one. `user` is who
  // asks (null: the server itself).
  std::optional<http::Response> Serve(const http::Request& request,
                                      const UserInfo* user = nullptr) const;

  // Creates the namespaces every cluster has (default, kube-system, kube-public,
  // kube-node-lease) when they are missing, and loads the watch caches.
  Status Bootstrap() const;

  // Parses /api/v1/... and /apis/<group>/<version>/... paths; nullopt when the path names no
  // served resource.
  std::optional<ResourceRequest> Parse(std::string_view path) const;

  // The watch caches (for in-process readers such as token authentication).
  CachedResources& cached() const { return *cached_; }

 private:
  // An object as the store holds it: its key-value (revisions) and the decoded object with its
  // resourceVersion set.
  struct StoredObject {
    storage::KeyValue kv;
    api::ObjectPtr object;
    // The watch cache's JSON of the object (with its resourceVersion, without apiVersion and
    // kind) when it came from there; null when it came from the store.
    std::shared_ptr<const std::string> cached_json;
  };
  // The object `target` names, or the response for why it cannot be had (404, store errors).
  std::variant<StoredObject, http::Response> Load(const ResourceRequest& target) const;
  // The watch cache's copy of it (nullopt when the cache has none): for a write's first attempt,
  // which only a success may answer: the write is a compare-and-swap on its revision, and any
  // other outcome is found again from the store.
  std::optional<StoredObject> LoadCached(const ResourceRequest& target) const;
  // An update (PUT) written over `cached`, else over the store's copy.
  http::Response UpdateOver(const ResourceRequest& target, const http::Request& request,
                            std::optional<StoredObject> cached) const;

  // The response for a parsed resource request, by method.
  http::Response Route(const ResourceRequest& target, const http::Request& request) const;

  // `applied`: the body is the result of a server-side apply, whose managedFields are set.
  http::Response Create(const ResourceRequest& target, const http::Request& request,
                        bool applied = false) const;
  http::Response Get(const ResourceRequest& target, const http::Request& request) const;
  http::Response List(const ResourceRequest& target, const http::Request& request) const;
  http::Response Watch(const ResourceRequest& target, const http::Request& request) const;
  http::Response Update(const ResourceRequest& target, const http::Request& request) const;
  http::Response Delete(const ResourceRequest& target, const http::Request& request) const;
  // Deletes one object as `options` ask: at once, or marked as being deleted (grace period,
  // finalizers) and answered with its new state.
  http::Response DeleteObject(const ResourceRequest& target,
                              const api::meta::v1::DeleteOptions& options,
                              const http::Request& request) const;
  // Subresources (subresources.cc): status, scale, pods' binding and eviction, namespaces'
  // finalize; 404 for the others.
  http::Response ServeSubresource(const ResourceRequest& target,
                                  const http::Request& request) const;
  http::Response Scale(const ResourceRequest& target, const http::Request& request) const;
  http::Response Bind(const ResourceRequest& target, const http::Request& request) const;
  http::Response Evict(const ResourceRequest& target, const http::Request& request) const;
  // A write the server makes to itself on behalf of a subresource: `method` on `target` with a
  // JSON `body`, answered in JSON.
  http::Response InnerRequest(const ResourceRequest& target, std::string method, std::string body,
                              const http::Request& outer) const;
  // DELETE on a collection: deletes what a list with the same options selects, and answers with
  // that list.
  http::Response DeleteCollection(const ResourceRequest& target,
                                  const http::Request& request) const;
  http::Response Patch(const ResourceRequest& target, const http::Request& request) const;
  // The store prefix a list of `target` reads: its namespace's, or the one namespace the field
  // selector requires.
  std::string ListPrefix(const ResourceRequest& target, const ListFilter& filter) const;
  // Stores `object` over `current` (read at `current_revision`), keeping the identity the server
  // recorded; the shared tail of update and patch.
  http::Response CommitUpdate(const ResourceRequest& target, const http::Request& request,
                              api::Object& object, const api::Object& current,
                              int64_t current_revision, http::Response warnings, bool* conflicted,
                              bool applied = false) const;
  // Writes `stored_json` (ToStoredJson's) over `current_revision`, the store's part of every
  // update: the new revision, or the error to answer (`*conflicted`, if given, set when the
  // object had changed). A binding calls it directly, as upstream's writes the pod straight to
  // storage (no admission, validation or managedFields for the pod).
  std::variant<int64_t, http::Response> StoreUpdate(const ResourceRequest& target,
                                                    std::string_view stored_json,
                                                    int64_t current_revision,
                                                    bool* conflicted) const;
  // PATCH with application/apply-patch+yaml: server-side apply, creating the object if needed.
  http::Response ServerSideApply(const ResourceRequest& target, const http::Request& request) const;
  // Runs the admission chain on a write (admit.cc): nullopt when admitted, with `object` (null
  // for a delete) as the mutating plugins changed it and their warnings added to `warnings`;
  // otherwise the refusal. `name` is the name the request gave (empty for a generated one).
  // `object_kind` names the kind of a subresource's own object (a pods/binding create sends a
  // Binding), which admission sees instead of the resource's kind.
  std::optional<http::Response> Admit(const ResourceRequest& target, admission::Operation operation,
                                      std::string_view name, api::Object* object,
                                      const api::Object* old_object, const http::Request& request,
                                      http::Response& warnings,
                                      std::string_view object_kind = {}) const;
  // The time managedFields record for a write now (RFC 3339, seconds).
  std::string NowText() const;
  // The store lease a write of `kind` attaches its object to: one that expires after the kind's
  // time to live (Events), else 0.
  Result<storage::LeaseId> LeaseForWrite(const api::KindInfo& kind) const;

  storage::Store& store_;
  Clock& clock_;
  std::span<const api::KindInfo> kinds_;
  const apiextensions::CustomResourceKinds* custom_kinds_;
  // The core namespaces kind, when the kind table has it: namespaced objects need an existing
  // namespace, and go with it.
  const api::KindInfo* namespaces_ = nullptr;
  // Strategic-merge metadata per kind, from the generated patch fields.
  std::map<const api::KindInfo*, patch::PatchMetaTable> patch_meta_;
  // The watch caches lists, gets and watches are served from (watchcache/cached_resources.h).
  std::unique_ptr<CachedResources> cached_;
  FieldManagers field_managers_;
  ResourceOptions options_;
  mutable LeaseManager leases_;
};

// Whether a write asks for a dry run (dryRun=All).
bool IsDryRun(const http::Request& request);

// What is stored: `object` without apiVersion/kind and resourceVersion (cleared here), which
// the server derives on every read.
std::string ToStoredJson(api::Object& object);

// Where an object lives in the store: /registry/<group or "core">/<resource>/[<namespace>/]<name>.
std::string StorageKey(const api::KindInfo& kind, std::string_view namespace_,
                       std::string_view name);

}  // namespace kpp::apiserver
