// What generated decoders and encoders are built from: a decode context that tracks the JSON path
// for error messages in upstream's wording, and helpers per scalar kind. Generated code only.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/runtime/box.h"
#include "api/runtime/json_writer.h"
#include "api/runtime/scalars.h"
#include "base/error.h"

namespace kpp::api::runtime {

// State of one decode: where we are (for messages), the first error, unknown fields seen.
// Not thread-safe; one per decode.
class DecodeContext {
 public:
  // A step into the document: a field of a Go struct, or an index into a list or a key of a map.
  // Keys are views into the document being decoded, which outlives the decode; keeping views
  // (not copies) makes entering a step free of allocations.
  struct Step {
    enum class Kind : uint8_t { kField, kIndex, kKey };
    std::string_view go_struct;  // empty for list/map steps
    std::string_view key;        // the field name or map key
    size_t index = 0;            // for kIndex
    Kind kind = Kind::kField;
  };

  DecodeContext() { steps_.reserve(32); }

  bool failed() const { return error_.has_value(); }
  const std::optional<Error>& error() const { return error_; }
  const std::vector<std::string>& unknown_fields() const { return unknown_fields_; }

  void EnterField(std::string_view go_struct, std::string_view key) {
    steps_.push_back({go_struct, key, 0, Step::Kind::kField});
  }
  // "[3]" in paths.
  void EnterIndex(size_t index) { steps_.push_back({{}, {}, index, Step::Kind::kIndex}); }
  // "[key]" in paths.
  void EnterKey(std::string_view key) { steps_.push_back({{}, key, 0, Step::Kind::kKey}); }
  void Leave() { steps_.pop_back(); }

  // Records `key` of the current object as unknown (reported as "spec.containers[0].foo").
  void UnknownField(std::string_view key);
  // The path of the current step, e.g. "spec.containers[0]".
  std::string Path() const;
  // Fails with upstream's message: "json: cannot unmarshal <what> into Go struct field
  // <Struct>.<path> of type <go_type>".
  void TypeError(std::string_view what, std::string_view go_type);
  void Fail(Error error);

 private:
  std::vector<Step> steps_;
  std::optional<Error> error_;
  std::vector<std::string> unknown_fields_;
};

// The JSON kind as Go names it in errors: "string", "number", "bool", "array", "object".
std::string_view JsonKind(const boost::json::value& value);

// Each returns normally on null (leaving `out` unchanged, as Go does for non-pointers) and records
// a type error in `ctx` on a mismatch.
void DecodeString(const boost::json::value& in, std::string& out, DecodeContext& ctx,
                  std::string_view go_type = "string");
void DecodeBool(const boost::json::value& in, bool& out, DecodeContext& ctx);
void DecodeInt32(const boost::json::value& in, int32_t& out, DecodeContext& ctx);
void DecodeInt64(const boost::json::value& in, int64_t& out, DecodeContext& ctx);
void DecodeDouble(const boost::json::value& in, double& out, DecodeContext& ctx);
void DecodeBytes(const boost::json::value& in, std::string& out, DecodeContext& ctx);
// A metav1.Duration: Go's time.ParseDuration text, kept in Go's canonical form ("90s" becomes
// "1m30s", as upstream re-encodes the time.Duration it decoded); bad text fails with Go's message
// after the field path ("window: time: invalid duration \"abc\"").
void DecodeDuration(const boost::json::value& in, std::string& out, DecodeContext& ctx);
void DecodeTime(const boost::json::value& in, Time& out, DecodeContext& ctx);
void DecodeMicroTime(const boost::json::value& in, MicroTime& out, DecodeContext& ctx);
void DecodeIntOrString(const boost::json::value& in, IntOrString& out, DecodeContext& ctx);
void DecodeQuantity(const boost::json::value& in, Quantity& out, DecodeContext& ctx);
void DecodeRawJson(const boost::json::value& in, RawJson& out, DecodeContext& ctx);

// The object to decode a struct from; nullptr on null (nothing to do) or on a type error.
const boost::json::object* ExpectObject(const boost::json::value& in, DecodeContext& ctx,
                                        std::string_view go_type);

template <typename T, typename DecodeElement>
void DecodeList(const boost::json::value& in, std::vector<T>& out, DecodeContext& ctx,
                std::string_view go_type, DecodeElement&& decode_element) {
  if (in.is_null()) {
    out.clear();
    return;
  }
  if (!in.is_array()) return ctx.TypeError(JsonKind(in), go_type);
  const auto& array = in.get_array();
  out.clear();
  out.resize(array.size());
  for (size_t i = 0; i < array.size() && !ctx.failed(); ++i) {
    ctx.EnterIndex(i);
    decode_element(array[i], out[i], ctx);
    ctx.Leave();
  }
}

template <typename T, typename DecodeElement>
void DecodeMap(const boost::json::value& in, std::map<std::string, T>& out, DecodeContext& ctx,
               std::string_view go_type, DecodeElement&& decode_element) {
  if (in.is_null()) {
    out.clear();
    return;
  }
  if (!in.is_object()) return ctx.TypeError(JsonKind(in), go_type);
  out.clear();
  for (const auto& [key, value] : in.get_object()) {
    if (ctx.failed()) return;
    ctx.EnterKey(key);
    // Go writes maps with sorted keys, so the end is where the next key usually goes.
    auto entry = out.try_emplace(out.end(), std::string(key.data(), key.size()));
    decode_element(value, entry->second, ctx);
    ctx.Leave();
  }
}

template <typename T, typename DecodeValue>
void DecodeOptional(const boost::json::value& in, std::optional<T>& out, DecodeContext& ctx,
                    DecodeValue&& decode_value) {
  if (in.is_null()) {
    out.reset();
    return;
  }
  out.emplace();
  decode_value(in, *out, ctx);
}

template <typename T, typename DecodeValue>
void DecodeOptional(const boost::json::value& in, Box<T>& out, DecodeContext& ctx,
                    DecodeValue&& decode_value) {
  if (in.is_null()) {
    out.reset();
    return;
  }
  out.emplace();
  decode_value(in, *out, ctx);
}

// Encoding of the scalar types, as upstream serializes them.
void EncodeTime(const Time& value, JsonWriter& out);
void EncodeMicroTime(const MicroTime& value, JsonWriter& out);
void EncodeIntOrString(const IntOrString& value, JsonWriter& out);
void EncodeQuantity(const Quantity& value, JsonWriter& out);
void EncodeRawJson(const RawJson& value, JsonWriter& out);
void EncodeBytes(std::string_view value, JsonWriter& out);

}  // namespace kpp::api::runtime
