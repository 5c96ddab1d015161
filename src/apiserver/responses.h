// Building HTTP responses the way the API server answers: JSON bodies and Status objects.
#pragma once

#include <string>

#include "apimachinery/status.h"
#include "base/error.h"
#include "http/server.h"

namespace kpp::apiserver {

// A JSON response with upstream's headers.
http::Response JsonResponse(int status, std::string body,
                            std::string content_type = "application/json");

// Whether the client's first choice in Accept is protobuf (application/vnd.kubernetes.protobuf,
// as client-go's typed clients ask: "application/vnd.kubernetes.protobuf,application/json").
// Streams (`;stream=watch`) and Tables are answered in JSON.
bool PrefersProtobuf(const http::Request& request);

// A protobuf response: `body` is an envelope (see api/runtime/protobuf.h).
http::Response ProtobufResponse(int status, std::string body);

// A Status (kind: Status, status: Failure) for `error`, with the HTTP code of its reason.
http::Response StatusResponse(const Error& error,
                              const apimachinery::StatusDetails* details = nullptr);

}  // namespace kpp::apiserver
