// Per-kind behaviour of the generic REST pipeline, as upstream's registry strategies: what the
// server sets on create, which names are valid, what may not be deleted. A kind without its own
// strategy gets the default one.
#pragma once

#include <string_view>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apimachinery/validation/field_errors.h"
#include "base/result.h"

namespace kpp::apiserver {

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Sets the fields the server owns on a new object (e.g. a namespace's finalizers and phase).
  virtual void PrepareForCreate(api::Object& object) const;
  // Kind-specific checks beyond the schema and the name rule (object_name.h).
  virtual void Validate(const api::Object& object, validation::FieldErrors& errors) const;
  // Refuses to delete `name` with an error, e.g. the default namespace.
  virtual Status CheckDelete(const api::KindInfo& kind, std::string_view name) const;
};

// The strategy for `kind`. The returned object is static and thread-safe.
const Strategy& StrategyFor(const api::KindInfo& kind);

}  // namespace kpp::apiserver
