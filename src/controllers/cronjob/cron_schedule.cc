#include "controllers/cronjob/cron_schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace kpp::controllers {

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2);
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// 0 = Sunday.
int WeekdayOf(int64_t days) {
  return static_cast<int>(((days % 7) + 11) % 7);
}

}  // namespace

// ---- Time zones --------------------------------------------------------------------------

// A POSIX TZ string such as "EST5EDT,M3.2.0,M11.1.0": the standard offset, and when present
// the DST offset with the "Mm.w.d[/time]" days it starts and ends on (other rule forms are
// rare in the tz database and read as standard time only).
struct TimeZone::Rule {
  int32_t std_offset = 0;  // east of UTC
  int32_t dst_offset = 0;
  bool has_dst = false;
  struct When {
    int month = 0, week = 0, weekday = 0;
    int32_t time = 7200;
  } start, end;

  // Seconds since the epoch (local standard-time wall clock taken at `offset`) of `when` in
  // `year`.
  static int64_t Instant(const When& when, int64_t year, int32_t offset) {
    const int64_t first = DaysFromCivil(year, static_cast<unsigned>(when.month), 1);
    int64_t day = first + ((when.weekday - WeekdayOf(first)) + 7) % 7 + (when.week - 1) * 7;
    if (when.week == 5) {
      const unsigned next_month = when.month == 12 ? 1 : static_cast<unsigned>(when.month) + 1;
      const int64_t next_first = DaysFromCivil(when.month == 12 ? year + 1 : year, next_month, 1);
      while (day >= next_first)
        day -= 7;
    }
    return day * 86400 + when.time - offset;
  }

  int32_t OffsetAt(int64_t t) const {
    if (!has_dst) return std_offset;
    int64_t year;
    unsigned month, day;
    CivilFromDays(FloorDiv(t + std_offset, 86400), year, month, day);
    const int64_t starts = Instant(start, year, std_offset);
    const int64_t ends = Instant(end, year, dst_offset);
    if (starts < ends) return (t >= starts && t < ends) ? dst_offset : std_offset;
    return (t >= ends && t < starts) ? std_offset : dst_offset;
  }
};

namespace {

bool ParsePosixName(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    auto close = s.find('>');
    if (close == std::string_view::npos) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n])))
    ++n;
  s.remove_prefix(n);
  return n >= 3;
}

// [+-]hh[:mm[:ss]] in seconds.
bool ParsePosixTime(std::string_view& s, int32_t& out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int32_t total = 0;
  for (int part = 0; part < 3; ++part) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc()) return part > 0;
    s.remove_prefix(static_cast<size_t>(ptr - s.data()));
    total += value * (part == 0 ? 3600 : part == 1 ? 60 : 1);
    out = sign * total;
    if (s.empty() || s[0] != ':') return true;
    s.remove_prefix(1);
  }
  return true;
}

bool ParsePosixWhen(std::string_view& s, int& month, int& week, int& weekday, int32_t& time) {
  if (s.empty() || s[0] != 'M') return false;
  s.remove_prefix(1);
  int* parts[] = {&month, &week, &weekday};
  for (int i = 0; i < 3; ++i) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *parts[i]);
    if (ec != std::errc()) return false;
    s.remove_prefix(static_cast<size_t>(ptr - s.data()));
    if (i < 2) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
  }
  time = 7200;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    return ParsePosixTime(s, time);
  }
  return true;
}

uint32_t Be32(const std::string& data, size_t at) {
  return (uint32_t(uint8_t(data[at])) << 24) | (uint32_t(uint8_t(data[at + 1])) << 16) |
         (uint32_t(uint8_t(data[at + 2])) << 8) | uint32_t(uint8_t(data[at + 3]));
}

int64_t Be64(const std::string& data, size_t at) {
  return static_cast<int64_t>((uint64_t(Be32(data, at)) << 32) | Be32(data, at + 4));
}

}  // namespace

TimeZone TimeZone::Utc() {
  return TimeZone();
}

