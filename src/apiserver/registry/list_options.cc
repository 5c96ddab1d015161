#include "apiserver/registry/list_options.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <charconv>
#include <vector>

#include "api/runtime/json_writer.h"
#include "apimachinery/validation/field_errors.h"
#include "base/go_quote.h"

namespace kpp::apiserver {
namespace {

constexpr std::string_view kContinueVersion = "meta.k8s.io/v1";
constexpr std::string_view kInvalidKey = "continue key is not valid";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    for (int shift : {18, 12, 6, 0})
      out.push_back(kBase64Url[(n >> shift) & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out.push_back(kBase64Url[(n >> 18) & 63]);
    out.push_back(kBase64Url[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kBase64Url[(n >> 6) & 63]);
  }
  return out;
}

// Go's base64.RawURLEncoding.DecodeString, with its error text.
Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t value = kBase64Url.find(text[i]);
    if (value == std::string_view::npos) {
      return BadRequestError(fmt::format("illegal base64 data at input byte {}", i));
    }
    bits = (bits << 6) | uint32_t(value);
    if (++count == 4) {
      out.push_back(char((bits >> 16) & 0xff));
      out.push_back(char((bits >> 8) & 0xff));
      out.push_back(char(bits & 0xff));
      bits = 0;
      count = 0;
    }
  }
  if (count == 1) {
    return BadRequestError(fmt::format("illegal base64 data at input byte {}", text.size() - 1));
  }
  if (count == 2) out.push_back(char((bits >> 4) & 0xff));
  if (count == 3) {
    out.push_back(char((bits >> 10) & 0xff));
    out.push_back(char((bits >> 2) & 0xff));
  }
  return out;
}

// Go's path.Clean for a rooted path: no empty, "." or ".." elements, no trailing slash.
std::string CleanRootedPath(std::string_view path) {
  std::vector<std::string_view> elements;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view element = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (element.empty() || element == ".") continue;
    if (element == "..") {
      if (!elements.empty()) elements.pop_back();
      continue;
    }
    elements.push_back(element);
  }
  std::string cleaned;
  for (const auto element : elements) {
    cleaned += '/';
    cleaned += element;
  }
  return cleaned.empty() ? "/" : cleaned;
}

std::string_view JsonTypeName(const boost::json::value& value) {
  if (value.is_string()) return "string";
  if (value.is_number()) return "number";
  if (value.is_bool()) return "bool";
  if (value.is_array()) return "array";
  if (value.is_object()) return "object";
  return "null";
}

Error UnmarshalFieldError(const boost::json::value& value, std::string_view field,
                          std::string_view type) {
  return BadRequestError(
      fmt::format("{}: json: cannot unmarshal {} into Go struct field continueToken.{} of type {}",
                  kInvalidKey, JsonTypeName(value), field, type));
}

Error LimitSyntaxError(std::string_view text) {
  return BadRequestError(
      fmt::format("strconv.ParseInt: parsing {}: invalid syntax", GoQuote(text)));
}

}  // namespace

Result<ListOptions> ListOptions::FromRequest(const http::Request& request) {
  ListOptions options;
  options.resource_version = std::string(request.FindQuery("resourceVersion").value_or(""));
  options.resource_version_match =
      std::string(request.FindQuery("resourceVersionMatch").value_or(""));
  options.continue_token = std::string(request.FindQuery("continue").value_or(""));
  options.send_initial_events = request.HasQuery("sendInitialEvents");
  if (auto limit = request.FindQuery("limit"); limit && !limit->empty()) {
    std::string_view text = *limit;
    if (text.starts_with('+')) text.remove_prefix(1);
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), options.limit);
    if (error == std::errc::result_out_of_range) {
      return BadRequestError(
          fmt::format("strconv.ParseInt: parsing {}: value out of range", GoQuote(*limit)));
    }
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
      return LimitSyntaxError(*limit);
    }
  }
  return options;
}

