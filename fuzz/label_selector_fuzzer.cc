// Label selectors (?labelSelector=, LabelSelector objects): parsing must fail with an error or
// succeed, and the canonical string must parse back to the same selector.
#include <cstdint>
#include <string>
#include <string_view>

#include "apimachinery/labels/selector.h"
#include "check.h"

using kpp::fuzz::Check;
namespace labels = kpp::labels;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto selector = labels::Selector::Parse(text); selector.ok()) {
    const std::string canonical = selector->String();
    auto again = labels::Selector::Parse(canonical);
    Check(again.ok(), "the canonical form does not parse", canonical);
    Check(*again == *selector, "parse(string(s)) != s", std::string(text) + " -> " + canonical);
    const labels::Set set = {{"app", "web"}, {"tier", "front"}, {"n", "3"}, {"a.b/c", ""}};
    Check(again->Matches(set) == selector->Matches(set), "matching differs after a round trip",
          canonical);
    for (const auto& requirement : selector->requirements()) {
      (void)selector->RequiresExactMatch(requirement.key());
    }
  }
  if (auto label_selector = labels::ParseToLabelSelector(text); label_selector.ok()) {
    const std::string formatted = labels::FormatLabelSelector(&*label_selector);
    (void)labels::LabelSelectorAsSelector(&*label_selector);
    (void)labels::LabelSelectorAsMap(&*label_selector);
    (void)formatted;
  }
  return 0;
}
