// The field labels each kind can be selected by (`?fieldSelector=`), as upstream's API server
// accepts them, and where each label's value is found in an object.
//
// Upstream splits this in two: a per-version conversion function that accepts or rejects a label
// ("field label not supported: foo") and a per-kind function that computes the selectable values.
// Here one table row per label says both: a label is accepted for a kind when the kind has a row
// for it, and the row says where its value lives in the object's JSON. Kinds without rows of
// their own accept metadata.name and metadata.namespace.
#pragma once

#include <boost/json/value.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/runtime/object.h"
#include "apimachinery/labels/field_selector.h"
#include "base/result.h"

namespace kpp::apiserver {

// How a field's JSON value becomes the string a selector compares with, as upstream prints it.
enum class FieldFormat {
  kString,   // the string; "" when absent
  kBool,     // "true" or "false"; "false" when absent
  kInteger,  // decimal; "0" when absent
};

// One label of a kind. `path` and `fallback` are dotted JSON paths from the object's root, where
// a number indexes a list ("status.podIPs.0.ip"); the fallback is read when the path holds
// nothing or "". An empty path is a label upstream accepts but never gives a value (it matches
// only "").
struct FieldLabel {
  std::string_view label;
  std::string_view path;
  FieldFormat format = FieldFormat::kString;
  std::string_view fallback = {};
  // For a version whose objects are stored as another version that names the field
  // differently (events.k8s.io Events are stored as core/v1 Events), the stored version's label
  // with the same value, as upstream's field label conversion renames it; empty: the same label.
  std::string_view stored_label = {};
};

// The label of `kind`'s storage version that `label` (one of `requested`, `kind`'s labels)
// stands for.
std::string_view StoredFieldLabel(std::span<const FieldLabel> requested, std::string_view label);

// The labels `kind` of `group` accepts: its own rows, or metadata.name and metadata.namespace.
std::span<const FieldLabel> FieldLabelsOf(std::string_view group, std::string_view kind);

// Whether every label in `selector` is one of `labels`; BadRequest with upstream's message
// ("field label not supported: spec.x") for the first that is not.
Status CheckFieldLabels(std::span<const FieldLabel> labels, const fields::Selector& selector);

// The selector string of `label`'s value in `object` (the object's JSON form).
std::string FieldValue(const FieldLabel& label, const boost::json::value& object);

// The values of the labels `wanted` (each one of `labels`) in `object`. metadata.name and
// metadata.namespace are read from the object's metadata; other labels from its JSON, which is
// built only when one is wanted.
fields::Set SelectableFields(std::span<const FieldLabel> labels,
                             const std::vector<std::string>& wanted, const api::Object& object);

}  // namespace kpp::apiserver
