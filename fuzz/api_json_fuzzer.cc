// Typed JSON decoding of every kind: the input is a request body. Decoding (lenient and strict)
// must fail with an error or succeed; what succeeds must encode to JSON that decodes again
// (strictly: the encoder writes no field the decoder does not know) and encodes to the same
// bytes; defaulting, validation and the protobuf form must hold up on it too.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/runtime/object.h"
#include "check.h"
#include "kind_choice.h"

namespace {

using kpp::fuzz::Check;

// apiVersion and kind of the body, when it is an object that names them.
std::pair<std::string, std::string> TypeMetaOf(std::string_view body) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 200;
  const boost::json::value value = boost::json::parse(body, ec, {}, options);
  std::pair<std::string, std::string> type_meta;
  if (ec || !value.is_object()) return type_meta;
  const auto& object = value.get_object();
  if (const auto* v = object.if_contains("apiVersion"); v && v->is_string()) {
    type_meta.first = v->get_string();
  }
  if (const auto* k = object.if_contains("kind"); k && k->is_string()) {
    type_meta.second = k->get_string();
  }
  return type_meta;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto [api_version, kind_name] = TypeMetaOf(body);
  const kpp::api::KindInfo& kind = kpp::fuzz::ChooseKind(api_version, kind_name);
  const kpp::api::KindCodec& codec = *kind.codec;

  auto lenient = codec.Decode(body, {.unknown_fields = kpp::api::UnknownFields::kCollect});
  auto strict = codec.Decode(body, {.unknown_fields = kpp::api::UnknownFields::kReject});
  Check(!strict.ok() || lenient.ok(), "strict decoding accepted what lenient decoding refused",
        body);
  if (!lenient.ok()) return 0;
  if (strict.ok()) {
    Check(lenient->unknown_fields.empty() && lenient->duplicate_fields.empty(),
          "strict decoding accepted unknown or duplicate fields", body);
  }

  kpp::api::Object& object = *lenient->object;
  const std::string encoded = object.ToJson();
  auto again = codec.Decode(encoded, {.unknown_fields = kpp::api::UnknownFields::kReject});
  Check(again.ok(), "the encoding does not decode strictly",
        encoded + "\n" + (again.ok() ? "" : again.error().message()));
  Check(again->object->ToJson() == encoded, "encode(decode(encode(x))) != encode(x)", encoded);

  const std::string message = object.ToProtobufMessage();
  auto from_protobuf = codec.DecodeProtobuf(message);
  Check(from_protobuf.ok(), "the protobuf encoding does not decode",
        encoded + "\n" + (from_protobuf.ok() ? "" : from_protobuf.error().message()));

  object.SetDefaults();
  (void)object.ValidateFields();
  const std::string defaulted = object.ToJson();
  auto defaulted_again =
      codec.Decode(defaulted, {.unknown_fields = kpp::api::UnknownFields::kReject});
  Check(defaulted_again.ok(), "the defaulted object's encoding does not decode", defaulted);
  return 0;
}
