// Helpers shared by the schema tests: exact round trips against upstream JSON, defaulting, and
// lookups in the generated kind table.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/protobuf.h"

namespace kpp::api::testing {

// Decodes `json` strictly and expects encoding to give back exactly the same bytes, directly and
// after a trip through protobuf.
// `json_through_protobuf`, when given, is what protobuf keeps where it cannot say as much as JSON
// (an empty list that is not nil, apiVersion/kind of embedded objects), as upstream's loses it.
template <typename T>
void ExpectRoundTrip(const std::string& json, const std::string& json_through_protobuf = "") {
  auto decoded = FromJson<T>(json, {.unknown_fields = UnknownFields::kReject});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(ToJson(decoded->object), json);
  // The same object through the protobuf encoding keeps every field.
  protobuf::Writer writer;
  EncodeProto(decoded->object, writer);
  protobuf::Reader reader(writer.data());
  T through_protobuf;
  DecodeProto(reader, through_protobuf);
  ASSERT_FALSE(reader.failed()) << reader.error()->message();
  if constexpr (requires { through_protobuf.kind; }) {
    // apiVersion and kind travel in the envelope, not in the message.
    through_protobuf.kind = decoded->object.kind;
    through_protobuf.api_version = decoded->object.api_version;
  }
  EXPECT_EQ(ToJson(through_protobuf), json_through_protobuf.empty() ? json : json_through_protobuf)
      << "through protobuf";
}

// `json` decoded strictly, defaulted and encoded again; empty (and a test failure) when it does
// not decode.
template <typename T>
std::string Defaulted(const std::string& json) {
  auto decoded = FromJson<T>(json, {.unknown_fields = UnknownFields::kReject});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  if (!decoded.ok()) return "";
  SetDefaults(decoded->object);
  return ToJson(decoded->object);
}

// The kind table's row for a group and kind, or nullptr.
inline const KindInfo* FindKind(std::string_view group, std::string_view kind) {
  for (const auto& info : AllKinds()) {
    if (info.group == group && info.kind == kind) return &info;
  }
  return nullptr;
}

}  // namespace kpp::api::testing
