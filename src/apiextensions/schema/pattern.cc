#include "apiextensions/schema/pattern.h"

#include <re2/re2.h>

namespace kpp::apiextensions::schema::internal {

namespace {

// Go's syntax.ErrorCode texts for RE2's error codes.
std::string_view GoErrorCode(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape: return "invalid escape sequence";
    case RE2::ErrorBadCharClass: return "invalid character class";
    case RE2::ErrorBadCharRange: return "invalid character class range";
    case RE2::ErrorMissingBracket: return "missing closing ]";
    case RE2::ErrorMissingParen: return "missing closing )";
    case RE2::ErrorUnexpectedParen: return "unexpected )";
    case RE2::ErrorTrailingBackslash: return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument: return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize: return "invalid repeat count";
    case RE2::ErrorRepeatOp: return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp: return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8: return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture: return "invalid named capture";
    default: return "invalid regular expression";
  }
}

}  // namespace

Pattern::Pattern(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  re_ = std::make_unique<RE2>(pattern, options);
  if (!re_->ok()) {
    error_ = "error parsing regexp: " + std::string(GoErrorCode(re_->error_code())) + ": `" +
             re_->error_arg() + "`";
  }
}

Pattern::~Pattern() = default;

bool Pattern::ok() const {
  return re_->ok();
}

bool Pattern::Matches(std::string_view text) const {
  return re_->ok() && RE2::PartialMatch(text, *re_);
}

}  // namespace kpp::apiextensions::schema::internal
