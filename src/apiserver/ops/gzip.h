// gzip for large responses, as upstream's response writers do it: only when the client lists
// gzip in Accept-Encoding and the body is over 128 KiB, at the fastest level (the body is
// usually JSON, which shrinks well even so).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/server.h"

namespace kpp::apiserver::ops {

inline constexpr size_t kGzipThresholdBytes = 128 * 1024;

// Whether an Accept-Encoding value accepts gzip (a "gzip" token not weighted q=0).
bool AcceptsGzip(std::string_view accept_encoding);

// `data` in the gzip format; empty on failure.
std::string Gzip(std::string_view data);

// Compresses `response` in place when `request` allows it and the body is large enough; a
// streamed or already encoded response is left alone.
void MaybeGzip(const http::Request& request, http::Response& response);

}  // namespace kpp::apiserver::ops
