#include "apimachinery/patch/strategic_merge_patch.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "apimachinery/patch/json_util.h"

namespace kpp::patch {
namespace json = boost::json;

namespace {

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";

// Upstream's wording for malformed directives, which clients may recognise.
constexpr std::string_view kBadRetainKeys = "invalid patch format of retainKeys";
constexpr std::string_view kBadPrimitiveList = "invalid patch format of primitive list";
constexpr std::string_view kBadSetElementOrder = "invalid patch format of setElementOrder list";

constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

std::string_view View(const json::string& text) {
  return {text.data(), text.size()};
}
std::string_view KeyOf(const json::key_value_pair& member) {
  return {member.key().data(), member.key().size()};
}

// The directive name of `value` when it is an object carrying "$patch", else "".
std::string_view DirectiveOf(const json::value& value) {
  if (!value.is_object()) return {};
  const json::value* directive = value.get_object().if_contains(kDirectiveMarker);
  if (directive == nullptr) return {};
  return directive->is_string() ? View(directive->get_string()) : std::string_view("?");
}

bool IsDirectiveKey(std::string_view key) {
  return key == kDirectiveMarker || key == kRetainKeysDirective ||
         key.starts_with(kSetElementOrderPrefix) || key.starts_with(kDeleteFromPrimitiveListPrefix);
}

enum class Shape { kObject, kArray, kScalar };
Shape ShapeOf(const json::value& value) {
  if (value.is_object()) return Shape::kObject;
  if (value.is_array()) return Shape::kArray;
  return Shape::kScalar;
}

// Element types a merged list may hold; all elements must share one.
enum class ElementKind { kNone, kObject, kString, kNumber, kBool, kNull };
ElementKind ElementKindOf(const json::value& value) {
  switch (value.kind()) {
    case json::kind::object: return ElementKind::kObject;
    case json::kind::string: return ElementKind::kString;
    case json::kind::bool_: return ElementKind::kBool;
    case json::kind::null: return ElementKind::kNull;
    default: return ElementKind::kNumber;
  }
}

// Appends to `out` a string that is equal for two values exactly when JsonEqual says they are
// (strings are length-prefixed, object members sorted, integral numbers in one form). False when
// the value nests too deeply to encode here.
bool AppendCanonical(const json::value& value, std::string& out, std::size_t depth) {
  constexpr double kTwoTo63 = 9223372036854775808.0;
  constexpr double kTwoTo64 = 18446744073709551616.0;
  if (depth > kMaxJsonDepth) return false;
  switch (value.kind()) {
    case json::kind::null: out += 'n'; return true;
    case json::kind::bool_: out += value.get_bool() ? "t" : "f"; return true;
    case json::kind::string: {
      const std::string_view text = View(value.get_string());
      out += fmt::format("s{}:", text.size());
      out += text;
      return true;
    }
    case json::kind::int64: out += fmt::format("i{};", value.get_int64()); return true;
    case json::kind::uint64: {
      const std::uint64_t number = value.get_uint64();
      out += number < static_cast<std::uint64_t>(kTwoTo63) ? fmt::format("i{};", number)
                                                           : fmt::format("u{};", number);
      return true;
    }
    case json::kind::double_: {
      const double d = value.get_double();
      if (std::trunc(d) == d && d >= -kTwoTo63 && d < kTwoTo64) {
        out += d < kTwoTo63 ? fmt::format("i{};", static_cast<std::int64_t>(d))
                            : fmt::format("u{};", static_cast<std::uint64_t>(d));
      } else {
        out += fmt::format("d{};", d);
      }
      return true;
    }
    case json::kind::array: {
      const json::array& array = value.get_array();
      out += fmt::format("[{}:", array.size());
      for (const auto& item : array) {
        if (!AppendCanonical(item, out, depth + 1)) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& object = value.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(object.size());
      for (const auto& member : object)
        members.push_back(&member);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return KeyOf(*a) < KeyOf(*b); });
      out += fmt::format("{{{}:", members.size());
      for (const json::key_value_pair* member : members) {
        out += fmt::format("{}:", member->key().size());
        out += KeyOf(*member);
        if (!AppendCanonical(member->value(), out, depth + 1)) return false;
      }
      return true;
    }
  }
  return false;
}

std::optional<std::string> CanonicalKey(const json::value& value) {
  std::string out;
  if (!AppendCanonical(value, out, 0)) return std::nullopt;
  return out;
}

// Positions of list-element keys (merge-key values, or whole elements), first occurrence
// winning. Keys are hashed so that merging long lists stays linear: a hostile patch with ten
// thousand elements must not cost 10^8 comparisons.
class KeyIndex {
 public:
  void Add(const json::value& key) {
    const std::size_t position = size_++;
    if (std::optional<std::string> canonical = CanonicalKey(key)) {
      hashed_.try_emplace(std::move(*canonical), position);
    } else {
      too_deep_.emplace_back(key, position);
    }
  }

