// Internal: `pattern` compiled once with RE2, whose syntax is Go's regexp syntax.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace kpp::apiextensions::schema::internal {

class Pattern {
 public:
  explicit Pattern(const std::string& pattern);
  ~Pattern();
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  bool ok() const;
  // Go's regexp error text: "error parsing regexp: missing closing ): `(a`".
  const std::string& error() const { return error_; }
  // Whether the pattern matches anywhere in `text` (Go's MatchString). Thread-safe.
  bool Matches(std::string_view text) const;

 private:
  std::unique_ptr<re2::RE2> re_;
  std::string error_;
};

}  // namespace kpp::apiextensions::schema::internal