Result<TimeZone> TimeZone::Load(std::string_view name, const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC") return Utc();
  // Names are paths under the database: no escaping it.
  if (name.front() == '/' || name.find("..") != std::string_view::npos) {
    return InvalidError(fmt::format("unknown time zone {}", name));
  }
  std::ifstream in(zoneinfo_dir + "/" + std::string(name), std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  if (!in || data.size() < 44 || data.compare(0, 4, "TZif") != 0) {
    return InvalidError(fmt::format("unknown time zone {}", name));
  }
  auto counts = [&](size_t at) {
    std::array<uint32_t, 6> c{};
    for (size_t i = 0; i < 6; ++i)
      c[i] = Be32(data, at + 20 + 4 * i);
    return c;  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  };
  TimeZone zone;
  zone.name_ = std::string(name);
  auto c = counts(0);
  size_t at = 44;
  const bool v2 = data[4] >= '2';
  size_t time_size = 4;
  if (v2) {
    at += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (data.size() < at + 44) return InvalidError(fmt::format("bad time zone file {}", name));
    c = counts(at);
    at += 44;
    time_size = 8;
  }
  const size_t need =
      c[3] * time_size + c[3] + c[4] * 6 + c[5] + c[2] * (time_size + 4) + c[1] + c[0];
  if (data.size() < at + need || c[4] == 0) {
    return InvalidError(fmt::format("bad time zone file {}", name));
  }
  for (uint32_t i = 0; i < c[3]; ++i) {
    zone.transitions_.push_back(time_size == 8 ? Be64(data, at + i * 8)
                                               : static_cast<int32_t>(Be32(data, at + i * 4)));
  }
  at += c[3] * time_size;
  for (uint32_t i = 0; i < c[3]; ++i)
    zone.transition_types_.push_back(static_cast<uint8_t>(data[at + i]));
  at += c[3];
  for (uint32_t i = 0; i < c[4]; ++i) {
    zone.type_offsets_.push_back(static_cast<int32_t>(Be32(data, at + i * 6)));
    zone.type_is_dst_.push_back(data[at + i * 6 + 4] != 0);
  }
  at += need - c[3] * time_size - c[3];
  if (v2 && at < data.size() && data[at] == '\n') {
    const size_t end = data.find('\n', at + 1);
    std::string_view tz(data.data() + at + 1,
                        (end == std::string::npos ? data.size() : end) - at - 1);
    auto rule = std::make_shared<Rule>();
    int32_t std_west = 0;
    bool ok = ParsePosixName(tz) && ParsePosixTime(tz, std_west);
    rule->std_offset = -std_west;
    if (ok && !tz.empty() && tz[0] != ',') {
      ok = ParsePosixName(tz);
      rule->dst_offset = rule->std_offset + 3600;
      if (ok && !tz.empty() && tz[0] != ',') {
        int32_t dst_west = 0;
        ok = ParsePosixTime(tz, dst_west);
        rule->dst_offset = -dst_west;
      }
      if (ok && !tz.empty() && tz[0] == ',') {
        tz.remove_prefix(1);
        ok = ParsePosixWhen(tz, rule->start.month, rule->start.week, rule->start.weekday,
                            rule->start.time);
        if (ok && !tz.empty() && tz[0] == ',') {
          tz.remove_prefix(1);
          ok = ParsePosixWhen(tz, rule->end.month, rule->end.week, rule->end.weekday,
                              rule->end.time);
          rule->has_dst = ok;
        }
      }
    }
    if (ok) zone.footer_ = std::move(rule);
  }
  return zone;
}

int32_t TimeZone::OffsetAt(int64_t t) const {
  if (type_offsets_.empty()) return 0;
  if (transitions_.empty() || t < transitions_.front()) {
    if (transitions_.empty() && footer_) return footer_->OffsetAt(t);
    return type_offsets_.front();
  }
  if (t >= transitions_.back() && footer_) return footer_->OffsetAt(t);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  const size_t index = static_cast<size_t>(it - transitions_.begin()) - 1;
  return type_offsets_[transition_types_[index]];
}

std::vector<int64_t> TimeZone::FromLocal(int64_t local) const {
  std::vector<int64_t> out;
  // Offsets lie within ±26 h, and two transitions are never that close.
  for (int32_t offset : {OffsetAt(local - 93600), OffsetAt(local + 93600)}) {
    const int64_t t = local - offset;
    if (OffsetAt(t) == offset && std::find(out.begin(), out.end(), t) == out.end()) {
      out.push_back(t);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- Cron expressions --------------------------------------------------------------------

namespace {

struct Bounds {
  int min, max;
  const std::map<std::string, int>* names;
};

const std::map<std::string, int> kMonthNames = {{"jan", 1}, {"feb", 2},  {"mar", 3},  {"apr", 4},
                                                {"may", 5}, {"jun", 6},  {"jul", 7},  {"aug", 8},
                                                {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, int> kDayNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                              {"thu", 4}, {"fri", 5}, {"sat", 6}};

std::vector<std::string> Split(std::string_view text, char by) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(by, start);
    out.emplace_back(text.substr(start, at == std::string_view::npos ? text.npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

Result<int> ParseNumberOrName(const std::string& text, const Bounds& bounds) {
  if (bounds.names != nullptr) {
    std::string lower = text;
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto it = bounds.names->find(lower);
    if (it != bounds.names->end()) return it->second;
  }
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidError(
        fmt::format("failed to parse int from {}: strconv.Atoi: parsing \"{}\": "
                    "invalid syntax",
                    text, text));
  }
  if (value < 0)
    return InvalidError(fmt::format("negative number ({}) not allowed: {}", value, text));
  return value;
}

// One comma-separated part of a field; sets `star` for "*" or "?" without a step above 1.
Result<uint64_t> ParseRange(const std::string& expr, const Bounds& bounds, bool& star) {
  const auto range_and_step = Split(expr, '/');
  const auto low_and_high = Split(range_and_step[0], '-');
  const bool single = low_and_high.size() == 1;
  int start, end, step = 1;
  bool is_star = false;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = bounds.min;
    end = bounds.max;
    is_star = true;
  } else {
    KPP_ASSIGN_OR_RETURN(start, ParseNumberOrName(low_and_high[0], bounds));
    if (low_and_high.size() == 1) {
      end = start;
    } else if (low_and_high.size() == 2) {
      KPP_ASSIGN_OR_RETURN(end, ParseNumberOrName(low_and_high[1], bounds));
    } else {
      return InvalidError(fmt::format("too many hyphens: {}", expr));
    }
  }
  if (range_and_step.size() == 2) {
    KPP_ASSIGN_OR_RETURN(step, ParseNumberOrName(range_and_step[1], Bounds{0, 0, nullptr}));
    if (single) end = bounds.max;  // "N/step" is "N-max/step"
    if (step > 1) is_star = false;
  } else if (range_and_step.size() > 2) {
    return InvalidError(fmt::format("too many slashes: {}", expr));
  }
  if (start < bounds.min) {
    return InvalidError(
        fmt::format("beginning of range ({}) below minimum ({}): {}", start, bounds.min, expr));
  }
  if (end > bounds.max) {
    return InvalidError(
        fmt::format("end of range ({}) above maximum ({}): {}", end, bounds.max, expr));
  }
  if (start > end) {
    return InvalidError(
        fmt::format("beginning of range ({}) beyond end of range ({}): {}", start, end, expr));
  }
  if (step == 0) {
    return InvalidError(fmt::format("step of range should be a positive number: {}", expr));
  }
  uint64_t bits = 0;
  for (int i = start; i <= end; i += step)
    bits |= uint64_t{1} << i;
  star = star || is_star;
  return bits;
}

Result<uint64_t> ParseField(const std::string& field, const Bounds& bounds, bool& star) {
  uint64_t bits = 0;
  for (const auto& part : Split(field, ',')) {
    KPP_ASSIGN_OR_RETURN(uint64_t more, ParseRange(part, bounds, star));
    bits |= more;
  }
  return bits;
}

// Go's time.ParseDuration, for the units a schedule would use.
Result<int64_t> ParseGoDurationSeconds(std::string_view text) {
  const std::string original(text);
  if (text.empty()) return InvalidError("time: invalid duration \"" + original + "\"");
  double total = 0;
  while (!text.empty()) {
    size_t n = 0;
    while (n < text.size() && (std::isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.'))
      ++n;
    if (n == 0) return InvalidError("time: invalid duration \"" + original + "\"");
    const double value = std::stod(std::string(text.substr(0, n)));
    text.remove_prefix(n);
    size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.')
      ++u;
    const std::string unit(text.substr(0, u));
    text.remove_prefix(u);
    static const std::map<std::string, double> kUnits = {
        {"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
    auto it = kUnits.find(unit);
    if (it == kUnits.end()) {
      return InvalidError(unit.empty() ? "time: missing unit in duration \"" + original + "\""
                                       : "time: unknown unit \"" + unit + "\" in duration \"" +
                                             original + "\"");
    }
    total += value * it->second;
  }
  return static_cast<int64_t>(total);
}

}  // namespace

Result<CronSchedule> ParseFields(std::string_view spec) {
  CronSchedule schedule;
  std::vector<std::string> fields;
  std::istringstream words{std::string(spec)};
  for (std::string word; words >> word;)
    fields.push_back(word);
  if (fields.size() != 5) {
    return InvalidError(fmt::format("expected exactly 5 fields, found {}: [{}]", fields.size(),
                                    fmt::join(fields, " ")));
  }
  bool ignored = false;
  KPP_ASSIGN_OR_RETURN(schedule.minutes_, ParseField(fields[0], Bounds{0, 59, nullptr}, ignored));
  KPP_ASSIGN_OR_RETURN(schedule.hours_, ParseField(fields[1], Bounds{0, 23, nullptr}, ignored));
  KPP_ASSIGN_OR_RETURN(schedule.days_of_month_,
                       ParseField(fields[2], Bounds{1, 31, nullptr}, schedule.dom_star_));
  KPP_ASSIGN_OR_RETURN(schedule.months_,
                       ParseField(fields[3], Bounds{1, 12, &kMonthNames}, ignored));
  KPP_ASSIGN_OR_RETURN(schedule.days_of_week_,
                       ParseField(fields[4], Bounds{0, 6, &kDayNames}, schedule.dow_star_));
  return schedule;
}

Result<CronSchedule> CronSchedule::Parse(std::string_view spec) {
  while (!spec.empty() && std::isspace(static_cast<unsigned char>(spec.front())))
    spec.remove_prefix(1);
  while (!spec.empty() && std::isspace(static_cast<unsigned char>(spec.back())))
    spec.remove_suffix(1);
  if (spec.empty()) return InvalidError("empty spec string");
  if (spec.front() != '@') return ParseFields(spec);
  static const std::map<std::string, std::string, std::less<>> kDescriptors = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  if (auto it = kDescriptors.find(spec); it != kDescriptors.end()) {
    return ParseFields(it->second);
  }
  constexpr std::string_view kEvery = "@every ";
  if (spec.substr(0, kEvery.size()) == kEvery) {
    auto seconds = ParseGoDurationSeconds(spec.substr(kEvery.size()));
    if (!seconds.ok()) {
      return InvalidError(
          fmt::format("failed to parse duration {}: {}", spec, seconds.error().message()));
    }
    CronSchedule schedule;
    schedule.every_seconds_ = std::max<int64_t>(*seconds, 1);
    return schedule;
  }
  return InvalidError(fmt::format("unrecognized descriptor: {}", spec));
}

bool CronSchedule::Matches(int month, int day, int weekday) const {
  if ((months_ >> month & 1) == 0) return false;
  const bool dom = (days_of_month_ >> day & 1) != 0;
  const bool dow = (days_of_week_ >> weekday & 1) != 0;
  // robfig/cron: when either day field is a star both must match, otherwise either may.
  if (dom_star_ || dow_star_) return dom && dow;
  return dom || dow;
}

std::optional<int64_t> CronSchedule::Next(int64_t after, const TimeZone& zone) const {
  if (every_seconds_ > 0) return after + every_seconds_;
  // Walks real minutes, read as local wall-clock time, jumping over months, days and hours that
  // cannot match. A jump is sized in local time, so across an offset change it may land short
  // (the walk goes on) or late by the change (it is pulled back), never past a match. Minutes
  // inside a DST gap do not exist; those of a repeated hour occur, and match, twice.
  int64_t t = FloorDiv(after, 60) * 60 + 60;
  const int64_t give_up = t + int64_t{5} * 366 * 86400;
  while (t < give_up) {
    const int32_t offset = zone.OffsetAt(t);
    const int64_t local = t + offset;
    const int64_t days = FloorDiv(local, 86400);
    int64_t year;
    unsigned month, day;
    CivilFromDays(days, year, month, day);
    const int64_t second_of_day = local - days * 86400;
    const int hour = static_cast<int>(second_of_day / 3600);
    const int minute = static_cast<int>(second_of_day % 3600 / 60);
    int64_t target;
    if ((months_ >> month & 1) == 0) {
      target = DaysFromCivil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) * 86400;
    } else if (!Matches(static_cast<int>(month), static_cast<int>(day), WeekdayOf(days))) {
      target = (days + 1) * 86400;
    } else if ((hours_ >> hour & 1) == 0) {
      target = days * 86400 + (hour + 1) * 3600;
    } else if ((minutes_ >> minute & 1) == 0) {
      t += 60;
      continue;
    } else {
      return t;
    }
    int64_t next = t + (target - local);
    const int64_t landed = next + zone.OffsetAt(next);
    if (landed > target) next -= landed - target;
    t = std::max(next, t + 60);
  }
  return std::nullopt;
}

}  // namespace kpp::controllers
