#include "apiserver/responses.h"

#include "api/runtime/protobuf.h"

namespace kpp::apiserver {

http::Response JsonResponse(int status, std::string body, std::string content_type) {
  http::Response response{status, {}, std::move(body)};
  response.SetHeader("Content-Type", std::move(content_type));
  response.SetHeader("Cache-Control", "no-cache, private");
  return response;
}

bool PrefersProtobuf(const http::Request& request) {
  const std::string* accept = request.FindHeader("Accept");
  if (accept == nullptr) return false;
  std::string_view first(*accept);
  first = first.substr(0, first.find(','));
  const auto parameters = first.find(';');
  std::string_view media_type = first.substr(0, parameters);
  while (media_type.ends_with(' '))
    media_type.remove_suffix(1);
  while (media_type.starts_with(' '))
    media_type.remove_prefix(1);
  if (media_type != api::protobuf::kMediaType) return false;
  // Parameters such as as=Table or stream=watch ask for forms not served in protobuf.
  return parameters == std::string_view::npos ||
         first.substr(parameters).find_first_not_of("; ") == std::string_view::npos;
}

http::Response ProtobufResponse(int status, std::string body) {
  return JsonResponse(status, std::move(body), std::string(api::protobuf::kMediaType));
}

http::Response StatusResponse(const Error& error, const apimachinery::StatusDetails* details) {
  return JsonResponse(error.http_status(), apimachinery::StatusJson(error, details));
}

}  // namespace kpp::apiserver
