// Server-side apply's operations on JSON objects of a known type (type_model.h): the fields a
// value sets, what changed between two values, merging an applied configuration into a live
// object, and removing fields.
#pragma once

#include <boost/json/value.hpp>

#include "apimachinery/managedfields/field_set.h"
#include "apimachinery/managedfields/type_model.h"
#include "base/result.h"

namespace kpp::managedfields {

// The fields `value` sets: its leaves, atomic values and the items of set and keyed lists.
// Errors: kBadRequest for a keyed list item without its key, or two items with one key.
Result<FieldSet> ToFieldSet(const boost::json::value& value, const TypeNode* type);

struct Comparison {
  FieldSet added;
  FieldSet modified;
  FieldSet removed;

  FieldSet Changed() const { return added.Union(modified); }
};

// What changed from `old_value` to `new_value`. A struct, map or list that did not exist before
// (absent, not null) is itself added, with everything in it.
Result<Comparison> Compare(const boost::json::value& old_value, const boost::json::value& new_value,
                           const TypeNode* type);

// `live` with `config` merged in: structs and maps merge member by member, keyed and set lists
// item by item (new items after the live ones), scalars and atomic values are replaced.
Result<boost::json::value> Merge(const boost::json::value& live, const boost::json::value& config,
                                 const TypeNode* type);

// Removes every member of `fields` from `value` (struct members, map entries, list items).
void RemoveFields(boost::json::value& value, const FieldSet& fields, const TypeNode* type);

}  // namespace kpp::managedfields
