#include "apiserver/authn/jwt.h"

#include <array>
#include <boost/json/parse.hpp>
#include <cmath>
#include <limits>

namespace kpp::apiserver::jwt {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> DecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table)
    entry = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr auto kDecode = DecodeTable();

std::optional<boost::json::object> DecodeJsonObject(std::string_view part) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code error;
  auto value = boost::json::parse(*bytes, error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t group = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    if (rest == 2) out += kAlphabet[(group >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = kDecode[static_cast<unsigned char>(c)];
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Result<Token> Parse(std::string_view compact) {
  const auto first = compact.find('.');
  if (first == std::string_view::npos) return InvalidError("token is not a compact JWS");
  const auto second = compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return InvalidError("token is not a compact JWS");
  }
  auto header = DecodeJsonObject(compact.substr(0, first));
  if (!header) return InvalidError("token header is malformed");
  auto claims = DecodeJsonObject(compact.substr(first + 1, second - first - 1));
  if (!claims) return InvalidError("token claims are malformed");
  auto signature = Base64UrlDecode(compact.substr(second + 1));
  if (!signature) return InvalidError("token signature is malformed");
  Token token;
  token.header = std::move(*header);
  token.claims = std::move(*claims);
  token.signing_input = std::string(compact.substr(0, second));
  token.signature = std::move(*signature);
  return token;
}

bool HasIssuer(std::string_view compact, std::string_view issuer) {
  const auto first = compact.find('.');
  if (first == std::string_view::npos) return false;
  const auto second = compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return false;
  }
  auto claims = DecodeJsonObject(compact.substr(first + 1, second - first - 1));
  if (!claims) return false;
  const auto* iss = claims->if_contains("iss");
  return iss != nullptr && iss->is_string() && iss->as_string() == issuer;
}

std::optional<std::string_view> BearerTokenOf(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  const auto space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view scheme = value.substr(0, space);
  if (scheme.size() != 6) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    const char c = scheme[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != "bearer"[i]) return std::nullopt;
  }
  // Upstream splits on single spaces and takes the second part: "Bearer  x" has an empty token.
  std::string_view token = value.substr(space + 1);
  token = token.substr(0, token.find(' '));
  if (token.empty()) return std::nullopt;
  return token;
}

std::optional<int64_t> NumericClaim(const boost::json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) {
    const uint64_t number = value->as_uint64();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(number);
  }
  if (value->is_double()) {
    const double number = value->as_double();
    if (!std::isfinite(number) || std::fabs(number) > 9e18) return std::nullopt;
    return static_cast<int64_t>(number);
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> AudienceClaim(const boost::json::object& claims) {
  const auto* value = claims.if_contains("aud");
  if (value == nullptr) return std::vector<std::string>{};
  if (value->is_string()) return std::vector<std::string>{std::string(value->as_string())};
  if (!value->is_array()) return std::nullopt;
  std::vector<std::string> audiences;
  for (const auto& item : value->as_array()) {
    if (!item.is_string()) return std::nullopt;
    audiences.emplace_back(item.as_string());
  }
  return audiences;
}

}  // namespace kpp::apiserver::jwt
