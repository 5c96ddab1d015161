#include "apimachinery/managedfields/typed_value.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <map>

namespace kpp::managedfields {

namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using Kind = TypeNode::Kind;
using ListType = TypeNode::ListType;

// Deep enough for any real object; client input deeper than this is refused, not recursed into.
constexpr int kMaxDepth = 100;

Error TooDeep() {
  return Error(ErrorCode::kBadRequest, "object is nested too deeply");
}

// What a value of `type` is treated as, given what it actually is: deduced types, and values
// that do not have the shape their schema says, follow the value.
Kind EffectiveKind(const TypeNode* type, const value& v) {
  Kind kind = type->kind;
  if (kind == Kind::kStruct || kind == Kind::kMap) {
    if (v.is_object() || v.is_null()) return kind;
  } else if (kind == Kind::kList) {
    if (v.is_array() || v.is_null()) return kind;
  } else if (kind == Kind::kScalar) {
    return kind;
  }
  if (v.is_object()) return Kind::kMap;
  if (v.is_array()) return Kind::kList;
  return Kind::kScalar;
}

bool IsAtomic(const TypeNode* type, Kind kind) {
  switch (kind) {
    case Kind::kScalar: return true;
    case Kind::kStruct:
    case Kind::kMap: return type->kind == kind && type->atomic;
    case Kind::kList: return type->kind != Kind::kList || type->list_type == ListType::kAtomic;
    case Kind::kDeduced: return true;
  }
  return true;
}

const TypeNode* ElementType(const TypeNode* type) {
  return type->kind == Kind::kList && type->element != nullptr ? type->element : DeducedType();
}

Result<PathElement> ItemElement(const TypeNode* list, const value& item, size_t index) {
  if (list->kind != Kind::kList) return PathElement::Index(static_cast<int64_t>(index));
  switch (list->list_type) {
    case ListType::kAtomic: return PathElement::Index(static_cast<int64_t>(index));
    case ListType::kSet: return PathElement::Value(item);
    case ListType::kMap: break;
  }
  if (!item.is_object()) {
    return Error(ErrorCode::kBadRequest,
                 fmt::format("expected an object in a keyed list, got {}", serialize(item)));
  }
  const TypeNode* element = ElementType(list);
  object key;
  for (const auto& name : list->keys) {
    if (const auto* field = item.as_object().if_contains(name)) {
      key.emplace(name, *field);
    } else if (auto it = element->defaults.find(name); it != element->defaults.end()) {
      key.emplace(name, it->second);
    } else {
      return Error(ErrorCode::kBadRequest,
                   fmt::format("associative list with keys has an element that omits key field "
                               "\"{}\" (and doesn't have default value)",
                               name));
    }
  }
  return PathElement::Key(key);
}

// The items of a list value by their path elements, in list order.
Result<std::vector<std::pair<PathElement, const value*>>> ListItems(const TypeNode* type,
                                                                    const value* list) {
  std::vector<std::pair<PathElement, const value*>> items;
  if (list == nullptr || !list->is_array()) return items;
  std::map<PathElement, bool> seen;
  const auto& elements = list->as_array();
  for (size_t i = 0; i < elements.size(); ++i) {
    auto element = ItemElement(type, elements[i], i);
    if (!element.ok()) return element.error();
    if (!seen.emplace(*element, true).second) {
      if (type->list_type == ListType::kSet) continue;  // a repeated set value is one member
      return Error(ErrorCode::kBadRequest,
                   fmt::format("duplicate entries for key {}", element->ToString()));
    }
    items.emplace_back(*std::move(element), &elements[i]);
  }
  return items;
}

const value* FindItem(const std::vector<std::pair<PathElement, const value*>>& items,
                      const PathElement& element) {
  for (const auto& [e, v] : items) {
    if (e == element) return v;
  }
  return nullptr;
}

Status CollectFields(const value& v, const TypeNode* type, Path& path, FieldSet& set, int depth) {
  if (depth > kMaxDepth) return TooDeep();
  const Kind kind = EffectiveKind(type, v);
  if (IsAtomic(type, kind)) {
    set.Insert(path);
    return {};
  }
  if (kind == Kind::kList) {
    auto items = ListItems(type, &v);
    if (!items.ok()) return items.error();
    for (const auto& [element, item] : *items) {
      path.push_back(element);
      set.Insert(path);
      if (auto status = CollectFields(*item, ElementType(type), path, set, depth + 1);
          !status.ok()) {
        return status;
      }
      path.pop_back();
    }
    return {};
  }
  if (!v.is_object()) return {};  // null struct or map: sets nothing
  for (const auto& member : v.as_object()) {
    path.push_back(PathElement::Field(member.key()));
    if (auto status =
            CollectFields(member.value(), type->Member(member.key()), path, set, depth + 1);
        !status.ok()) {
      return status;
    }
    path.pop_back();
  }
  return {};
}

struct Comparer {
  Comparison& out;