  std::size_t Find(const json::value& key) const {
    if (std::optional<std::string> canonical = CanonicalKey(key)) {
      auto it = hashed_.find(*canonical);
      return it == hashed_.end() ? kNotFound : it->second;
    }
    // Equal values nest equally deep, so a too-deep key can only match another one.
    for (const auto& [candidate, position] : too_deep_) {
      if (JsonEqual(candidate, key)) return position;
    }
    return kNotFound;
  }

  bool Contains(const json::value& key) const { return Find(key) != kNotFound; }
  std::size_t size() const { return size_; }

 private:
  std::unordered_map<std::string, std::size_t> hashed_;
  std::vector<std::pair<json::value, std::size_t>> too_deep_;  // compared one by one
  std::size_t size_ = 0;
};

std::string NoMergeKeyMessage(const json::value& item, std::string_view merge_key) {
  return fmt::format("map: {} does not contain declared merge key: {}", JsonForMessage(item),
                     merge_key);
}

class Merger {
 public:
  explicit Merger(const PatchMetaLookup& schema) : schema_(schema) {}

  Status MergeObject(json::object& original, const json::object& patch, std::size_t depth);

 private:
  // Keeps path_ naming the field being merged for as long as the scope lives.
  class FieldScope {
   public:
    FieldScope(std::vector<std::string>& path, std::string_view field) : path_(path) {
      path_.emplace_back(field);
    }
    ~FieldScope() { path_.pop_back(); }
    FieldScope(const FieldScope&) = delete;
    FieldScope& operator=(const FieldScope&) = delete;

   private:
    std::vector<std::string>& path_;
  };

  Error Fail(ErrorCode code, std::string_view message) const {
    if (path_.empty()) return Error(code, std::string(message));
    std::string where;
    for (std::size_t i = 0; i < path_.size(); ++i) {
      if (i != 0) where.push_back('.');
      where += path_[i];
    }
    return Error(code, fmt::format("{}: {}", where, message));
  }

  Status CheckDepth(std::size_t depth) const {
    if (depth > kMaxJsonDepth) {
      return Fail(ErrorCode::kBadRequest,
                  fmt::format("the patch is nested deeper than {} levels", kMaxJsonDepth));
    }
    return Ok();
  }

  Result<PatchMeta> Meta() const { return schema_.Lookup(path_); }

  // The field name after "<prefix>/" in a directive key such as "$setElementOrder/containers".
  Result<std::string_view> FieldOfDirective(std::string_view key, std::string_view prefix,
                                            std::string_view format_error) const {
    if (key.size() <= prefix.size() || key[prefix.size()] != '/') {
      return Fail(ErrorCode::kBadRequest, format_error);
    }
    return key.substr(prefix.size() + 1);
  }

  // What identifies a list element: its merge key's value, or the element itself for lists
  // merged by value (`merge_key` empty).
  Result<json::value> ElementKey(const json::value& item, std::string_view merge_key) const {
    if (merge_key.empty()) return item;
    if (!item.is_object()) {
      return Fail(ErrorCode::kBadRequest,
                  fmt::format("expected a map in the list, found {}", JsonForMessage(item)));
    }
    const json::value* key = item.get_object().if_contains(merge_key);
    if (key == nullptr) return Fail(ErrorCode::kBadRequest, NoMergeKeyMessage(item, merge_key));
    return *key;
  }

