// /openapi/v2 in protobuf: the OpenAPI v2 document as gnostic's openapi.v2.Document message,
// which kubectl 1.27 and 1.28 ask for (Accept:
// application/com.github.proto-openapi.spec.v2@v1.0+protobuf) before explain and every
// validated create or apply. Built from the JSON document, so both always say the same.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace kpp::apiserver {

inline constexpr std::string_view kOpenApiV2ProtobufMediaType =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
// The same media type as newer clients spell it.
inline constexpr std::string_view kOpenApiV2ProtobufMediaTypeDotted =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

// Encodes a swagger 2.0 document (the subset our documents use: info, paths with operations and
// parameters, definitions with every JSON Schema keyword, x-* extensions).
std::string OpenApiV2ToProtobuf(const boost::json::object& document);

}  // namespace kpp::apiserver
