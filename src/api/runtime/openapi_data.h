// The OpenAPI v2 `definitions` object for every API type, generated from the schema.
#pragma once

#include <string_view>

namespace kpp::api {

// A JSON object mapping definition names (io.k8s.api.core.v1.Pod, ...) to their schemas, with
// references of the form "#/definitions/<name>". Static; thread-safe.
std::string_view OpenApiV2Definitions();

}  // namespace kpp::api
