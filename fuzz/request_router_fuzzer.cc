// The request router: an arbitrary request target (path and query) and header values go through
// the HTTP layer's target parser, upstream-style request info (metrics labels), the list option
// parsers, the timeout parameter and Accept-Encoding negotiation. Nothing may crash, and the
// request info must be self-consistent.
#include <cstdint>
#include <string>
#include <string_view>

#include "apiserver/ops/gzip.h"
#include "apiserver/ops/metrics.h"
#include "apiserver/ops/operations.h"
#include "apiserver/ops/request_info.h"
#include "apiserver/registry/list_options.h"
#include "check.h"
#include "http/server.h"

using kpp::fuzz::Check;
namespace ops = kpp::apiserver::ops;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Line 1: the target; line 2: Accept-Encoding; line 3: Content-Type.
  const auto first = input.find('\n');
  const std::string_view target = input.substr(0, first);
  std::string_view rest = first == std::string_view::npos ? "" : input.substr(first + 1);
  const auto second = rest.find('\n');
  const std::string_view accept_encoding = rest.substr(0, second);
  const std::string_view content_type =
      second == std::string_view::npos ? "" : rest.substr(second + 1);

  kpp::http::Request request;
  if (!kpp::http::ParseRequestTarget(target, request)) return 0;
  request.headers = {{"Accept-Encoding", std::string(accept_encoding)},
                     {"Content-Type", std::string(content_type)}};
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "BREW"}) {
    request.method = method;
    const ops::RequestInfo info = ops::ParseRequestInfo(method, request.path, request.query);
    const std::string_view scope = ops::RequestScope(info);
    // Empty segments ("/api//x") parse as upstream's do, into empty names; only the scope is
    // an invariant.
    Check(info.is_resource_request == !scope.empty(), "scope and resource request disagree",
          std::string(target));
    const auto labels = ops::ApiMetrics::LabelsOf(info, method, content_type,
                                                  request.FindQuery("dryRun").value_or(""));
    Check(!labels.verb.empty() || std::string_view(method).empty(), "no verb", std::string(target));
    (void)ops::HttpLogLine(request, labels.verb, 200, 0.001);
  }
  (void)ops::RequestTimeout(request);
  (void)ops::AcceptsGzip(accept_encoding);
  if (auto rv = request.FindQuery("resourceVersion")) {
    (void)kpp::apiserver::ParseResourceVersion(*rv);
  }
  if (auto token = request.FindQuery("continue")) {
    (void)kpp::apiserver::DecodeContinueToken(*token, "/registry/pods/");
  }
  return 0;
}
