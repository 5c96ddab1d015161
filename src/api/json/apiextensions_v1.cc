// The JSON forms of the schema unions of apiextensions.k8s.io/v1 (schema-or-array,
// schema-or-bool, schema-or-string-array), as upstream's marshal.go writes and reads them.
#include "api/apiextensions.k8s.io/v1/codec.h"

namespace kpp::api::apiextensions_k8s_io::v1 {
namespace {

using ::kpp::api::runtime::DecodeContext;
using ::kpp::api::runtime::JsonWriter;

// Upstream reads the inside of these unions with a second, lenient json.Unmarshal: fields it
// does not know are dropped there rather than reported, and its errors are reported as they are.
template <typename Decoder>
void DecodeLeniently(DecodeContext& ctx, Decoder&& decode) {
  DecodeContext inner;
  decode(inner);
  if (inner.failed()) ctx.Fail(*inner.error());
}

void DecodeSchemaList(const boost::json::value& in, std::vector<JSONSchemaProps>& out,
                      DecodeContext& ctx) {
  ::kpp::api::runtime::DecodeList(
      in, out, ctx, "[]v1.JSONSchemaProps",
      [](const boost::json::value& v, JSONSchemaProps& o, DecodeContext& c) { Decode(v, o, c); });
}

}  // namespace

// An array when it holds a tuple of schemas, else the single schema (null when there is none).
void Encode(const JSONSchemaPropsOrArray& in, JsonWriter& out) {
  if (!in.schemas.empty()) {
    out.BeginArray();
    for (const auto& schema : in.schemas)
      Encode(schema, out);
    return out.EndArray();
  }
  if (in.schema) return Encode(*in.schema, out);
  out.Null();
}

// An object is one schema, an array a tuple of schemas; anything else leaves it empty.
void Decode(const boost::json::value& in, JSONSchemaPropsOrArray& out, DecodeContext& ctx) {
  out = JSONSchemaPropsOrArray{};
  if (in.is_object()) {
    DecodeLeniently(ctx, [&](DecodeContext& inner) { Decode(in, out.schema.emplace(), inner); });
  } else if (in.is_array()) {
    DecodeLeniently(ctx, [&](DecodeContext& inner) { DecodeSchemaList(in, out.schemas, inner); });
  }
}

// The schema when there is one, else the boolean.
void Encode(const JSONSchemaPropsOrBool& in, JsonWriter& out) {
  if (in.schema) return Encode(*in.schema, out);
  out.Bool(in.allows);
}

// An object is a schema (which allows values); true and false say whether anything is allowed.
void Decode(const boost::json::value& in, JSONSchemaPropsOrBool& out, DecodeContext& ctx) {
  out = JSONSchemaPropsOrBool{};
  if (in.is_null()) return;
  if (in.is_object()) {
    out.allows = true;
    DecodeLeniently(ctx, [&](DecodeContext& inner) { Decode(in, out.schema.emplace(), inner); });
  } else if (in.is_bool()) {
    out.allows = in.get_bool();
  } else {
    ctx.Fail(Error(ErrorCode::kBadRequest, "boolean or JSON schema expected"));
  }
}

// The property names when there are any, else the schema, else null.
void Encode(const JSONSchemaPropsOrStringArray& in, JsonWriter& out) {
  if (!in.property.empty()) {
    out.BeginArray();
    for (const auto& name : in.property)
      out.String(name);
    return out.EndArray();
  }
  if (in.schema) return Encode(*in.schema, out);
  out.Null();
}

// An object is a schema, an array property names; anything else leaves it empty.
void Decode(const boost::json::value& in, JSONSchemaPropsOrStringArray& out, DecodeContext& ctx) {
  out = JSONSchemaPropsOrStringArray{};
  if (in.is_object()) {
    DecodeLeniently(ctx, [&](DecodeContext& inner) { Decode(in, out.schema.emplace(), inner); });
  } else if (in.is_array()) {
    DecodeLeniently(ctx, [&](DecodeContext& inner) {
      ::kpp::api::runtime::DecodeList(
          in, out.property, inner, "[]string",
          [](const boost::json::value& v, std::string& o, DecodeContext& c) {
            ::kpp::api::runtime::DecodeString(v, o, c);
          });
    });
  }
}

}  // namespace kpp::api::apiextensions_k8s_io::v1
