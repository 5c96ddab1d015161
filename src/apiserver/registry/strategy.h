// Per-kind behaviour of the generic REST pipeline, as upstream's registry strategies: what the
// server sets on create and update, which names are valid, what may not be deleted, which kinds
// delete gracefully. A kind without its own strategy gets the default one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apimachinery/validation/field_errors.h"
#include "apiserver/authn/user.h"
#include "base/result.h"

namespace kpp::apiserver {

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Sets the fields the server owns on a new object (e.g. a namespace's finalizers and phase).
  virtual void PrepareForCreate(api::Object& object) const;
  // PrepareForCreate for kinds that record who created them (a CSR's requestor); `user` is null
  // for the server's own requests. The default calls PrepareForCreate.
  virtual void PrepareForCreateAs(api::Object& object, const UserInfo* user) const;
  // An update of the main resource (`object` is the new state, already defaulted; `old` the
  // stored one, in the same version). The default, as upstream's strategies: a kind with a
  // status subresource keeps its old status, and a kind that tracks generation bumps
  // metadata.generation when anything outside metadata and status changed.
  virtual void PrepareForUpdate(const api::KindInfo& kind, api::Object& object,
                                const api::Object& old) const;
  // An update through the status subresource: the default keeps everything of `old` outside
  // metadata and status, so only the status (and metadata) of the request counts.
  virtual void PrepareForStatusUpdate(const api::KindInfo& kind, api::Object& object,
                                      const api::Object& old) const;
  // An update through another subresource (a CSR's approval); the default changes nothing.
  virtual void PrepareForSubresourceUpdate(std::string_view subresource, const api::KindInfo& kind,
                                           api::Object& object, const api::Object& old) const;
  // Kind-specific checks beyond the schema and the name rule (object_name.h).
  virtual void Validate(const api::Object& object, validation::FieldErrors& errors) const;
  // The checks of an update of `old` through `subresource` ("" for the main resource); the
  // default runs Validate.
  virtual void ValidateUpdate(std::string_view subresource, const api::Object& object,
                              const api::Object& old, validation::FieldErrors& errors) const;
  // Refuses to delete `name` with an error, e.g. the default namespace.
  virtual Status CheckDelete(const api::KindInfo& kind, std::string_view name) const;
  // For kinds deleted gracefully (upstream's CheckGracefulDelete): the grace period a delete
  // asking for `requested` (unset: the kind's default) gets; 0 deletes at once. nullopt for
  // kinds that are never deleted gracefully (the default).
  virtual std::optional<int64_t> GracePeriod(const api::Object& object,
                                             std::optional<int64_t> requested) const;
};

// The strategy for `kind`. The returned object is static and thread-safe.
const Strategy& StrategyFor(const api::KindInfo& kind);

}  // namespace kpp::apiserver
