// The small formatting rules upstream's printers share: ages, label sets and selectors, container
// lists, "<none>" placeholders. Each follows upstream's function of the same purpose so that the
// cells read exactly as a real cluster's.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/core/v1/types.h"
#include "api/meta/v1/types.h"
#include "api/runtime/scalars.h"
#include "apiserver/printers/printers.h"

namespace kpp::apiserver::printers {

// apimachinery's duration.HumanDuration: "5s", "3m2s", "15m", "4h10m", "20h", "2d3h", "30d",
// "2y45d"; "0s" for up to a second in the future, "<invalid>" beyond.
std::string HumanDuration(std::chrono::nanoseconds duration);

// How long ago `time` was, or "<unknown>" for the zero Time (upstream's translateTimestampSince).
std::string TimestampSince(const api::Time& time, const PrintContext& context);
std::string MicroTimestampSince(const api::MicroTime& time, const PrintContext& context);
// The AGE cell of an object.
std::string Age(const api::meta::v1::ObjectMeta& metadata, const PrintContext& context);

// "a=b,c=d" sorted by key, or "<none>" (labels.FormatLabels).
std::string FormatLabels(const std::map<std::string, std::string>& labels);
// A LabelSelector as a selector string, "<none>" when it selects everything or is absent,
// "<error>" when invalid (metav1.FormatLabelSelector).
std::string FormatLabelSelector(const api::meta::v1::LabelSelector* selector);
// A LabelSelector as a selector string, "" when empty or absent, "<invalid>" when invalid (what
// the Deployment printer shows).
std::string SelectorString(const api::meta::v1::LabelSelector* selector);

// The containers' names and images, each comma-joined (upstream's layoutContainerCells).
std::pair<std::string, std::string> ContainerCells(
    const std::vector<api::core::v1::Container>& containers);

// "RWO,ROX,RWX,RWOP" for the access modes present, in that order.
std::string AccessModes(const std::vector<std::string>& modes);

// A Quantity as upstream's String() shows it: "0" when unset.
std::string QuantityText(const api::Quantity& quantity);
// The quantity of `name` in a resource list, "0" when absent.
std::string ResourceText(const std::map<std::string, api::Quantity>& resources,
                         const std::string& name);
// An IntOrString as its number or its string.
std::string IntOrStringText(const api::IntOrString& value);

// "True"/"False", "<unset>" when absent (upstream's printBoolPtr).
std::string BoolPointerText(const std::optional<bool>& value);

// `text`, or `fallback` when `text` is empty.
std::string OrElse(const std::string& text, const char* fallback);

// Up to `max` items joined by ",", with " + N more..." for the rest; `empty` when none.
std::string ListWithMore(const std::vector<std::string>& items, size_t max, const char* empty);

// Cell values: strings, integers and booleans, as the JSON types kubectl expects.
inline boost::json::value Cell(std::string text) {
  return boost::json::value(boost::json::string(std::move(text)));
}
inline boost::json::value IntCell(int64_t number) {
  return boost::json::value(number);
}
inline boost::json::value BoolCell(bool flag) {
  return boost::json::value(flag);
}

}  // namespace kpp::apiserver::printers