  Status Run(const value* old_value, const value* new_value, const TypeNode* type, Path& path,
             int depth) {
    if (depth > kMaxDepth) return TooDeep();
    // Nothing below an unchanged value changed: most writes change a small part of the object
    // (a status report leaves the spec, the bulk of a pod, as it was).
    if (old_value != nullptr && new_value != nullptr && *old_value == *new_value) return {};
    const value& either = new_value != nullptr ? *new_value : *old_value;
    Kind kind = EffectiveKind(type, either);
    if (old_value != nullptr && new_value != nullptr && EffectiveKind(type, *old_value) != kind) {
      kind = Kind::kScalar;  // changed shape: compared as a whole
    }
    if (IsAtomic(type, kind)) {
      if (old_value == nullptr) {
        out.added.Insert(path);
      } else if (new_value == nullptr) {
        out.removed.Insert(path);
      } else if (*old_value != *new_value) {
        out.modified.Insert(path);
      }
      return {};
    }
    if (kind == Kind::kList) {
      auto old_items = ListItems(type, old_value);
      if (!old_items.ok()) return old_items.error();
      auto new_items = ListItems(type, new_value);
      if (!new_items.ok()) return new_items.error();
      for (const auto& [element, item] : *old_items) {
        path.push_back(element);
        auto status = Run(item, FindItem(*new_items, element), ElementType(type), path, depth + 1);
        path.pop_back();
        if (!status.ok()) return status;
      }
      for (const auto& [element, item] : *new_items) {
        if (FindItem(*old_items, element) != nullptr) continue;
        path.push_back(element);
        auto status = Run(nullptr, item, ElementType(type), path, depth + 1);
        path.pop_back();
        if (!status.ok()) return status;
      }
    } else {
      static const object kEmpty;
      const object& old_object =
          old_value != nullptr && old_value->is_object() ? old_value->as_object() : kEmpty;
      const object& new_object =
          new_value != nullptr && new_value->is_object() ? new_value->as_object() : kEmpty;
      for (const auto& member : old_object) {
        path.push_back(PathElement::Field(member.key()));
        auto status = Run(&member.value(), new_object.if_contains(member.key()),
                          type->Member(member.key()), path, depth + 1);
        path.pop_back();
        if (!status.ok()) return status;
      }
      for (const auto& member : new_object) {
        if (old_object.contains(member.key())) continue;
        path.push_back(PathElement::Field(member.key()));
        auto status = Run(nullptr, &member.value(), type->Member(member.key()), path, depth + 1);
        path.pop_back();
        if (!status.ok()) return status;
      }
    }
    // A container that appears or disappears is itself a change, besides what is in it.
    if (old_value == nullptr) out.added.Insert(path);
    if (new_value == nullptr) out.removed.Insert(path);
    return {};
  }
};

Result<value> MergeValues(const value* live, const value& config, const TypeNode* type, int depth) {
  if (depth > kMaxDepth) return TooDeep();
  if (live == nullptr || live->is_null() || config.is_null()) return config;
  const Kind kind = EffectiveKind(type, config);
  if (IsAtomic(type, kind) || EffectiveKind(type, *live) != kind) return config;
  if (kind == Kind::kList) {
    auto live_items = ListItems(type, live);
    if (!live_items.ok()) return live_items.error();
    auto config_items = ListItems(type, &config);
    if (!config_items.ok()) return config_items.error();
    array merged;
    for (const auto& [element, item] : *live_items) {
      const value* applied = FindItem(*config_items, element);
      if (applied == nullptr) {
        merged.push_back(*item);
        continue;
      }
      auto item_merged = MergeValues(item, *applied, ElementType(type), depth + 1);
      if (!item_merged.ok()) return item_merged.error();
      merged.push_back(*std::move(item_merged));
    }
    for (const auto& [element, item] : *config_items) {
      if (FindItem(*live_items, element) == nullptr) merged.push_back(*item);
    }
    return value(std::move(merged));
  }
  object merged = live->as_object();
  for (const auto& member : config.as_object()) {
    auto merged_member = MergeValues(merged.if_contains(member.key()), member.value(),
                                     type->Member(member.key()), depth + 1);
    if (!merged_member.ok()) return merged_member.error();
    merged[member.key()] = *std::move(merged_member);
  }
  return value(std::move(merged));
}

// Removes the value at `path` below `v`; false when it is not there.
bool RemovePath(value& v, const TypeNode* type, const Path& path, size_t at) {
  const PathElement& element = path[at];
  const bool last = at + 1 == path.size();
  if (element.kind == PathElement::Kind::kField) {
    if (!v.is_object()) return false;
    auto& members = v.as_object();
    auto it = members.find(element.text);
    if (it == members.end()) return false;
    if (last) {
      members.erase(it);
      return true;
    }
    return RemovePath(it->value(), type->Member(element.text), path, at + 1);
  }
  if (!v.is_array()) return false;
  auto& items = v.as_array();
  for (size_t i = 0; i < items.size(); ++i) {
    auto item_element = ItemElement(type, items[i], i);
    if (!item_element.ok() || *item_element != element) continue;
    if (last) {
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
    return RemovePath(items[i], ElementType(type), path, at + 1);
  }
  return false;
}

}  // namespace

Result<FieldSet> ToFieldSet(const value& v, const TypeNode* type) {
  if (!v.is_object()) return Error(ErrorCode::kBadRequest, "an object is required");
  FieldSet set;
  Path path;
  if (auto status = CollectFields(v, type, path, set, 0); !status.ok()) return status.error();
  return set;
}

Result<Comparison> Compare(const value& old_value, const value& new_value, const TypeNode* type) {
  // Both roots are present, so only what is inside them can be added or removed.
  Comparison comparison;
  Path path;
  if (auto status = Comparer{comparison}.Run(&old_value, &new_value, type, path, 0); !status.ok()) {
    return status.error();
  }
  return comparison;
}

Result<value> Merge(const value& live, const value& config, const TypeNode* type) {
  return MergeValues(&live, config, type, 0);
}

void RemoveFields(value& v, const FieldSet& fields, const TypeNode* type) {
  fields.ForEach([&](const Path& path) {
    if (!path.empty()) RemovePath(v, type, path, 0);
  });
}

}  // namespace kpp::managedfields
