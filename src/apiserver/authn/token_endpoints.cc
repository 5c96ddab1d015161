#include "apiserver/authn/token_endpoints.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "api/authentication.k8s.io/v1/codec.h"
#include "api/authentication.k8s.io/v1/proto_codec.h"
#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "apimachinery/validation/field_errors.h"
#include "apiserver/responses.h"
#include "base/log.h"

namespace kpp::apiserver {
namespace {

namespace authn = api::authentication_k8s_io::v1;

// What kubelets ask for: a pod-bound token of this lifetime gets a year, and a warning after.
constexpr int64_t kWarnOnlyBoundTokenExpirationSeconds = 3607;
constexpr int64_t kExpirationExtensionSeconds = 24 * 365 * 60 * 60;
constexpr int64_t kMinTokenSeconds = 10 * 60;

http::Response MethodNotAllowed() {
  return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                              "the server does not allow this method on the requested resource"));
}

// The body as a T, JSON or protobuf, with upstream's message when it does not decode.
template <typename T>
Result<T> DecodeBody(const http::Request& request, std::string_view kind) {
  const std::string* content_type = request.FindHeader("Content-Type");
  if (content_type != nullptr && content_type->starts_with(api::protobuf::kMediaType)) {
    KPP_ASSIGN_OR_RETURN(auto envelope, api::protobuf::Unwrap(request.body));
    api::protobuf::Reader reader(envelope.message);
    T value;
    DecodeProto(reader, value);
    if (reader.failed()) return BadRequestError(reader.error()->message());
    return value;
  }
  auto decoded = api::FromJson<T>(request.body);
  if (!decoded.ok()) {
    return BadRequestError(
        fmt::format("{} cannot be handled: {}", kind, decoded.error().message()));
  }
  return std::move(decoded->object);
}

template <typename T>
http::Response ObjectResponse(const http::Request& request, T value, std::string_view kind) {
  value.kind = std::string(kind);
  value.api_version = "authentication.k8s.io/v1";
  api::TypedObject<T> object(std::move(value));
  if (PrefersProtobuf(request)) {
    return ProtobufResponse(201, api::protobuf::Wrap("authentication.k8s.io/v1", std::string(kind),
                                                     object.ToProtobufMessage()));
  }
  return JsonResponse(201, object.ToJson());
}

// The namespace and name of a .../namespaces/<ns>/serviceaccounts/<name>/token path.
std::optional<std::pair<std::string, std::string>> TokenRequestTarget(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v1/namespaces/";
  constexpr std::string_view kSuffix = "/token";
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return std::nullopt;
  std::string_view middle =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  const auto slash = middle.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view ns = middle.substr(0, slash);
  std::string_view rest = middle.substr(slash + 1);
  constexpr std::string_view kResource = "serviceaccounts/";
  if (!rest.starts_with(kResource)) return std::nullopt;
  std::string_view name = rest.substr(kResource.size());
  if (ns.empty() || name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(ns), std::string(name));
}

http::Response NotFound(std::string_view resource, std::string_view name) {
  const apimachinery::StatusDetails details{std::string(name), "", std::string(resource)};
  return StatusResponse(NotFoundError(fmt::format("{} \"{}\" not found", resource, name)),
                        &details);
}

}  // namespace