Status ValidateListOptions(const ListOptions& options) {
  using validation::FieldPath;
  validation::FieldErrors errors;
  const FieldPath match_path("resourceVersionMatch");
  if (const auto& match = options.resource_version_match; !match.empty()) {
    if (options.resource_version.empty()) {
      errors.push_back(validation::Forbidden(
          match_path, "resourceVersionMatch is forbidden unless resourceVersion is provided"));
    }
    if (!options.continue_token.empty()) {
      errors.push_back(validation::Forbidden(
          match_path, "resourceVersionMatch is forbidden when continue is provided"));
    }
    if (match != "Exact" && match != "NotOlderThan") {
      errors.push_back(validation::NotSupported(match_path, match, {"Exact", "NotOlderThan", ""}));
    }
    if (match == "Exact" && options.resource_version == "0") {
      errors.push_back(validation::Forbidden(
          match_path, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
    }
  }
  if (options.send_initial_events) {
    errors.push_back(validation::Forbidden(FieldPath("sendInitialEvents"),
                                           "sendInitialEvents is forbidden for list"));
  }
  if (errors.empty()) return Ok();
  return validation::ToInvalidError("ListOptions.meta.k8s.io", "", errors);
}

Result<int64_t> ParseResourceVersion(std::string_view resource_version) {
  if (resource_version.empty() || resource_version == "0") return int64_t{0};
  uint64_t parsed = 0;
  const char* begin = resource_version.data();
  const char* end = begin + resource_version.size();
  const auto [stop, error] = std::from_chars(begin, end, parsed);
  const char* problem = nullptr;
  if (error == std::errc::result_out_of_range ||
      (error == std::errc() && stop == end && parsed > uint64_t(INT64_MAX))) {
    problem = "value out of range";
  } else if (error != std::errc() || stop != end) {
    problem = "invalid syntax";
  }
  if (problem != nullptr) {
    return BadRequestError(fmt::format(
        "invalid resource version: resourceVersion: Invalid value: {}: strconv.ParseUint: "
        "parsing {}: {}",
        GoQuote(resource_version), GoQuote(resource_version), problem));
  }
  return static_cast<int64_t>(parsed);
}

std::string EncodeContinueToken(std::string_view next_key, std::string_view prefix,
                                int64_t revision) {
  if (next_key.starts_with(prefix)) next_key.remove_prefix(prefix.size());
  api::runtime::JsonWriter json;
  json.BeginObject();
  json.Key("v");
  json.String(kContinueVersion);
  json.Key("rv");
  json.Int(revision);
  json.Key("start");
  json.String(next_key);
  json.EndObject();
  return Base64UrlEncode(json.str());
}

Result<ContinuePoint> DecodeContinueToken(std::string_view token, std::string_view prefix) {
  auto data = Base64UrlDecode(token);
  if (!data.ok()) {
    return BadRequestError(fmt::format("{}: {}", kInvalidKey, data.error().message()));
  }
  boost::system::error_code parse_error;
  const boost::json::value json = boost::json::parse(*data, parse_error);
  if (parse_error) {
    return BadRequestError(fmt::format("{}: {}", kInvalidKey, parse_error.message()));
  }
  // Like Go's json.Unmarshal, a null token decodes to the zero token.
  static const boost::json::object kNoFields;
  const auto* object = json.is_null() ? &kNoFields : json.if_object();
  if (object == nullptr) {
    return BadRequestError(
        fmt::format("{}: json: cannot unmarshal {} into Go value of type storage.continueToken",
                    kInvalidKey, JsonTypeName(json)));
  }
  std::string version, start;
  int64_t revision = 0;
  if (const auto* value = object->if_contains("v"); value && !value->is_null()) {
    if (!value->is_string()) return UnmarshalFieldError(*value, "v", "string");
    version = value->get_string();
  }
  if (const auto* value = object->if_contains("rv"); value && !value->is_null()) {
    if (value->is_int64()) {
      revision = value->get_int64();
    } else {
      return UnmarshalFieldError(*value, "rv", "int64");
    }
  }
  if (const auto* value = object->if_contains("start"); value && !value->is_null()) {
    if (!value->is_string()) return UnmarshalFieldError(*value, "start", "string");
    start = value->get_string();
  }
  if (version != kContinueVersion) {
    return BadRequestError(
        fmt::format("{}: server does not recognize this encoded version {}", kInvalidKey, version));
  }
  if (revision == 0) {
    return BadRequestError(fmt::format(
        "{}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)", kInvalidKey));
  }
  if (start.empty()) {
    return BadRequestError(
        fmt::format("{}: encoded start key empty (version meta.k8s.io/v1)", kInvalidKey));
  }
  // A start key is relative to the list's prefix; one that is not already clean could climb
  // out of it ("../secrets/x").
  const std::string rooted = start.starts_with('/') ? start : "/" + start;
  if (CleanRootedPath(rooted) != rooted) {
    return BadRequestError(fmt::format("{}: {}", kInvalidKey, start));
  }
  return ContinuePoint{std::string(prefix) + rooted.substr(1), revision};
}

Result<ListRead> PlanListRead(const ListOptions& options, std::string_view prefix) {
  ListRead read{std::string(prefix), 0, 0, false};
  if (!options.continue_token.empty()) {
    auto point = DecodeContinueToken(options.continue_token, prefix);
    if (!point.ok()) {
      return BadRequestError("invalid continue token: " + point.error().message());
    }
    if (!options.resource_version.empty() && options.resource_version != "0") {
      return BadRequestError("specifying resource version is not allowed when using continue");
    }
    read.start_key = std::move(point->key);
    // A negative revision asks for the latest one.
    if (point->revision > 0) read.revision = point->revision;
    read.continuing = true;
    return read;
  }
  if (options.resource_version.empty()) return read;
  KPP_ASSIGN_OR_RETURN(const int64_t requested, ParseResourceVersion(options.resource_version));
  read.minimum_revision = requested;
  if (options.resource_version_match == "Exact") {
    read.revision = requested;
  } else if (options.resource_version_match.empty() && options.limit > 0 && requested > 0) {
    read.revision = requested;
  }
  return read;
}

}  // namespace kpp::apiserver