  Result<ElementKind> CommonElementKind(std::initializer_list<const json::array*> lists) const {
    ElementKind common = ElementKind::kNone;
    for (const json::array* list : lists) {
      for (const auto& item : *list) {
        if (item.is_array()) return Fail(ErrorCode::kInvalid, "lists of lists are not supported");
        const ElementKind kind = ElementKindOf(item);
        if (common == ElementKind::kNone) {
          common = kind;
        } else if (kind != common) {
          return Fail(ErrorCode::kBadRequest,
                      fmt::format("list element types are not identical: {} does not match the "
                                  "other elements",
                                  JsonForMessage(item)));
        }
      }
    }
    return common;
  }

  Status ApplyRetainKeys(json::object& original, const json::object& patch) const;
  Status MergeField(json::object& original, std::string_view key, const json::value& value,
                    std::size_t depth);
  Result<bool> MergeOrderedList(json::object& original, const json::object& patch,
                                std::string_view field, const json::value& order,
                                std::size_t depth);
  Status ValidateOrder(const json::array& patch_list, const json::array& order,
                       std::string_view merge_key) const;
  Status DeleteFromPrimitiveList(json::object& original, std::string_view key,
                                 const json::value& values);
  // `live_order_seen_by_ordering`, when given, receives the live order upstream's
  // $setElementOrder handling ends up using (see MergeOrderedList).
  Status MergeList(json::array& original, const json::array& patch, const PatchMeta& meta,
                   std::size_t depth, KeyIndex* live_order_seen_by_ordering = nullptr);
  Result<json::array> Order(json::array merged, std::string_view merge_key,
                            const KeyIndex& order_keys, const KeyIndex& server_keys) const;
  Result<std::optional<json::value>> Materialize(const json::value& patch, std::size_t depth);
  Result<json::array> MaterializeList(const json::array& patch, std::size_t depth);

