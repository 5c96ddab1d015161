// Protobuf request bodies (application/vnd.kubernetes.protobuf): the "k8s\0" envelope and the
// message of the kind it names. Unwrapping and decoding must fail with an error or succeed; what
// succeeds must encode to protobuf that decodes to the same object, and to JSON that decodes.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "check.h"
#include "kind_choice.h"

namespace {

using kpp::fuzz::Check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto envelope = kpp::api::protobuf::Unwrap(body);
  if (!envelope.ok()) return 0;
  const kpp::api::KindInfo& kind = kpp::fuzz::ChooseKind(envelope->api_version, envelope->kind);
  auto decoded = kind.codec->DecodeProtobuf(envelope->message);
  if (!decoded.ok()) return 0;

  const std::string message = (*decoded)->ToProtobufMessage();
  auto again = kind.codec->DecodeProtobuf(message);
  Check(again.ok(), "the protobuf encoding does not decode",
        again.ok() ? std::string_view() : again.error().message());
  Check((*again)->ToProtobufMessage() == message, "encode(decode(encode(x))) != encode(x)", "");

  const std::string json = (*decoded)->ToJson();
  auto from_json = kind.codec->Decode(json, {.unknown_fields = kpp::api::UnknownFields::kReject});
  Check(from_json.ok(), "the JSON encoding does not decode strictly",
        json + "\n" + (from_json.ok() ? "" : from_json.error().message()));
  return 0;
}
