#include "api/runtime/codec.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <limits>

#include "apimachinery/intstr/duration.h"
#include "base/encoding.h"

namespace kpp::api::runtime {

std::string DecodeContext::Path() const {
  std::string path;
  for (const auto& step : steps_) {
    switch (step.kind) {
      case Step::Kind::kField:
        if (!path.empty()) path += '.';
        path += step.key;
        break;
      case Step::Kind::kIndex:
        path += '[';
        path += std::to_string(step.index);
        path += ']';
        break;
      case Step::Kind::kKey:
        path += '[';
        path += step.key;
        path += ']';
        break;
    }
  }
  return path;
}

void DecodeContext::UnknownField(std::string_view key) {
  std::string path = Path();
  if (!path.empty()) path += '.';
  path += key;
  unknown_fields_.push_back(std::move(path));
}

void DecodeContext::TypeError(std::string_view what, std::string_view go_type) {
  if (failed()) return;
  // Go names the innermost struct and the dotted path of field names from the root.
  std::string_view go_struct;
  std::string path;
  for (const auto& step : steps_) {
    if (step.kind != Step::Kind::kField) continue;
    go_struct = step.go_struct;
    if (!path.empty()) path += '.';
    path += step.key;
  }
  std::string message;
  if (path.empty()) {
    message = fmt::format("json: cannot unmarshal {} into Go value of type {}", what, go_type);
  } else {
    message = fmt::format("json: cannot unmarshal {} into Go struct field {}.{} of type {}", what,
                          go_struct, path, go_type);
  }
  error_ = Error(ErrorCode::kBadRequest, std::move(message));
}

void DecodeContext::Fail(Error error) {
  if (!failed()) error_ = std::move(error);
}

std::string_view JsonKind(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::string: return "string";
    case boost::json::kind::bool_: return "bool";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
    case boost::json::kind::null: return "null";
    default: return "number";
  }
}

namespace {

std::string NumberText(const boost::json::value& value) {
  return "number " + boost::json::serialize(value);
}

template <typename Int>
void DecodeInteger(const boost::json::value& in, Int& out, DecodeContext& ctx,
                   std::string_view go_type) {
  if (in.is_null()) return;
  if (in.is_int64()) {
    const int64_t v = in.get_int64();
    if (v >= std::numeric_limits<Int>::min() && v <= std::numeric_limits<Int>::max()) {
      out = static_cast<Int>(v);
      return;
    }
    return ctx.TypeError(NumberText(in), go_type);
  }
  if (in.is_uint64() || in.is_double()) return ctx.TypeError(NumberText(in), go_type);
  ctx.TypeError(JsonKind(in), go_type);
}

}  // namespace

void DecodeString(const boost::json::value& in, std::string& out, DecodeContext& ctx,
                  std::string_view go_type) {
  if (in.is_null()) return;
  if (!in.is_string()) return ctx.TypeError(JsonKind(in), go_type);
  out.assign(in.get_string().data(), in.get_string().size());
}

void DecodeBool(const boost::json::value& in, bool& out, DecodeContext& ctx) {
  if (in.is_null()) return;
  if (!in.is_bool()) return ctx.TypeError(JsonKind(in), "bool");
  out = in.get_bool();
}

void DecodeInt32(const boost::json::value& in, int32_t& out, DecodeContext& ctx) {
  DecodeInteger(in, out, ctx, "int32");
}

void DecodeInt64(const boost::json::value& in, int64_t& out, DecodeContext& ctx) {
  DecodeInteger(in, out, ctx, "int64");
}

void DecodeDouble(const boost::json::value& in, double& out, DecodeContext& ctx) {
  if (in.is_null()) return;
  if (in.is_double()) {
    out = in.get_double();
  } else if (in.is_int64()) {
    out = static_cast<double>(in.get_int64());
  } else if (in.is_uint64()) {
    out = static_cast<double>(in.get_uint64());
  } else {
    ctx.TypeError(JsonKind(in), "float64");
  }
}

void DecodeBytes(const boost::json::value& in, std::string& out, DecodeContext& ctx) {
  if (in.is_null()) return;
  if (!in.is_string()) return ctx.TypeError(JsonKind(in), "[]uint8");
  auto decoded = Base64Decode(std::string_view(in.get_string().data(), in.get_string().size()));
  if (!decoded.ok()) {
    return ctx.Fail(Error(ErrorCode::kBadRequest, "illegal base64 data at input byte 0"));
  }
  out = std::move(decoded).value();
}

