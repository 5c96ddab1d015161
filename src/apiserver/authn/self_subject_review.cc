#include "apiserver/authn/self_subject_review.h"

#include <chrono>
#include <string_view>

#include "api/authentication.k8s.io/v1/codec.h"
#include "api/authentication.k8s.io/v1/proto_codec.h"
#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "apiserver/responses.h"

namespace kpp::apiserver {

std::optional<http::Response> ServeSelfSubjectReview(const http::Request& request,
                                                     const UserInfo& user, const Clock& clock) {
  constexpr std::string_view kPrefix = "/apis/authentication.k8s.io/";
  constexpr std::string_view kSuffix = "/selfsubjectreviews";
  std::string_view path = request.path;
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return std::nullopt;
  const std::string_view version =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  // The older versions have the same fields; kubectl 1.27 asks v1beta1, then v1alpha1.
  if (version != "v1" && version != "v1beta1" && version != "v1alpha1") return std::nullopt;
  if (request.method != "POST") {
    return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                                "the server does not allow this method on the requested resource"));
  }
  namespace authn = api::authentication_k8s_io::v1;
  authn::SelfSubjectReview review;
  review.kind = "SelfSubjectReview";
  review.api_version = "authentication.k8s.io/" + std::string(version);
  review.metadata.creation_timestamp = api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count());
  review.status.user_info.username = user.name;
  review.status.user_info.uid = user.uid;
  review.status.user_info.groups = user.groups;
  review.status.user_info.extra = user.extra;
  const std::string api_version = review.api_version;
  api::TypedObject<authn::SelfSubjectReview> object(std::move(review));
  if (PrefersProtobuf(request)) {
    return ProtobufResponse(
        201, api::protobuf::Wrap(api_version, "SelfSubjectReview", object.ToProtobufMessage()));
  }
  return JsonResponse(201, object.ToJson());
}

}  // namespace kpp::apiserver
