#include "apimachinery/patch/merge_patch.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <utility>

#include "apimachinery/patch/json_util.h"

namespace kpp::patch {
namespace json = boost::json;

namespace {

Error TooDeep() {
  return BadRequestError(
      fmt::format("the merge patch is nested deeper than {} levels", kMaxJsonDepth));
}

Status MergeInto(json::value& target, const json::value& patch, std::size_t depth) {
  if (!patch.is_object()) {
    target = patch;
    return Ok();
  }
  if (depth > kMaxJsonDepth) return TooDeep();
  if (!target.is_object()) target = json::object();
  json::object& object = target.get_object();
  for (const auto& member : patch.get_object()) {
    if (member.value().is_null()) {
      object.stable_erase(member.key());
      continue;
    }
    if (!member.value().is_object()) {
      object.insert_or_assign(member.key(), member.value());
      continue;
    }
    json::value& slot = object[member.key()];
    KPP_RETURN_IF_ERROR(MergeInto(slot, member.value(), depth + 1));
  }
  return Ok();
}

Result<json::value> Diff(const json::value& original, const json::value& modified,
                         std::size_t depth) {
  if (!original.is_object() || !modified.is_object()) return modified;
  if (depth > kMaxJsonDepth) return TooDeep();
  const json::object& before = original.get_object();
  const json::object& after = modified.get_object();
  json::object patch;
  for (const auto& member : before) {
    if (!after.contains(member.key())) patch[member.key()] = nullptr;
  }
  for (const auto& member : after) {
    const json::value* old_value = before.if_contains(member.key());
    if (old_value == nullptr) {
      patch[member.key()] = member.value();
      continue;
    }
    if (old_value->is_object() && member.value().is_object()) {
      KPP_ASSIGN_OR_RETURN(json::value nested, Diff(*old_value, member.value(), depth + 1));
      if (!nested.get_object().empty()) patch[member.key()] = std::move(nested);
      continue;
    }
    if (!JsonEqual(*old_value, member.value())) patch[member.key()] = member.value();
  }
  return json::value(std::move(patch));
}

}  // namespace

Result<json::value> ApplyMergePatch(json::value target, const json::value& patch) {
  KPP_RETURN_IF_ERROR(MergeInto(target, patch, 1));
  return target;
}

Result<json::value> CreateMergePatch(const json::value& original, const json::value& modified) {
  return Diff(original, modified, 1);
}

}  // namespace kpp::patch
