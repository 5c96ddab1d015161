// The field path the generated ValidateFields pass down: a chain of steps on the stack, turned
// into a validation::FieldPath ("spec.containers[0].name") only when a check fails. Valid
// objects, the common case, then cost no string building at all.
#pragma once

#include <cstddef>
#include <string_view>

#include "apimachinery/validation/field_errors.h"

namespace kpp::api::runtime {

class LazyFieldPath {
 public:
  // The root: an empty path.
  LazyFieldPath() = default;

  // Each step refers to its parent and to `name`/`key`, which must outlive it: the generated code
  // uses steps as arguments of one call, made of literals and of keys of the object validated.
  LazyFieldPath Child(std::string_view name) const { return {this, Kind::kChild, name, 0}; }
  LazyFieldPath Index(size_t index) const { return {this, Kind::kIndex, {}, index}; }
  LazyFieldPath Key(std::string_view key) const { return {this, Kind::kKey, key, 0}; }

  validation::FieldPath Build() const {
    if (parent_ == nullptr) return validation::FieldPath();
    const validation::FieldPath parent = parent_->Build();
    switch (kind_) {
      case Kind::kChild: return parent.Child(text_);
      case Kind::kIndex: return parent.Index(index_);
      case Kind::kKey: return parent.Key(text_);
    }
    return parent;
  }
  // Error builders take a FieldPath: the conversion is where the path gets built.
  operator validation::FieldPath() const { return Build(); }  // NOLINT(google-explicit-constructor)

 private:
  enum class Kind : unsigned char { kChild, kIndex, kKey };
  LazyFieldPath(const LazyFieldPath* parent, Kind kind, std::string_view text, size_t index)
      : parent_(parent), text_(text), index_(index), kind_(kind) {}

  const LazyFieldPath* parent_ = nullptr;
  std::string_view text_;
  size_t index_ = 0;
  Kind kind_ = Kind::kChild;
};

}  // namespace kpp::api::runtime
