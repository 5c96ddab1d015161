#include "apiserver/ops/gzip.h"

#include <strings.h>
#include <zlib.h>

namespace kpp::apiserver::ops {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const auto semicolon = item.find(';');
    const std::string_view coding = Trim(item.substr(0, semicolon));
    if (coding.size() != 4 || strncasecmp(coding.data(), "gzip", 4) != 0) continue;
    if (semicolon == std::string_view::npos) return true;
    std::string_view weight = Trim(item.substr(semicolon + 1));
    if (!weight.starts_with("q=")) return true;
    weight.remove_prefix(2);
    // q=0, q=0.0, q=0.000 refuse; any other weight accepts.
    return weight.find_first_not_of("0.") != std::string_view::npos;
  }
  return false;
}

std::string Gzip(std::string_view data) {
  z_stream stream{};
  // 15 window bits + 16 asks zlib for the gzip wrapper instead of zlib's own.
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(data.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  const size_t written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return {};
  out.resize(written);
  return out;
}

void MaybeGzip(const http::Request& request, http::Response& response) {
  if (response.stream || response.body.size() <= kGzipThresholdBytes) return;
  const std::string* accept = request.FindHeader("Accept-Encoding");
  if (accept == nullptr || !AcceptsGzip(*accept)) return;
  for (const auto& header : response.headers) {
    if (strcasecmp(header.name.c_str(), "Content-Encoding") == 0) return;
  }
  std::string compressed = Gzip(response.body);
  if (compressed.empty()) return;
  response.body = std::move(compressed);
  response.SetHeader("Content-Encoding", "gzip");
  response.headers.push_back({"Vary", "Accept-Encoding"});
}

}  // namespace kpp::apiserver::ops
