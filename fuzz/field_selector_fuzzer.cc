// Field selectors (?fieldSelector=): parsing must fail with an error or succeed, the canonical
// string must parse back to the same selector, and escaping must invert unescaping.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apimachinery/labels/field_selector.h"
#include "check.h"

using kpp::fuzz::Check;
namespace fields = kpp::fields;

namespace {

std::vector<std::string> SortedTerms(const fields::Selector& selector) {
  std::vector<std::string> terms;
  for (const auto& requirement : selector.requirements()) {
    terms.push_back(requirement.field +
                    (requirement.op == fields::Requirement::Operator::kEquals ? "=" : "!=") +
                    fields::EscapeValue(requirement.value));
  }
  std::sort(terms.begin(), terms.end());
  return terms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto selector = fields::Selector::Parse(text); selector.ok()) {
    const std::string canonical = selector->String();
    auto again = fields::Selector::Parse(canonical);
    Check(again.ok(), "the canonical form does not parse", canonical);
    // The same terms; not necessarily in the same order: as upstream, parsing sorts the terms as
    // escaped text and String() writes them in that order, so "a==c,a=\\" and
    // "a=c,a=\\" order the same two terms differently.
    Check(SortedTerms(*again) == SortedTerms(*selector), "parse(string(s)) != s",
          std::string(text) + " -> " + canonical);
    const fields::Set set = {{"metadata.name", "web"}, {"status.phase", "Running"}};
    Check(again->Matches(set) == selector->Matches(set), "matching differs after a round trip",
          canonical);
    (void)selector->FieldNames();
  }
  const std::string escaped = fields::EscapeValue(text);
  auto unescaped = fields::UnescapeValue(escaped);
  Check(unescaped.ok() && *unescaped == text, "unescape(escape(v)) != v", escaped);
  return 0;
}
