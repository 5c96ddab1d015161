#include "api/runtime/scalars.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <chrono>
#include <limits>
#include <mutex>

#include "api/runtime/json_writer.h"
#include "apimachinery/resource/quantity.h"

namespace kpp::api {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

bool ReadDigits(std::string_view text, size_t& pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// Parses RFC 3339 into microseconds since the epoch.
Result<int64_t> ParseRfc3339Micros(std::string_view text) {
  // Made only on the way out of a failure: every timestamp of every decoded object comes here.
  const auto bad = [text] {
    return Error(ErrorCode::kBadRequest,
                 fmt::format("parsing time \"{}\" as \"2006-01-02T15:04:05Z07:00\": invalid "
                             "RFC 3339 time",
                             text));
  };
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, pos, 4, year) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, month) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, day) || !(Expect(text, pos, 'T') || Expect(text, pos, 't')) ||
      !ReadDigits(text, pos, 2, hour) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, minute) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, second)) {
    return bad();
  }
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 6; ++i)
      micros *= 10;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int offset_hours, offset_mins;
    if (!ReadDigits(text, pos, 2, offset_hours) || !Expect(text, pos, ':') ||
        !ReadDigits(text, pos, 2, offset_mins)) {
      return bad();
    }
    offset_minutes = sign * (offset_hours * 60 + offset_mins);
  } else {
    return bad();
  }
  if (pos != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return bad();
  }
  const year_month_day date{std::chrono::year(year), std::chrono::month(month),
                            std::chrono::day(day)};
  if (!date.ok()) return bad();
  const int64_t days_since_epoch = sys_days(date).time_since_epoch().count();
  const int64_t seconds =
      days_since_epoch * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  if (!InRfc3339Range(seconds)) {
    return Error(ErrorCode::kBadRequest,
                 fmt::format("parsing time \"{}\": year outside of range [0,9999] in UTC", text));
  }
  return seconds * 1'000'000 + micros;
}

std::string FormatUtc(int64_t unix_seconds) {
  const int64_t day_count =
      unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
  const int64_t in_day = unix_seconds - day_count * 86400;
  const year_month_day date{sys_days(days(day_count))};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     in_day / 3600, in_day / 60 % 60, in_day % 60);
}

}  // namespace

std::string Time::ToString() const {
  if (zero) return "";
  return FormatUtc(unix_seconds) + "Z";
}

Result<Time> Time::Parse(std::string_view text) {
  KPP_ASSIGN_OR_RETURN(int64_t micros, ParseRfc3339Micros(text));
  // Upstream truncates to whole seconds.
  return Time::FromUnixSeconds(micros >= 0 ? micros / 1'000'000
                                           : -((-micros + 999'999) / 1'000'000));
}

std::string MicroTime::ToString() const {
  if (zero) return "";
  const int64_t seconds =
      unix_micros >= 0 ? unix_micros / 1'000'000 : -((-unix_micros + 999'999) / 1'000'000);
  return fmt::format("{}.{:06}Z", FormatUtc(seconds), unix_micros - seconds * 1'000'000);
}

Result<MicroTime> MicroTime::Parse(std::string_view text) {
  KPP_ASSIGN_OR_RETURN(int64_t micros, ParseRfc3339Micros(text));
  return MicroTime::FromUnixMicros(micros);
}

struct RawJson::Shared {
  std::string text;
  mutable std::once_flag parse_once;
  mutable boost::json::value parsed;
};

RawJson::RawJson(const boost::json::value& value) {
  runtime::JsonWriter writer;
  runtime::WriteJsonValue(value, writer);
  *this = FromEncoded(std::move(writer).str());
}

RawJson RawJson::FromEncoded(std::string text) {
  RawJson raw;
  auto shared = std::make_shared<Shared>();
  shared->text = std::move(text);
  raw.shared_ = std::move(shared);
  return raw;
}

const boost::json::value& RawJson::value() const {
  static const boost::json::value null_value;
  if (shared_ == nullptr) return null_value;
  std::call_once(shared_->parse_once, [shared = shared_.get()] {
    // The text is an encoder's output, so it parses, and its depth was bounded where the value
    // came from.
    boost::json::parse_options options;
    options.max_depth = std::numeric_limits<unsigned>::max();
    shared->parsed = boost::json::parse(shared->text, {}, options);
  });
  return shared_->parsed;
}

std::string_view RawJson::Text() const {
  return shared_ == nullptr ? std::string_view("null") : std::string_view(shared_->text);
}

std::string RawJson::Serialize() const {
  return boost::json::serialize(value());
}

bool RawJson::operator==(const RawJson& other) const {
  // Equal texts are equal values; unequal ones may still be (members in another order).
  return Text() == other.Text() || value() == other.value();
}

Result<std::string> CanonicalQuantity(std::string_view text) {
  // Upstream trims the text before parsing.
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (resource::Quantity::IsCanonicalText(text)) return std::string(text);
  KPP_ASSIGN_OR_RETURN(resource::Quantity quantity, resource::Quantity::Parse(text));
  return quantity.String();
}

}  // namespace kpp::api
