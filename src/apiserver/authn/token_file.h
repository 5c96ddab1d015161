// Bearer tokens from a static token file (upstream's --token-auth-file): a CSV file with one
// `token,user,uid,"group1,group2"` record a line, the groups optional, read once at start.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authn/authenticator.h"
#include "base/result.h"

namespace kpp::apiserver {

// The records of a CSV text as Go's encoding/csv reads them with TrimLeadingSpace: quoted
// fields (with "" for a quote, commas and line breaks inside), blank lines skipped. Each record
// comes with the line it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text);

// The bearer token of an `Authorization: Bearer <token>` header, or nullopt without one.
std::optional<std::string_view> BearerToken(const http::Request& request);

class TokenFileAuthenticator : public Authenticator {
 public:
  // Parses the contents of the token file `path` (named in errors).
  static Result<std::unique_ptr<TokenFileAuthenticator>> Parse(std::string_view contents,
                                                               std::string_view path);
  static Result<std::unique_ptr<TokenFileAuthenticator>> Load(const std::string& path);

  std::optional<UserInfo> Authenticate(const http::Request& request) const override;
  std::optional<UserInfo> AuthenticateToken(std::string_view token) const;
  size_t size() const { return users_.size(); }

 private:
  std::map<std::string, UserInfo, std::less<>> users_;
};

}  // namespace kpp::apiserver
