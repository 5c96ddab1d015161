#include "apiserver/authz/impersonation.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cctype>

#include "apiserver/responses.h"

namespace kpp::apiserver::authz {
namespace {

constexpr std::string_view kUserHeader = "impersonate-user";
constexpr std::string_view kGroupHeader = "impersonate-group";
constexpr std::string_view kUidHeader = "impersonate-uid";
constexpr std::string_view kExtraPrefix = "impersonate-extra-";
constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

// One thing asked for, as upstream's ObjectReference.
struct Wanted {
  std::string kind;  // User, ServiceAccount, Group, UserExtra, UID
  std::string namespace_;
  std::string name;
  std::string api_version;
  std::string field_path;  // the extra's key
};

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string PathUnescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        return std::string(text);  // malformed: kept as sent, as upstream does
      }
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// serviceaccount.SplitUsername: system:serviceaccount:<namespace>:<name>, both parts present.
bool SplitServiceAccount(std::string_view user, std::string* namespace_, std::string* name) {
  if (!user.starts_with(kServiceAccountPrefix)) return false;
  user.remove_prefix(kServiceAccountPrefix.size());
  const auto colon = user.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == user.size()) return false;
  if (user.find(':', colon + 1) != std::string_view::npos) return false;
  *namespace_ = std::string(user.substr(0, colon));
  *name = std::string(user.substr(colon + 1));
  return true;
}

// Go's %v of an ObjectReference: its seven fields in order, separated by spaces.
std::string GoValue(const Wanted& w) {
  return fmt::format("{{{} {} {} {} {} {} {}}}", w.kind, w.namespace_, w.name, "", w.api_version,
                     "", w.field_path);
}

}  // namespace

bool HasImpersonationHeaders(const http::Request& request) {
  return std::any_of(request.headers.begin(), request.headers.end(), [](const auto& h) {
    return h.name.size() > 12 && strncasecmp(h.name.data(), "impersonate-", 12) == 0;
  });
}

std::variant<UserInfo, http::Response> Impersonate(const http::Request& request,
                                                   const UserInfo& requestor,
                                                   const Authorizer& authorizer) {
  if (!HasImpersonationHeaders(request)) return requestor;
  std::vector<Wanted> wanted;
  bool has_user = false;
  bool has_others = false;
  bool groups_given = false;
  for (const auto& header : request.headers) {
    if (Lower(header.name) == kUserHeader && !header.value.empty() && !has_user) {
      has_user = true;
      Wanted w;
      if (SplitServiceAccount(header.value, &w.namespace_, &w.name)) {
        w.kind = "ServiceAccount";
      } else {
        w.kind = "User";
        w.name = header.value;
      }
      wanted.insert(wanted.begin(), std::move(w));
    }
  }
  for (const auto& header : request.headers) {
    if (Lower(header.name) == kGroupHeader) {
      groups_given = has_others = true;
      wanted.push_back({"Group", "", header.value, "", ""});
    }
  }
  for (const auto& header : request.headers) {
    const std::string name = Lower(header.name);
    if (name.starts_with(kExtraPrefix)) {
      has_others = true;
      wanted.push_back({"UserExtra", "", header.value, "authentication.k8s.io/v1",
                        PathUnescape(name.substr(kExtraPrefix.size()))});
    }
  }
  for (const auto& header : request.headers) {
    if (Lower(header.name) == kUidHeader && !header.value.empty()) {
      has_others = true;
      wanted.push_back({"UID", "", header.value, "authentication.k8s.io/v1", ""});
      break;
    }
  }
  if (wanted.empty()) return requestor;
  if (has_others && !has_user) {
    std::vector<std::string> values;
    for (const auto& w : wanted)
      values.push_back(GoValue(w));
    return StatusResponse(
        Error(ErrorCode::kBadRequest,
              fmt::format("requested [{}] without impersonating a user", fmt::join(values, " "))));
  }

  UserInfo acting;
  for (const auto& w : wanted) {
    Attributes attributes;
    attributes.user = requestor;
    attributes.verb = "impersonate";
    attributes.resource_request = true;
    attributes.namespace_ = w.namespace_;
    attributes.name = w.name;
    if (w.kind == "ServiceAccount") {
      attributes.api_version = "v1";
      attributes.resource = "serviceaccounts";
      acting.name = std::string(kServiceAccountPrefix) + w.namespace_ + ":" + w.name;
      if (!groups_given) {
        acting.groups = {"system:serviceaccounts", "system:serviceaccounts:" + w.namespace_};
      }
    } else if (w.kind == "User") {
      attributes.api_version = "v1";
      attributes.resource = "users";
      acting.name = w.name;
    } else if (w.kind == "Group") {
      attributes.api_version = "v1";
      attributes.resource = "groups";
      acting.groups.push_back(w.name);
    } else if (w.kind == "UserExtra") {
      attributes.api_group = "authentication.k8s.io";
      attributes.api_version = "v1";
      attributes.resource = "userextras";
      attributes.subresource = w.field_path;
      acting.extra[w.field_path].push_back(w.name);
    } else {
      attributes.api_group = "authentication.k8s.io";
      attributes.api_version = "v1";
      attributes.resource = "uids";
      acting.uid = w.name;
    }
    const Verdict verdict = authorizer.Authorize(attributes);
    if (verdict.decision != Decision::kAllow) return ForbiddenResponse(attributes, verdict.reason);
  }
  const auto has = [&](std::string_view group) {
    return std::find(acting.groups.begin(), acting.groups.end(), group) != acting.groups.end();
  };
  if (acting.name != "system:anonymous") {
    if (!has("system:authenticated") && !has("system:unauthenticated")) {
      acting.groups.push_back("system:authenticated");
    }
  } else if (!has("system:unauthenticated")) {
    acting.groups.push_back("system:unauthenticated");
  }
  return acting;
}

}  // namespace kpp::apiserver::authz
