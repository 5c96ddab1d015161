#include "apiserver/responses.h"

namespace kpp::apiserver {

http::Response JsonResponse(int status, std::string body, std::string content_type) {
  http::Response response{status, {}, std::move(body)};
  response.SetHeader("Content-Type", std::move(content_type));
  response.SetHeader("Cache-Control", "no-cache, private");
  return response;
}

http::Response StatusResponse(const Error& error, const apimachinery::StatusDetails* details) {
  return JsonResponse(error.http_status(), apimachinery::StatusJson(error, details));
}

}  // namespace kpp::apiserver
