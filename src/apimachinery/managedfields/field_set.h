// Sets of field paths, as server-side apply records ownership: which manager set which fields.
// A path leads from an object's root through struct fields and map keys (`f:name`), items of
// keyed lists (`k:{"name":"web"}`), items of set lists (`v:"value"`) and, rarely, list indices
// (`i:3`). The FieldsV1 form in metadata.managedFields is the set's trie as JSON, with "." for a
// path that is itself a member and also has members below it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace kpp::managedfields {

struct PathElement {
  // The order of the kinds is the order FieldsV1 lists children in.
  enum class Kind : uint8_t { kField, kKey, kValue, kIndex };

  Kind kind = Kind::kField;
  // kField: the member name. kKey: the key fields as a compact JSON object sorted by name.
  // kValue: the item as compact JSON. kIndex: unused.
  std::string text;
  int64_t index = 0;

  static PathElement Field(std::string name) { return {Kind::kField, std::move(name), 0}; }
  // `key` holds the key fields' values by field name.
  static PathElement Key(const boost::json::object& key);
  static PathElement Value(const boost::json::value& value);
  static PathElement Index(int64_t index) { return {Kind::kIndex, {}, index}; }

  // The FieldsV1 member name: f:name, k:{...}, v:..., i:N.
  std::string FieldsV1Name() const;
  // As upstream prints paths in conflicts: .name, [name="web"], [="value"], [3].
  std::string ToString() const;

  auto operator<=>(const PathElement&) const = default;
};

using Path = std::vector<PathElement>;

// ".spec.containers[name=\"web\"].image", as in upstream's conflict messages.
std::string PathToString(const Path& path);

class FieldSet {
 public:
  void Insert(const Path& path);
  bool Has(const Path& path) const;
  // Whether `path` or anything below it is a member.
  bool HasAtOrBelow(const Path& path) const;
  bool Empty() const { return !member_ && children_.empty(); }

  FieldSet Union(const FieldSet& other) const;
  // Members of this set that are not members of `other`.
  FieldSet Difference(const FieldSet& other) const;
  // Like Difference, but a member of `other` also takes away everything below it.
  FieldSet RecursiveDifference(const FieldSet& other) const;
  FieldSet Intersection(const FieldSet& other) const;

  // Calls `visit` for every member path, in FieldsV1 order.
  void ForEach(const std::function<void(const Path&)>& visit) const;
  std::vector<Path> Members() const;

  boost::json::object ToFieldsV1() const;
  // Errors: kBadRequest naming what is malformed.
  static Result<FieldSet> FromFieldsV1(const boost::json::value& fields);

  bool operator==(const FieldSet&) const = default;

 private:
  using Children = std::vector<std::pair<PathElement, FieldSet>>;

  FieldSet* Child(const PathElement& element);
  const FieldSet* Find(const PathElement& element) const;
  FieldSet& ChildOrInsert(const PathElement& element);
  void ForEachFrom(Path& prefix, const std::function<void(const Path&)>& visit) const;

  // Whether the path leading here is itself a member (false at the root).
  bool member_ = false;
  Children children_;  // sorted by element
};

}  // namespace kpp::managedfields
