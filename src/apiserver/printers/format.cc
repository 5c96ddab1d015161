#include "apiserver/printers/format.h"

#include <fmt/format.h>

#include <algorithm>

#include "apimachinery/labels/selector.h"

namespace kpp::apiserver::printers {
namespace {

labels::LabelSelector ToLabelsSelector(const api::meta::v1::LabelSelector& selector) {
  labels::LabelSelector converted;
  converted.match_labels = selector.match_labels;
  for (const auto& expression : selector.match_expressions) {
    converted.match_expressions.push_back(
        {expression.key, expression.operator_, expression.values});
  }
  return converted;
}

}  // namespace

std::string HumanDuration(std::chrono::nanoseconds duration) {
  using std::chrono::duration_cast;
  // Go's int(d.Seconds()) truncates toward zero.
  const int64_t seconds = duration_cast<std::chrono::seconds>(duration).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return fmt::format("{}s", seconds);
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    const int64_t rest = seconds % 60;
    if (rest == 0) return fmt::format("{}m", minutes);
    return fmt::format("{}m{}s", minutes, rest);
  }
  if (minutes < 60 * 3) return fmt::format("{}m", minutes);
  const int64_t hours = seconds / 3600;
  if (hours < 8) {
    const int64_t rest = minutes % 60;
    if (rest == 0) return fmt::format("{}h", hours);
    return fmt::format("{}h{}m", hours, rest);
  }
  if (hours < 48) return fmt::format("{}h", hours);
  if (hours < 24 * 8) {
    const int64_t rest = hours % 24;
    if (rest == 0) return fmt::format("{}d", hours / 24);
    return fmt::format("{}d{}h", hours / 24, rest);
  }
  if (hours < 24 * 365 * 2) return fmt::format("{}d", hours / 24);
  if (hours < 24 * 365 * 8) {
    const int64_t days = (hours / 24) % 365;
    if (days == 0) return fmt::format("{}y", hours / 24 / 365);
    return fmt::format("{}y{}d", hours / 24 / 365, days);
  }
  return fmt::format("{}y", hours / 24 / 365);
}

std::string TimestampSince(const api::Time& time, const PrintContext& context) {
  if (time.IsZero()) return "<unknown>";
  const auto then = std::chrono::system_clock::time_point(std::chrono::seconds(time.unix_seconds));
  return HumanDuration(context.now - then);
}

std::string MicroTimestampSince(const api::MicroTime& time, const PrintContext& context) {
  if (time.IsZero()) return "<unknown>";
  const auto then =
      std::chrono::system_clock::time_point(std::chrono::microseconds(time.unix_micros));
  return HumanDuration(context.now - then);
}

std::string Age(const api::meta::v1::ObjectMeta& metadata, const PrintContext& context) {
  return TimestampSince(metadata.creation_timestamp, context);
}

std::string FormatLabels(const std::map<std::string, std::string>& labels) {
  std::string text;
  for (const auto& [key, value] : labels) {
    if (!text.empty()) text += ',';
    text += key + '=' + value;
  }
  return text.empty() ? "<none>" : text;
}

std::string FormatLabelSelector(const api::meta::v1::LabelSelector* selector) {
  if (selector == nullptr) return labels::FormatLabelSelector(nullptr);
  const labels::LabelSelector converted = ToLabelsSelector(*selector);
  return labels::FormatLabelSelector(&converted);
}

std::string SelectorString(const api::meta::v1::LabelSelector* selector) {
  if (selector == nullptr) return "";
  const labels::LabelSelector converted = ToLabelsSelector(*selector);
  auto parsed = labels::LabelSelectorAsSelector(&converted);
  if (!parsed.ok()) return "<invalid>";
  return parsed->String();
}

std::pair<std::string, std::string> ContainerCells(
    const std::vector<api::core::v1::Container>& containers) {
  std::string names;
  std::string images;
  for (size_t i = 0; i < containers.size(); ++i) {
    if (i > 0) {
      names += ',';
      images += ',';
    }
    names += containers[i].name;
    images += containers[i].image;
  }
  return {names, images};
}

std::string AccessModes(const std::vector<std::string>& modes) {
  const auto has = [&modes](std::string_view mode) {
    return std::find(modes.begin(), modes.end(), mode) != modes.end();
  };
  std::vector<std::string> shown;
  if (has("ReadWriteOnce")) shown.push_back("RWO");
  if (has("ReadOnlyMany")) shown.push_back("ROX");
  if (has("ReadWriteMany")) shown.push_back("RWX");
  if (has("ReadWriteOncePod")) shown.push_back("RWOP");
  std::string text;
  for (const auto& mode : shown) {
    if (!text.empty()) text += ',';
    text += mode;
  }
  return text;
}

std::string QuantityText(const api::Quantity& quantity) {
  return quantity.text.empty() ? "0" : quantity.text;
}

std::string ResourceText(const std::map<std::string, api::Quantity>& resources,
                         const std::string& name) {
  const auto found = resources.find(name);
  return found == resources.end() ? "0" : QuantityText(found->second);
}

std::string IntOrStringText(const api::IntOrString& value) {
  return value.is_string ? value.string_value : std::to_string(value.int_value);
}

std::string BoolPointerText(const std::optional<bool>& value) {
  if (!value) return "<unset>";
  return *value ? "True" : "False";
}

std::string OrElse(const std::string& text, const char* fallback) {
  return text.empty() ? std::string(fallback) : text;
}

std::string ListWithMore(const std::vector<std::string>& items, size_t max, const char* empty) {
  if (items.empty()) return empty;
  std::string text;
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    if (i > 0) text += ',';
    text += items[i];
  }
  if (items.size() > max) text += fmt::format(" + {} more...", items.size() - max);
  return text;
}

}  // namespace kpp::apiserver::printers