  const PatchMetaLookup& schema_;
  std::vector<std::string> path_;
};

Status Merger::MergeObject(json::object& original, const json::object& patch, std::size_t depth) {
  KPP_RETURN_IF_ERROR(CheckDepth(depth));
  if (const json::value* directive = patch.if_contains(kDirectiveMarker)) {
    const std::string_view name = directive->is_string() ? View(directive->get_string()) : "";
    if (name == "delete") {
      // Upstream leaves an empty map rather than removing the member.
      original.clear();
      return Ok();
    }
    if (name == "replace") {
      original.clear();
    } else if (name != "merge") {
      return Fail(ErrorCode::kBadRequest,
                  fmt::format("unknown patch type: {} in map: {}", JsonForMessage(*directive),
                              JsonForMessage(json::value(patch))));
    }
  }
  KPP_RETURN_IF_ERROR(ApplyRetainKeys(original, patch));

  // Lists with an explicit order are merged (and ordered) first, then skipped below.
  std::unordered_set<std::string_view> ordered_fields;
  for (const auto& member : patch) {
    const std::string_view key = KeyOf(member);
    if (!key.starts_with(kSetElementOrderPrefix)) continue;
    KPP_ASSIGN_OR_RETURN(std::string_view field,
                         FieldOfDirective(key, kSetElementOrderPrefix, kBadSetElementOrder));
    KPP_ASSIGN_OR_RETURN(bool merged,
                         MergeOrderedList(original, patch, field, member.value(), depth));
    if (merged) ordered_fields.insert(field);
  }

  // Deletions from primitive lists run last so that they see the list's merged content whatever
  // the member order of the patch (upstream's order is random).
  std::vector<const json::key_value_pair*> deletions;
  for (const auto& member : patch) {
    const std::string_view key = KeyOf(member);
    if (key.starts_with(kDeleteFromPrimitiveListPrefix)) {
      deletions.push_back(&member);
      continue;
    }
    if (IsDirectiveKey(key)) continue;
    if (ordered_fields.contains(key)) continue;
    KPP_RETURN_IF_ERROR(MergeField(original, key, member.value(), depth));
  }
  for (const json::key_value_pair* member : deletions) {
    KPP_RETURN_IF_ERROR(DeleteFromPrimitiveList(original, KeyOf(*member), member->value()));
  }
  return Ok();
}

Status Merger::ApplyRetainKeys(json::object& original, const json::object& patch) const {
  const json::value* retain = patch.if_contains(kRetainKeysDirective);
  if (retain == nullptr) return Ok();
  if (!retain->is_array()) return Fail(ErrorCode::kBadRequest, kBadRetainKeys);
  std::unordered_set<std::string_view> listed;
  for (const auto& item : retain->get_array()) {
    if (item.is_string()) listed.insert(View(item.get_string()));
  }
  auto is_listed = [&](std::string_view key) { return listed.contains(key); };
  for (const auto& member : patch) {
    const std::string_view key = KeyOf(member);
    if (member.value().is_null() || IsDirectiveKey(key)) continue;
    if (!is_listed(key)) {
      return Fail(
          ErrorCode::kBadRequest,
          fmt::format("{}: \"{}\" is in the patch but not in $retainKeys", kBadRetainKeys, key));
    }
  }
  json::object kept;
  for (auto& member : original) {
    if (is_listed(KeyOf(member))) kept.emplace(member.key(), std::move(member.value()));
  }
  original = std::move(kept);
  return Ok();
}

Status Merger::MergeField(json::object& original, std::string_view key, const json::value& value,
                          std::size_t depth) {
  if (value.is_null()) {
    original.stable_erase(key);
    return Ok();
  }
  FieldScope scope(path_, key);
  json::value* live = original.if_contains(key);
  if (live == nullptr || ShapeOf(*live) != ShapeOf(value)) {
    KPP_ASSIGN_OR_RETURN(std::optional<json::value> fresh, Materialize(value, depth + 1));
    if (fresh) {
      original.insert_or_assign(key, std::move(*fresh));
    } else {
      original.stable_erase(key);
    }
    return Ok();
  }
  if (value.is_object()) {
    KPP_ASSIGN_OR_RETURN(PatchMeta meta, Meta());
    if (meta.strategy == PatchMeta::Strategy::kReplace) live->get_object().clear();
    return MergeObject(live->get_object(), value.get_object(), depth + 1);
  }
  if (value.is_array()) {
    KPP_ASSIGN_OR_RETURN(PatchMeta meta, Meta());
    if (meta.strategy == PatchMeta::Strategy::kMerge) {
      return MergeList(live->get_array(), value.get_array(), meta, depth + 1);
    }
    KPP_ASSIGN_OR_RETURN(json::array fresh, MaterializeList(value.get_array(), depth + 1));
    *live = std::move(fresh);
    return Ok();
  }
  *live = value;
  return Ok();
}

// Merges the list `field` under the control of its "$setElementOrder/<field>" list `order` and
// stores the ordered result; false when there was nothing to merge or order. The final order puts
// the elements named by `order` in that order and places the others by the live list - as
// upstream sees the live list after its merge, where appended elements occupy the slots that
// deletions freed (MergeList reports that view).
Result<bool> Merger::MergeOrderedList(json::object& original, const json::object& patch,
                                      std::string_view field, const json::value& order,
                                      std::size_t depth) {
  FieldScope scope(path_, field);
  if (!order.is_array()) return Fail(ErrorCode::kBadRequest, kBadSetElementOrder);
  const json::value* live = original.if_contains(field);
  if (live != nullptr && live->is_null()) live = nullptr;
  if (live != nullptr && !live->is_array()) {
    return Fail(ErrorCode::kBadRequest,
                fmt::format("$setElementOrder names a field that is not a list: {}",
                            JsonForMessage(*live)));
  }
  const json::value* incoming = patch.if_contains(field);
  // A list deleted by the patch has nothing to order; the member loop deletes it.
  if (incoming != nullptr && incoming->is_null()) return false;
  if (incoming != nullptr && !incoming->is_array()) {
    return Fail(ErrorCode::kBadRequest,
                fmt::format("expected a list, found {}", JsonForMessage(*incoming)));
  }
  if (live == nullptr && incoming == nullptr) return false;

  KPP_ASSIGN_OR_RETURN(PatchMeta meta, Meta());
  const json::array no_elements;
  const json::array& live_list = live != nullptr ? live->get_array() : no_elements;
  const json::array& patch_list = incoming != nullptr ? incoming->get_array() : no_elements;
  KPP_ASSIGN_OR_RETURN(ElementKind kind, CommonElementKind({&live_list, &patch_list}));
  const std::string_view merge_key =
      kind == ElementKind::kObject ? std::string_view(meta.merge_key) : std::string_view();
  KPP_RETURN_IF_ERROR(ValidateOrder(patch_list, order.get_array(), merge_key));

  KeyIndex server_keys;
  for (const auto& item : live_list) {
    KPP_ASSIGN_OR_RETURN(json::value key, ElementKey(item, merge_key));
    server_keys.Add(key);
  }
  KeyIndex order_keys;
  for (const auto& item : order.get_array()) {
    KPP_ASSIGN_OR_RETURN(json::value key, ElementKey(item, merge_key));
    order_keys.Add(key);
  }

  json::array merged;
  if (incoming == nullptr) {
    merged = live_list;
  } else if (live != nullptr && meta.strategy == PatchMeta::Strategy::kMerge) {
    merged = live_list;
    KPP_RETURN_IF_ERROR(MergeList(merged, patch_list, meta, depth + 1, &server_keys));
  } else {
    KPP_ASSIGN_OR_RETURN(merged, MaterializeList(patch_list, depth + 1));
  }
  if (kind != ElementKind::kNone) {
    KPP_ASSIGN_OR_RETURN(merged, Order(std::move(merged), merge_key, order_keys, server_keys));
  }
  original.insert_or_assign(field, std::move(merged));
  return true;
}

// Every element of the patch list (deletions and other directives aside) must appear in the
// $setElementOrder list, in the same relative order.
Status Merger::ValidateOrder(const json::array& patch_list, const json::array& order,
                             std::string_view merge_key) const {
  if (patch_list.empty() || order.empty()) return Ok();
  std::vector<const json::value*> elements;
  for (const auto& item : patch_list) {
    if (!DirectiveOf(item).empty()) continue;
    elements.push_back(&item);
  }
  std::size_t in_patch = 0;
  for (std::size_t in_order = 0; in_patch < elements.size() && in_order < order.size();
       ++in_order) {
    KPP_ASSIGN_OR_RETURN(json::value patch_key, ElementKey(*elements[in_patch], merge_key));
    KPP_ASSIGN_OR_RETURN(json::value order_key, ElementKey(order[in_order], merge_key));
    if (JsonEqual(patch_key, order_key)) ++in_patch;
  }
  if (in_patch < elements.size()) {
    return Fail(
        ErrorCode::kBadRequest,
        fmt::format("the order in patch list: {} doesn't match $setElementOrder list: {}",
                    JsonForMessage(json::value(patch_list)), JsonForMessage(json::value(order))));
  }
  return Ok();
}

Status Merger::DeleteFromPrimitiveList(json::object& original, std::string_view key,
                                       const json::value& values) {
  KPP_ASSIGN_OR_RETURN(std::string_view field,
                       FieldOfDirective(key, kDeleteFromPrimitiveListPrefix, kBadPrimitiveList));
  if (values.is_null()) {
    // Upstream treats a null deletion list like a null list: the list goes.
    original.stable_erase(field);
    return Ok();
  }
  FieldScope scope(path_, field);
  if (!values.is_array()) return Fail(ErrorCode::kBadRequest, kBadPrimitiveList);
  KeyIndex doomed;
  for (const auto& item : values.get_array()) {
    if (item.is_object() || item.is_array()) return Fail(ErrorCode::kBadRequest, kBadPrimitiveList);
    doomed.Add(item);
  }
  json::value* live = original.if_contains(field);
  if (live == nullptr || !live->is_array()) return Ok();
  json::array kept;
  for (auto& item : live->get_array()) {
    if (!doomed.Contains(item)) kept.push_back(std::move(item));
  }
  *live = std::move(kept);
  return Ok();
}

Status Merger::MergeList(json::array& original, const json::array& patch, const PatchMeta& meta,
                         std::size_t depth, KeyIndex* live_order_seen_by_ordering) {
  KPP_RETURN_IF_ERROR(CheckDepth(depth));
  if (original.empty() && patch.empty()) return Ok();
  KPP_ASSIGN_OR_RETURN(ElementKind kind, CommonElementKind({&original, &patch}));

  if (kind != ElementKind::kObject) {
    // A set of scalars: the union, without duplicates.
    KeyIndex server_keys;
    KeyIndex order_keys;
    KeyIndex seen;
    json::array merged;
    for (const auto& item : original) {
      server_keys.Add(item);
      if (!seen.Contains(item)) merged.push_back(item);
      seen.Add(item);
    }
    for (const auto& item : patch) {
      order_keys.Add(item);
      if (!seen.Contains(item)) merged.push_back(item);
      seen.Add(item);
    }
    KPP_ASSIGN_OR_RETURN(original, Order(std::move(merged), {}, order_keys, server_keys));
    return Ok();
  }

  const std::string& merge_key = meta.merge_key;
  if (merge_key.empty()) {
    return Fail(ErrorCode::kInternalError,
                "the schema asks to merge this list of objects but names no merge key");
  }
  bool replace = false;
  KeyIndex doomed_keys;
  std::vector<const json::object*> elements;
  for (const auto& item : patch) {
    const json::object& object = item.get_object();
    const json::value* directive = object.if_contains(kDirectiveMarker);
    if (directive == nullptr) {
      elements.push_back(&object);
      continue;
    }
    const std::string_view name = directive->is_string() ? View(directive->get_string()) : "";
    if (name == "delete") {
      const json::value* doomed = object.if_contains(merge_key);
      if (doomed == nullptr) {
        return Fail(ErrorCode::kBadRequest, NoMergeKeyMessage(item, merge_key));
      }
      doomed_keys.Add(*doomed);
    } else if (name == "replace") {
      replace = true;  // the other directives are still checked
    } else if (name == "merge") {
      return Fail(ErrorCode::kBadRequest, "merging lists cannot yet be specified in the patch");
    } else {
      return Fail(ErrorCode::kBadRequest,
                  fmt::format("unknown patch type: {} in map: {}", JsonForMessage(*directive),
                              JsonForMessage(item)));
    }
  }
  const std::size_t live_count = original.size();
  if (doomed_keys.size() != 0) {
    json::array kept;
    for (auto& live : original) {
      const json::value* key = live.get_object().if_contains(merge_key);
      if (key == nullptr || !doomed_keys.Contains(*key)) kept.push_back(std::move(live));
    }
    original = std::move(kept);
  }
  if (replace) {
    if (live_order_seen_by_ordering != nullptr) {
      // What upstream orders against afterwards: the live list minus the deletions.
      *live_order_seen_by_ordering = KeyIndex();
      for (const auto& item : original) {
        KPP_ASSIGN_OR_RETURN(json::value key, ElementKey(item, merge_key));
        live_order_seen_by_ordering->Add(key);
      }
    }
    json::array replaced;
    for (const json::object* object : elements) {
      json::object fresh;
      KPP_RETURN_IF_ERROR(MergeObject(fresh, *object, depth + 1));
      replaced.push_back(std::move(fresh));
    }
    original = std::move(replaced);
    return Ok();
  }

  KeyIndex server_keys;
  for (const auto& item : original) {
    KPP_ASSIGN_OR_RETURN(json::value key, ElementKey(item, merge_key));
    server_keys.Add(key);
  }
  // Elements appended below join the candidates, so that later patch elements with the same key
  // merge into them (as upstream), but not the live order.
  KeyIndex known_keys = server_keys;
  KeyIndex order_keys;
  // Upstream's $setElementOrder handling then orders against the live list as this merge left it
  // in memory: Go slices share their backing array, so the slots freed by deletions hold the
  // first appended elements. Upstream's own expected results depend on it, so we reproduce it.
  const std::size_t deleted = live_count - original.size();
  std::size_t appended = 0;
  if (live_order_seen_by_ordering != nullptr) *live_order_seen_by_ordering = server_keys;
  for (const json::object* object : elements) {
    const json::value* key = object->if_contains(merge_key);
    if (key == nullptr) {
      return Fail(ErrorCode::kBadRequest, NoMergeKeyMessage(json::value(*object), merge_key));
    }
    order_keys.Add(*key);
    const std::size_t match = known_keys.Find(*key);
    if (match != kNotFound) {
      KPP_RETURN_IF_ERROR(MergeObject(original[match].get_object(), *object, depth + 1));
    } else {
      json::object fresh;
      KPP_RETURN_IF_ERROR(MergeObject(fresh, *object, depth + 1));
      original.push_back(std::move(fresh));
      known_keys.Add(*key);
      if (live_order_seen_by_ordering != nullptr && appended < deleted) {
        live_order_seen_by_ordering->Add(*key);
      }
      ++appended;
    }
  }
  KPP_ASSIGN_OR_RETURN(original, Order(std::move(original), merge_key, order_keys, server_keys));
  return Ok();
}

// Upstream's ordering of a merged list: the elements named by `order_keys` (the patch list, or
// $setElementOrder) in that order, interleaved with the others in the order of the live list
// (`server_keys`); where both kinds of element were in the live list, the live order decides.
Result<json::array> Merger::Order(json::array merged, std::string_view merge_key,
                                  const KeyIndex& order_keys, const KeyIndex& server_keys) const {
  struct Item {
    json::value value;
    std::size_t order_index;
    std::size_t server_index;
  };
  std::vector<Item> ordered;
  std::vector<Item> server_only;
  for (auto& element : merged) {
    KPP_ASSIGN_OR_RETURN(json::value key, ElementKey(element, merge_key));
    Item item{std::move(element), order_keys.Find(key), server_keys.Find(key)};
    (item.order_index != kNotFound ? ordered : server_only).push_back(std::move(item));
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Item& a, const Item& b) { return a.order_index < b.order_index; });
  std::stable_sort(server_only.begin(), server_only.end(),
                   [](const Item& a, const Item& b) { return a.server_index < b.server_index; });
  json::array result;
  result.reserve(ordered.size() + server_only.size());
  std::size_t left = 0;
  std::size_t right = 0;
  while (left < server_only.size() || right < ordered.size()) {
    bool take_server_only;
    if (right == ordered.size()) {
      take_server_only = true;
    } else if (left == server_only.size()) {
      take_server_only = false;
    } else {
      const Item& l = server_only[left];
      const Item& r = ordered[right];
      take_server_only = l.server_index != kNotFound && r.server_index != kNotFound &&
                         l.server_index < r.server_index;
    }
    result.push_back(
        std::move(take_server_only ? server_only[left++].value : ordered[right++].value));
  }
  return result;
}

