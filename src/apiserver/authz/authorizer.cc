#include "apiserver/authz/authorizer.h"

#include <fmt/format.h>

#include "apimachinery/status.h"
#include "apiserver/responses.h"
#include "base/go_quote.h"

namespace kpp::apiserver::authz {

Attributes AttributesFor(const UserInfo& user, const ops::RequestInfo& info) {
  Attributes attributes;
  attributes.user = user;
  attributes.verb = info.verb;
  attributes.resource_request = info.is_resource_request;
  attributes.namespace_ = info.namespace_;
  attributes.api_group = info.api_group;
  attributes.api_version = info.api_version;
  attributes.resource = info.resource;
  attributes.subresource = info.subresource;
  attributes.name = info.name;
  attributes.path = info.path;
  return attributes;
}

Verdict UnionAuthorizer::Authorize(const Attributes& attributes) const {
  std::string reasons;
  for (const auto& authorizer : authorizers_) {
    Verdict verdict = authorizer->Authorize(attributes);
    if (verdict.decision != Decision::kNoOpinion) return verdict;
    if (!verdict.reason.empty()) {
      if (!reasons.empty()) reasons += '\n';
      reasons += verdict.reason;
    }
  }
  return {Decision::kNoOpinion, std::move(reasons)};
}

std::string GoQuoteList(const std::vector<std::string>& items) {
  std::string text = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ' ';
    text += GoQuote(items[i]);
  }
  return text + "]";
}

std::string ForbiddenMessage(const Attributes& attributes) {
  const std::string& user = attributes.user.name;
  if (!attributes.resource_request) {
    return fmt::format("User {} cannot {} path {}", GoQuote(user), attributes.verb,
                       GoQuote(attributes.path));
  }
  std::string resource = attributes.resource;
  if (!attributes.subresource.empty()) resource += "/" + attributes.subresource;
  if (!attributes.namespace_.empty()) {
    return fmt::format("User {} cannot {} resource {} in API group {} in the namespace {}",
                       GoQuote(user), attributes.verb, GoQuote(resource),
                       GoQuote(attributes.api_group), GoQuote(attributes.namespace_));
  }
  return fmt::format("User {} cannot {} resource {} in API group {} at the cluster scope",
                     GoQuote(user), attributes.verb, GoQuote(resource),
                     GoQuote(attributes.api_group));
}

namespace {

// Upstream keeps error texts from looking like HTML.
std::string Sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

http::Response ForbiddenResponse(const Attributes& attributes, const std::string& reason) {
  std::string message = Sanitize(ForbiddenMessage(attributes));
  if (!reason.empty()) message += ": " + reason;
  // apierrors.NewForbidden: "<resource>[.<group>][ "<name>"] is forbidden: <message>".
  std::string qualified = attributes.resource;
  if (!attributes.api_group.empty() && !qualified.empty()) {
    qualified += "." + attributes.api_group;
  }
  std::string text;
  if (qualified.empty()) {
    text = "forbidden: " + message;
  } else if (attributes.name.empty()) {
    text = qualified + " is forbidden: " + message;
  } else {
    text = fmt::format("{} \"{}\" is forbidden: {}", qualified, attributes.name, message);
  }
  const apimachinery::StatusDetails details{attributes.name, attributes.api_group,
                                            attributes.resource};
  http::Response response = StatusResponse(Error(ErrorCode::kForbidden, text), &details);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace kpp::apiserver::authz