std::optional<http::Response> ServeTokenRequest(const http::Request& request,
                                                const ServiceAccountTokens& tokens,
                                                const ObjectReader& reader,
                                                const TokenRequestOptions& options,
                                                const Clock& clock) {
  const auto target = TokenRequestTarget(request.path);
  if (!target) return std::nullopt;
  const auto& [ns, name] = *target;
  if (request.method != "POST") return MethodNotAllowed();
  auto decoded = DecodeBody<authn::TokenRequest>(request, "TokenRequest");
  if (!decoded.ok()) return StatusResponse(decoded.error());
  authn::TokenRequest token_request = *std::move(decoded);
  auto& metadata = token_request.metadata;
  if (!metadata.name.empty() && metadata.name != name) {
    return StatusResponse(validation::ToInvalidError(
        "TokenRequest.authentication.k8s.io", name,
        {validation::Invalid(validation::FieldPath("metadata").Child("name"), metadata.name,
                             "must match the service account name if specified")}));
  }
  if (!metadata.namespace_.empty() && metadata.namespace_ != ns) {
    return StatusResponse(validation::ToInvalidError(
        "TokenRequest.authentication.k8s.io", name,
        {validation::Invalid(validation::FieldPath("metadata").Child("namespace"),
                             metadata.namespace_,
                             "must match the service account namespace if specified")}));
  }
  const auto account = reader.ServiceAccount(ns, name);
  if (!account) return NotFound("serviceaccounts", name);
  auto& spec = token_request.spec;
  if (spec.audiences.empty()) spec.audiences = options.api_audiences;
  if (!spec.expiration_seconds) spec.expiration_seconds = 3600;
  if (metadata.name.empty()) metadata.name = name;
  if (metadata.namespace_.empty()) metadata.namespace_ = ns;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
  metadata.creation_timestamp = api::Time::FromUnixSeconds(now);
  token_request.status = {};

  validation::FieldErrors errors;
  const auto expiration_path = validation::FieldPath("spec").Child("expirationSeconds");
  if (*spec.expiration_seconds < kMinTokenSeconds) {
    errors.push_back(validation::InvalidInt(expiration_path, *spec.expiration_seconds,
                                            "may not specify a duration less than 10 minutes"));
  }
  if (*spec.expiration_seconds > (int64_t{1} << 32)) {
    errors.push_back(validation::InvalidInt(expiration_path, *spec.expiration_seconds,
                                            "may not specify a duration larger than 2^32 seconds"));
  }
  if (!errors.empty()) {
    return StatusResponse(
        validation::ToInvalidError("TokenRequest.authentication.k8s.io", "", errors));
  }

  BoundTokenClaims claims;
  claims.ns = ns;
  claims.service_account = {name, StringAt(*account, {"metadata", "uid"})};
  claims.audiences = spec.audiences;
  if (const auto& ref = spec.bound_object_ref) {
    // The group is what precedes the '/' of apiVersion; the core group has none.
    const auto slash = ref->api_version.find('/');
    const std::string group = slash == std::string::npos ? "" : ref->api_version.substr(0, slash);
    const std::string version =
        slash == std::string::npos ? ref->api_version : ref->api_version.substr(slash + 1);
    std::string uid;
    if (group.empty() && ref->kind == "Pod") {
      const auto pod = reader.Pod(ns, ref->name);
      if (!pod) return NotFound("pods", ref->name);
      if (StringAt(*pod, {"spec", "serviceAccountName"}) != name) {
        return StatusResponse(BadRequestError(
            fmt::format("cannot bind token for serviceaccount \"{}\" to pod running with "
                        "different serviceaccount name.",
                        name)));
      }
      uid = StringAt(*pod, {"metadata", "uid"});
      claims.pod = NameAndUid{ref->name, uid};
      // Where the pod runs goes into the token too, when that node exists.
      if (const std::string node_name = StringAt(*pod, {"spec", "nodeName"}); !node_name.empty()) {
        if (const auto node = reader.Node(node_name)) {
          claims.node = NameAndUid{node_name, StringAt(*node, {"metadata", "uid"})};
        }
      }
    } else if (group.empty() && ref->kind == "Node") {
      const auto node = reader.Node(ref->name);
      if (!node) return NotFound("nodes", ref->name);
      uid = StringAt(*node, {"metadata", "uid"});
      claims.node = NameAndUid{ref->name, uid};
    } else if (group.empty() && ref->kind == "Secret") {
      const auto secret = reader.Secret(ns, ref->name);
      if (!secret) return NotFound("secrets", ref->name);
      uid = StringAt(*secret, {"metadata", "uid"});
      claims.secret = NameAndUid{ref->name, uid};
    } else {
      // Go's GroupVersionKind.String(): "<group>/<version>, Kind=<kind>".
      return StatusResponse(BadRequestError(fmt::format(
          "cannot bind token to object of type {}/{}, Kind={}", group, version, ref->kind)));
    }
    if (!ref->uid.empty() && ref->uid != uid) {
      return StatusResponse(Error(
          ErrorCode::kConflict,
          fmt::format("Operation cannot be fulfilled on {} \"{}\": the UID in the bound object "
                      "reference ({}) does not match the UID in record. The object might have "
                      "been deleted and then recreated",
                      ref->kind, ref->name, ref->uid, uid)));
    }
  }
  http::Response warnings;
  if (options.max_expiration_seconds > 0 &&
      *spec.expiration_seconds > options.max_expiration_seconds) {
    warnings.SetHeader("Warning",
                       fmt::format("299 - \"requested expiration of {} seconds shortened to {} "
                                   "seconds\"",
                                   *spec.expiration_seconds, options.max_expiration_seconds));
    spec.expiration_seconds = options.max_expiration_seconds;
  }
  claims.expiration_seconds = *spec.expiration_seconds;
  const bool for_api_server =
      !IntersectAudiences(spec.audiences, options.api_audiences).empty() &&
      std::all_of(spec.audiences.begin(), spec.audiences.end(), [&](const std::string& audience) {
        return std::find(options.api_audiences.begin(), options.api_audiences.end(), audience) !=
               options.api_audiences.end();
      });
  if (options.extend_expiration && claims.pod &&
      *spec.expiration_seconds == kWarnOnlyBoundTokenExpirationSeconds && for_api_server) {
    claims.warn_after_seconds = *spec.expiration_seconds;
    claims.expiration_seconds = kExpirationExtensionSeconds;
  }
  auto token = tokens.Issue(claims);
  if (!token.ok()) return StatusResponse(token.error());
  token_request.status.token = *std::move(token);
  token_request.status.expiration_timestamp =
      api::Time::FromUnixSeconds(now + *spec.expiration_seconds);
  http::Response response = ObjectResponse(request, std::move(token_request), "TokenRequest");
  for (const auto& [key, value] : warnings.headers)
    response.headers.push_back({key, value});
  return response;
}

std::optional<http::Response> ServeTokenReview(const http::Request& request,
                                               const BearerTokenAuthenticator& authenticator) {
  if (request.path != "/apis/authentication.k8s.io/v1/tokenreviews") return std::nullopt;
  if (request.method != "POST") return MethodNotAllowed();
  auto decoded = DecodeBody<authn::TokenReview>(request, "TokenReview");
  if (!decoded.ok()) return StatusResponse(decoded.error());
  authn::TokenReview review = *std::move(decoded);
  if (review.spec.token.empty()) {
    return StatusResponse(BadRequestError("token is required for TokenReview in authentication"));
  }
  review.status = {};
  std::string error;
  const auto& wanted =
      review.spec.audiences.empty() ? authenticator.api_audiences() : review.spec.audiences;
  auto found = authenticator.AuthenticateToken(review.spec.token, wanted, &error);
  if (!found) {
    KLOG_V(4, "TokenReview: token not authenticated: {}", error);
    review.status.error = error;
  } else {
    review.status.authenticated = true;
    review.status.user.username = found->user.name;
    review.status.user.uid = found->user.uid;
    review.status.user.groups = found->user.groups;
    review.status.user.extra = found->user.extra;
    review.status.audiences = found->audiences;
  }
  return ObjectResponse(request, std::move(review), "TokenReview");
}

}  // namespace kpp::apiserver