// The value a patch value stands for where there is nothing to merge it with: directives
// applied to nothing and null members dropped. nullopt when the value deletes itself.
Result<std::optional<json::value>> Merger::Materialize(const json::value& patch,
                                                       std::size_t depth) {
  KPP_RETURN_IF_ERROR(CheckDepth(depth));
  if (patch.is_object()) {
    if (DirectiveOf(patch) == "delete") return std::optional<json::value>();
    json::object fresh;
    KPP_RETURN_IF_ERROR(MergeObject(fresh, patch.get_object(), depth));
    return std::optional<json::value>(std::move(fresh));
  }
  if (patch.is_array()) {
    KPP_ASSIGN_OR_RETURN(json::array list, MaterializeList(patch.get_array(), depth));
    return std::optional<json::value>(std::move(list));
  }
  return std::optional<json::value>(patch);
}

Result<json::array> Merger::MaterializeList(const json::array& patch, std::size_t depth) {
  KPP_RETURN_IF_ERROR(CheckDepth(depth));
  json::array list;
  for (const auto& item : patch) {
    // Directive elements ({"$patch": ...}) have nothing to act on in a list taken as is.
    if (!DirectiveOf(item).empty()) continue;
    KPP_ASSIGN_OR_RETURN(std::optional<json::value> fresh, Materialize(item, depth + 1));
    if (fresh) list.push_back(std::move(*fresh));
  }
  return list;
}

}  // namespace

Result<json::value> ApplyStrategicMergePatch(json::value original, const json::value& patch,
                                             const PatchMetaLookup& schema) {
  if (!patch.is_object()) {
    return BadRequestError(fmt::format("a strategic merge patch must be a JSON object, not {}",
                                       JsonForMessage(patch)));
  }
  if (original.is_null()) original = json::object();
  if (!original.is_object()) {
    return BadRequestError(fmt::format("a strategic merge patch applies to a JSON object, not {}",
                                       JsonForMessage(original)));
  }
  Merger merger(schema);
  KPP_RETURN_IF_ERROR(merger.MergeObject(original.get_object(), patch.get_object(), 1));
  return original;
}

}  // namespace kpp::patch
