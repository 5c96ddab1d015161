// JSON helpers shared by the three patch formats (JSON Patch, JSON Merge Patch, strategic merge
// patch): bounded parsing, JSON equality and nesting depth.
//
// All functions are pure and thread-safe; none keeps references to its arguments.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::patch {

// The deepest nesting of objects and arrays a patch input or a patch result may have. Patching
// recurses along the nesting, so this bound is what keeps a hostile request from exhausting the
// stack; real API objects (even CRDs with large embedded schemas) stay far below it.
inline constexpr std::size_t kMaxJsonDepth = 100;

// Parses `text` as exactly one JSON value, nesting limited to kMaxJsonDepth.
// Errors: kBadRequest naming the parse failure.
Result<boost::json::value> ParseJson(std::string_view text);

// Parses a merge patch or strategic merge patch body, which must be a JSON object.
// Errors: kBadRequest when `text` is not JSON or not an object.
Result<boost::json::value> ParseObjectPatch(std::string_view text);

// Equality as JSON defines it: object members compare regardless of order and numbers by value
// (1, 1.0 and 1u are equal). Iterative, so any nesting depth is safe.
bool JsonEqual(const boost::json::value& a, const boost::json::value& b);

// Nesting depth: 0 for a scalar, 1 for a container of scalars (or an empty one), and so on.
// Counting stops at `limit` + 1, so the cost is bounded for arbitrarily deep values.
std::size_t JsonDepth(const boost::json::value& value, std::size_t limit = kMaxJsonDepth);

// Number of values in `value` including itself (a measure of what copying it costs).
std::size_t JsonValueCount(const boost::json::value& value);

// Compact JSON text of `value`, cut to at most `max_chars` characters (with "..." appended when
// cut), for error messages.
std::string JsonForMessage(const boost::json::value& value, std::size_t max_chars = 120);

}  // namespace kpp::patch
