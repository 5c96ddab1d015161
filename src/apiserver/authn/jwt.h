// Compact JSON Web Tokens (RFC 7519 in the JWS compact form of RFC 7515): the pieces the
// service account tokens are made of, and the Authorization header they arrive in. Parsing
// here checks structure only; signatures are checked by ServiceAccountKey.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::apiserver::jwt {

// base64url without padding (RFC 7515 section 2).
std::string Base64UrlEncode(std::string_view bytes);
// Inverse of Base64UrlEncode; nullopt for characters outside the alphabet, padding, or a length
// no encoding has. Trailing bits that are not zero are refused too, so a token has one spelling.
std::optional<std::string> Base64UrlDecode(std::string_view text);

struct Token {
  boost::json::object header;
  boost::json::object claims;
  // The first two parts with their dot: what the signature covers.
  std::string signing_input;
  std::string signature;
};

// A token split into its three parts, each decoded; Invalid when any part is malformed or the
// header and claims are not JSON objects.
Result<Token> Parse(std::string_view compact);

// Whether `compact` has the shape of a JWT (three base64url parts, JSON header and claims) whose
// "iss" is `issuer`, read without checking the signature: authenticators use it to tell their
// own tokens from others', as upstream's do.
bool HasIssuer(std::string_view compact, std::string_view issuer);

// The token of an `Authorization: Bearer <token>` header value, as upstream reads it: the scheme
// case-insensitive, surrounding blanks trimmed, the token the text between the first and second
// single space. nullopt when the header is no bearer header or the token is empty.
std::optional<std::string_view> BearerTokenOf(std::string_view header_value);

// A NumericDate claim (seconds since the epoch; JSON numbers, fractions truncated as go-jose
// does); nullopt when absent or not a number.
std::optional<int64_t> NumericClaim(const boost::json::object& claims, std::string_view name);

// The "aud" claim: a string or an array of strings. nullopt when it is neither.
std::optional<std::vector<std::string>> AudienceClaim(const boost::json::object& claims);

}  // namespace kpp::apiserver::jwt
