#include "apiserver/authn/token_file.h"

#include <fmt/format.h>

#include <cctype>

#include "apiserver/authn/jwt.h"
#include "base/files.h"
#include "base/log.h"

namespace kpp::apiserver {
namespace {

bool IsLeadingSpace(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

}  // namespace

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  std::vector<CsvRecord> records;
  size_t pos = 0;
  int line = 1;
  auto parse_error = [&](int at_line, size_t column, std::string_view what) {
    return InvalidError(
        fmt::format("parse error on line {}, column {}: {}", at_line, column, what));
  };
  while (pos < text.size()) {
    // Blank lines (only a line break, optionally after a \r) are no records.
    if (text[pos] == '\n' ||
        (text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n')) {
      pos += text[pos] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    CsvRecord record;
    record.line = line;
    size_t line_start = pos;
    bool end_of_record = false;
    while (!end_of_record) {
      while (pos < text.size() && IsLeadingSpace(text[pos]))
        ++pos;
      std::string field;
      if (pos < text.size() && text[pos] == '"') {
        const int quote_line = line;
        const size_t quote_column = pos - line_start + 1;
        ++pos;
        while (true) {
          if (pos >= text.size()) {
            return parse_error(quote_line, quote_column,
                               "extraneous or missing \" in quoted-field");
          }
          const char c = text[pos];
          if (c == '"') {
            if (pos + 1 < text.size() && text[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n') {
            ++line;
            line_start = pos + 1;
          }
          field += c;
          ++pos;
        }
        if (pos < text.size() && text[pos] != ',' && text[pos] != '\n' &&
            !(text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n')) {
          return parse_error(line, pos - line_start + 1,
                             "extraneous or missing \" in quoted-field");
        }
      } else {
        while (pos < text.size() && text[pos] != ',' && text[pos] != '\n') {
          if (text[pos] == '"') {
            return parse_error(line, pos - line_start + 1, "bare \" in non-quoted-field");
          }
          field += text[pos++];
        }
        if (!field.empty() && field.back() == '\r' && (pos >= text.size() || text[pos] == '\n')) {
          field.pop_back();
        }
      }
      record.fields.push_back(std::move(field));
      if (pos < text.size() && text[pos] == '\r') ++pos;
      if (pos >= text.size()) {
        end_of_record = true;
      } else if (text[pos] == ',') {
        ++pos;
      } else {  // '\n'
        ++pos;
        ++line;
        end_of_record = true;
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

std::optional<std::string_view> BearerToken(const http::Request& request) {
  const std::string* header = request.FindHeader("Authorization");
  if (header == nullptr) return std::nullopt;
  return jwt::BearerTokenOf(*header);
}

Result<std::unique_ptr<TokenFileAuthenticator>> TokenFileAuthenticator::Parse(
    std::string_view contents, std::string_view path) {
  auto records = ParseCsv(contents);
  if (!records.ok()) {
    return InvalidError(fmt::format("token file '{}': {}", path, records.error().message()));
  }
  auto authenticator = std::unique_ptr<TokenFileAuthenticator>(new TokenFileAuthenticator());
  int record_number = 0;
  for (CsvRecord& record : *records) {
    if (record.fields.size() < 3) {
      return InvalidError(fmt::format(
          "token file '{}' must have at least 3 columns (token, user name, user uid), found {} "
          "on line {}",
          path, record.fields.size(), record.line));
    }
    ++record_number;
    if (record.fields[0].empty()) {
      KLOG_WARNING("empty token has been found in token file '{}', record number '{}'", path,
                   record_number);
      continue;
    }
    UserInfo user;
    user.name = std::move(record.fields[1]);
    user.uid = std::move(record.fields[2]);
    if (record.fields.size() >= 4) {
      std::string_view groups = record.fields[3];
      while (true) {
        const auto comma = groups.find(',');
        std::string_view group = groups.substr(0, comma);
        if (!group.empty()) user.groups.emplace_back(group);
        if (comma == std::string_view::npos) break;
        groups.remove_prefix(comma + 1);
      }
    }
    if (authenticator->users_.contains(record.fields[0])) {
      KLOG_WARNING("duplicate token has been found in token file '{}', record number '{}'", path,
                   record_number);
    }
    authenticator->users_[record.fields[0]] = std::move(user);
  }
  return authenticator;
}

Result<std::unique_ptr<TokenFileAuthenticator>> TokenFileAuthenticator::Load(
    const std::string& path) {
  auto contents = ReadFile(path);
  if (!contents.ok()) return std::move(contents).error();
  return Parse(*contents, path);
}

std::optional<UserInfo> TokenFileAuthenticator::AuthenticateToken(std::string_view token) const {
  const auto found = users_.find(token);
  if (found == users_.end()) return std::nullopt;
  UserInfo user = found->second;
  AddAuthenticatedGroup(user);
  return user;
}

std::optional<UserInfo> TokenFileAuthenticator::Authenticate(const http::Request& request) const {
  const auto token = BearerToken(request);
  if (!token) return std::nullopt;
  return AuthenticateToken(*token);
}

}  // namespace kpp::apiserver
