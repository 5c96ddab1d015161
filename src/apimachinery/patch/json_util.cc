#include "apimachinery/patch/json_util.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <utility>
#include <vector>

namespace kpp::patch {
namespace json = boost::json;

Result<json::value> ParseJson(std::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value value =
      json::parse(json::string_view(text.data(), text.size()), ec, json::storage_ptr(), options);
  if (ec) return BadRequestError(fmt::format("invalid JSON: {}", ec.message()));
  // Numbers beyond the range of a double parse as infinity, which no JSON can carry back; Go
  // refuses them.
  std::vector<const json::value*> pending = {&value};
  while (!pending.empty()) {
    const json::value* current = pending.back();
    pending.pop_back();
    if (const auto* object = current->if_object()) {
      for (const auto& member : *object)
        pending.push_back(&member.value());
    } else if (const auto* array = current->if_array()) {
      for (const auto& element : *array)
        pending.push_back(&element);
    } else if (current->is_double() && !std::isfinite(current->get_double())) {
      return BadRequestError(
          "json: cannot unmarshal number out of range into Go value of type float64");
    }
  }
  return value;
}

Result<json::value> ParseObjectPatch(std::string_view text) {
  KPP_ASSIGN_OR_RETURN(json::value value, ParseJson(text));
  if (!value.is_object()) {
    return BadRequestError(
        fmt::format("the patch must be a JSON object, not {}", JsonForMessage(value)));
  }
  return value;
}

namespace {

bool NumbersEqual(const json::value& a, const json::value& b) {
  // long double holds every int64 and uint64 exactly on the platforms we build for, so mixed
  // comparisons are exact; same-kind comparisons avoid the conversion altogether.
  if (a.kind() == b.kind()) {
    switch (a.kind()) {
      case json::kind::int64: return a.get_int64() == b.get_int64();
      case json::kind::uint64: return a.get_uint64() == b.get_uint64();
      default: return a.get_double() == b.get_double();
    }
  }
  auto as_long_double = [](const json::value& v) -> long double {
    switch (v.kind()) {
      case json::kind::int64: return static_cast<long double>(v.get_int64());
      case json::kind::uint64: return static_cast<long double>(v.get_uint64());
      default: return static_cast<long double>(v.get_double());
    }
  };
  return as_long_double(a) == as_long_double(b);
}

}  // namespace

bool JsonEqual(const json::value& a, const json::value& b) {
  // Scalars (most calls: merge keys, list items) need no work list.
  const bool a_scalar = !a.is_structured();
  const bool b_scalar = !b.is_structured();
  if (a_scalar || b_scalar) {
    if (a_scalar != b_scalar) return false;
    if (a.is_number() && b.is_number()) return NumbersEqual(a, b);
    return a == b;
  }
  std::vector<std::pair<const json::value*, const json::value*>> pending{{&a, &b}};
  while (!pending.empty()) {
    auto [left, right] = pending.back();
    pending.pop_back();
    if (left->is_number() && right->is_number()) {
      if (!NumbersEqual(*left, *right)) return false;
      continue;
    }
    if (left->kind() != right->kind()) return false;
    switch (left->kind()) {
      case json::kind::null: break;
      case json::kind::bool_:
        if (left->get_bool() != right->get_bool()) return false;
        break;
      case json::kind::string:
        if (left->get_string() != right->get_string()) return false;
        break;
      case json::kind::array: {
        const json::array& l = left->get_array();
        const json::array& r = right->get_array();
        if (l.size() != r.size()) return false;
        for (std::size_t i = 0; i < l.size(); ++i)
          pending.emplace_back(&l[i], &r[i]);
        break;
      }
      case json::kind::object: {
        const json::object& l = left->get_object();
        const json::object& r = right->get_object();
        if (l.size() != r.size()) return false;
        for (const auto& member : l) {
          const json::value* other = r.if_contains(member.key());
          if (other == nullptr) return false;
          pending.emplace_back(&member.value(), other);
        }
        break;
      }
      default: break;  // numbers were handled above
    }
  }
  return true;
}

std::size_t JsonDepth(const json::value& value, std::size_t limit) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json::value*, std::size_t>> pending{{&value, 0}};
  while (!pending.empty()) {
    auto [current, depth] = pending.back();
    pending.pop_back();
    if (current->is_array()) {
      ++depth;
      if (depth > limit) return limit + 1;
      for (const auto& item : current->get_array())
        pending.emplace_back(&item, depth);
    } else if (current->is_object()) {
      ++depth;
      if (depth > limit) return limit + 1;
      for (const auto& member : current->get_object()) {
        pending.emplace_back(&member.value(), depth);
      }
    }
    if (depth > deepest) deepest = depth;
  }
  return deepest;
}

std::size_t JsonValueCount(const json::value& value) {
  std::size_t count = 0;
  std::vector<const json::value*> pending{&value};
  while (!pending.empty()) {
    const json::value* current = pending.back();
    pending.pop_back();
    ++count;
    if (current->is_array()) {
      for (const auto& item : current->get_array())
        pending.push_back(&item);
    } else if (current->is_object()) {
      for (const auto& member : current->get_object())
        pending.push_back(&member.value());
    }
  }
  return count;
}

std::string JsonForMessage(const json::value& value, std::size_t max_chars) {
  std::string text = json::serialize(value);
  if (text.size() > max_chars) {
    text.resize(max_chars);
    text += "...";
  }
  return text;
}

}  // namespace kpp::patch