void DecodeDuration(const boost::json::value& in, std::string& out, DecodeContext& ctx) {
  if (in.is_null()) return;
  if (!in.is_string()) return ctx.TypeError(JsonKind(in), "v1.Duration");
  auto parsed =
      intstr::ParseDuration(std::string_view(in.get_string().data(), in.get_string().size()));
  if (!parsed.ok()) {
    // Go's error names no field; the path says which one of the object it was.
    const std::string path = ctx.Path();
    return ctx.Fail(Error(ErrorCode::kBadRequest, path.empty()
                                                      ? parsed.error().message()
                                                      : path + ": " + parsed.error().message()));
  }
  out = intstr::FormatDuration(*parsed);
}

void DecodeTime(const boost::json::value& in, Time& out, DecodeContext& ctx) {
  if (in.is_null()) {
    out = Time{};
    return;
  }
  if (!in.is_string()) return ctx.TypeError(JsonKind(in), "v1.Time");
  const std::string_view text(in.get_string().data(), in.get_string().size());
  if (text.empty()) {
    out = Time{};
    return;
  }
  auto parsed = Time::Parse(text);
  if (!parsed.ok()) return ctx.Fail(parsed.error());
  out = *parsed;
}

void DecodeMicroTime(const boost::json::value& in, MicroTime& out, DecodeContext& ctx) {
  if (in.is_null()) {
    out = MicroTime{};
    return;
  }
  if (!in.is_string()) return ctx.TypeError(JsonKind(in), "v1.MicroTime");
  const std::string_view text(in.get_string().data(), in.get_string().size());
  if (text.empty()) {
    out = MicroTime{};
    return;
  }
  auto parsed = MicroTime::Parse(text);
  if (!parsed.ok()) return ctx.Fail(parsed.error());
  out = *parsed;
}

void DecodeIntOrString(const boost::json::value& in, IntOrString& out, DecodeContext& ctx) {
  if (in.is_null()) return;
  if (in.is_string()) {
    out = IntOrString::FromString(std::string(in.get_string()));
    return;
  }
  int32_t value = 0;
  DecodeInteger(in, value, ctx, "int32");
  if (!ctx.failed()) out = IntOrString::FromInt(value);
}

void DecodeQuantity(const boost::json::value& in, Quantity& out, DecodeContext& ctx) {
  if (in.is_null()) return;
  std::string text;
  if (in.is_string()) {
    text = std::string(in.get_string());
  } else if (in.is_int64()) {
    // Upstream parses bare numbers as the text they are written in.
    text = std::to_string(in.get_int64());
  } else if (in.is_uint64()) {
    text = std::to_string(in.get_uint64());
  } else if (in.is_double()) {
    text = fmt::format("{}", in.get_double());
  } else {
    ctx.TypeError(JsonKind(in), "resource.Quantity");
    return;
  }
  auto canonical = CanonicalQuantity(text);
  if (!canonical.ok()) return ctx.Fail(canonical.error());
  out.text = *std::move(canonical);
}

void DecodeRawJson(const boost::json::value& in, RawJson& out, DecodeContext&) {
  out = in.is_null() ? RawJson() : RawJson(in);
}

const boost::json::object* ExpectObject(const boost::json::value& in, DecodeContext& ctx,
                                        std::string_view go_type) {
  if (in.is_null()) return nullptr;
  if (!in.is_object()) {
    ctx.TypeError(JsonKind(in), go_type);
    return nullptr;
  }
  return &in.get_object();
}

void EncodeTime(const Time& value, JsonWriter& out) {
  if (value.IsZero()) return out.Null();
  out.String(value.ToString());
}

void EncodeMicroTime(const MicroTime& value, JsonWriter& out) {
  if (value.IsZero()) return out.Null();
  out.String(value.ToString());
}

void EncodeIntOrString(const IntOrString& value, JsonWriter& out) {
  if (value.is_string) return out.String(value.string_value);
  out.Int(value.int_value);
}

void EncodeQuantity(const Quantity& value, JsonWriter& out) {
  out.String(value.text.empty() ? "0" : value.text);
}

void EncodeRawJson(const RawJson& value, JsonWriter& out) {
  if (value.IsZero()) return out.Null();
  out.Raw(value.Text());
}

void EncodeBytes(std::string_view value, JsonWriter& out) {
  out.String(Base64Encode(value));
}

}  // namespace kpp::api::runtime
