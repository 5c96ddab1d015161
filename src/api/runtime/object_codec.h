// Whole-object JSON encoding and decoding for any generated API type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/runtime/codec.h"
#include "api/runtime/duplicate_keys.h"
#include "api/runtime/json_document.h"
#include "base/result.h"

namespace kpp::api {

// How to treat fields the schema does not know (upstream's fieldValidation).
enum class UnknownFields { kIgnore, kCollect, kReject };

struct DecodeOptions {
  UnknownFields unknown_fields = UnknownFields::kIgnore;
  // Bounds nesting so hostile input cannot exhaust the stack.
  unsigned max_depth = 200;
};

template <typename T>
struct Decoded {
  T object;
  // Paths of fields the schema does not know ("spec.containers[0].foo"), when collected.
  std::vector<std::string> unknown_fields;
  // Paths of keys that appear more than once in one object (the last one wins), when collected.
  std::vector<std::string> duplicate_fields;
};

// Serializes `object` as upstream does (field order, omitempty, formats).
template <typename T>
std::string ToJson(const T& object) {
  runtime::JsonWriter writer;
  Encode(object, writer);
  return std::move(writer).str();
}

// Parses `json` into T. BadRequest for malformed JSON or a type mismatch (with upstream's
// message); with kReject, BadRequest naming the unknown fields as upstream's strict decoding
// does: `strict decoding error: unknown field "spec.foo"`.
template <typename T>
Result<Decoded<T>> FromJson(std::string_view json, const DecodeOptions& options = {}) {
  // The document lives only during the decode (the object copies what it keeps), so it comes
  // from a monotonic arena: no allocation for a typical object instead of one per value.
  runtime::ScratchArena arena(json.size());
  auto document = runtime::ParseJsonDocument(json, options.max_depth, arena.storage());
  if (!document.ok()) return document.error();
  runtime::DecodeContext ctx;
  Decoded<T> result;
  Decode(document->value, result.object, ctx);
  if (ctx.failed()) return *ctx.error();
  if (options.unknown_fields != UnknownFields::kIgnore) {
    result.unknown_fields = ctx.unknown_fields();
    if (document->has_duplicate_keys) {
      result.duplicate_fields = runtime::FindDuplicateKeys(json, options.max_depth);
    }
  }
  if (options.unknown_fields == UnknownFields::kReject &&
      (!result.unknown_fields.empty() || !result.duplicate_fields.empty())) {
    std::string message = "strict decoding error: ";
    bool first = true;
    for (const auto* fields : {&result.unknown_fields, &result.duplicate_fields}) {
      const char* what = fields == &result.unknown_fields ? "unknown" : "duplicate";
      for (const auto& field : *fields) {
        if (!first) message += ", ";
        first = false;
        message += std::string(what) + " field \"" + field + "\"";
      }
    }
    return Error(ErrorCode::kBadRequest, std::move(message));
  }
  return result;
}

// Parses T from a document already parsed, as FromJson with the default options: a watch
// client parses each event to read its type, and decoding the event's object from that tree
// spares serializing it and parsing it again.
template <typename T>
Result<T> FromParsedJson(const boost::json::value& json) {
  runtime::DecodeContext ctx;
  T object;
  Decode(json, object, ctx);
  if (ctx.failed()) return *ctx.error();
  return object;
}

}  // namespace kpp::api
