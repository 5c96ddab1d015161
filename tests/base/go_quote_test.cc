#include "base/go_quote.h"

#include <gtest/gtest.h>

namespace kpp {
namespace {

TEST(GoQuoteTest, QuotesLikeGo) {
  const std::pair<std::string, std::string> cases[] = {
      {"", R"("")"},
      {"abc", R"("abc")"},
      {"a\"b", R"("a\"b")"},
      {"a\\b", R"("a\\b")"},
      {"tab\there", R"("tab\there")"},
      {"nl\n", R"("nl\n")"},
      {std::string("nul\0", 4), R"("nul\x00")"},
      {"\x7f", R"("\x7f")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"\xff", R"("\xff")"},
      {"\xc2\x85", R"("\u0085")"},
  };
  for (const auto& [input, expected] : cases)
    EXPECT_EQ(GoQuote(input), expected);
}

}  // namespace
}  // namespace kpp
