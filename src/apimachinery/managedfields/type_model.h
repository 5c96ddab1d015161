// The shape of API objects as server-side apply sees it, read from OpenAPI schemas as upstream
// reads them: which values are scalars, structs, maps and lists; which lists are atomic, sets or
// keyed maps (x-kubernetes-list-type, x-kubernetes-list-map-keys, or the strategic-merge patch
// strategy and merge key of older schemas); which structs and maps are atomic
// (x-kubernetes-map-type). Values without a schema are "deduced" from what they are.
#pragma once

#include <boost/json/object.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::managedfields {

struct TypeNode {
  enum class Kind { kScalar, kStruct, kMap, kList, kDeduced };
  enum class ListType { kAtomic, kSet, kMap };

  Kind kind = Kind::kDeduced;
  // kStruct, kMap: the value is replaced as a whole (x-kubernetes-map-type: atomic).
  bool atomic = false;
  // kStruct: the members.
  std::map<std::string, const TypeNode*, std::less<>> fields;
  // kMap: the values; kList: the items.
  const TypeNode* element = nullptr;
  // kList.
  ListType list_type = ListType::kAtomic;
  std::vector<std::string> keys;
  // kStruct: defaults of members, used for list-map keys an item leaves out (a port's protocol).
  std::map<std::string, boost::json::value, std::less<>> defaults;

  // The type of member `name` of a struct, or the value type of a map; deduced when unknown.
  const TypeNode* Member(std::string_view name) const;
};

// The type a value without a schema has.
const TypeNode* DeducedType();

// Types built from an OpenAPI v2 `definitions` object (references "#/definitions/<name>") or a
// v3 `components.schemas` object (references "#/components/schemas/<name>"). Immutable after
// construction but for Add; Find is safe from any number of threads. `definitions` must outlive
// the model.
class TypeModel {
 public:
  explicit TypeModel(const boost::json::object& definitions);
  TypeModel(const TypeModel&) = delete;
  TypeModel& operator=(const TypeModel&) = delete;

  // The type of definition `name` (e.g. io.k8s.api.apps.v1.Deployment), or nullptr.
  const TypeNode* Find(std::string_view name) const;
  // The type of an inline schema (a CRD's openAPIV3Schema), owned by this model. Serialized with
  // other Adds; it does not disturb concurrent Finds of definitions.
  const TypeNode* Add(const boost::json::object& schema);

 private:
  const TypeNode* Build(const boost::json::object& schema);
  const TypeNode* Definition(std::string_view name);

  const boost::json::object& definitions_;
  std::deque<TypeNode> nodes_;
  std::map<std::string, const TypeNode*, std::less<>> by_name_;
  std::mutex add_mutex_;
};

}  // namespace kpp::managedfields
