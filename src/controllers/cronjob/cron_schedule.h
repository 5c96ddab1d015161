// Cron schedules as upstream's CronJob reads them (robfig/cron's standard parser): five fields
// (minute hour day-of-month month day-of-week) with lists, ranges, steps, `*`/`?` and month and
// weekday names, or a descriptor (@yearly, @annually, @monthly, @weekly, @daily, @midnight,
// @hourly, @every <duration>); and IANA time zones read from the system's TZif files, so that the
// next run is found in the cron job's own time zone across DST changes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kpp::controllers {

// A time zone: UTC offsets over time, from a TZif file (RFC 8536) and its POSIX TZ footer.
class TimeZone {
 public:
  // "UTC" (or "") is built in; other names are read from `zoneinfo_dir`/<name>.
  static Result<TimeZone> Load(std::string_view name,
                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  static TimeZone Utc();
  const std::string& name() const { return name_; }
  // Seconds east of UTC in effect at `unix_seconds`.
  int32_t OffsetAt(int64_t unix_seconds) const;
  // The instants whose local time is `local_seconds` (seconds since 1970-01-01T00:00 local):
  // none in a gap (spring forward), two in an overlap (fall back), earliest first.
  std::vector<int64_t> FromLocal(int64_t local_seconds) const;

 private:
  struct Rule;  // the POSIX TZ footer
  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;
  std::vector<uint8_t> transition_types_;
  std::vector<int32_t> type_offsets_;
  std::vector<bool> type_is_dst_;
  std::shared_ptr<const Rule> footer_;
};

class CronSchedule {
 public:
  // Errors read as robfig/cron's (they end up in the API server's validation messages).
  static Result<CronSchedule> Parse(std::string_view spec);
  // The first time strictly after `unix_seconds`, on a whole minute (or `@every` step), read in
  // `zone`; nullopt when nothing matches within five years (e.g. "0 0 30 2 *").
  std::optional<int64_t> Next(int64_t unix_seconds, const TimeZone& zone) const;

 private:
  uint64_t minutes_ = 0, hours_ = 0, days_of_month_ = 0, months_ = 0, days_of_week_ = 0;
  bool dom_star_ = false, dow_star_ = false;
  int64_t every_seconds_ = 0;  // @every
  bool Matches(int month, int day, int weekday) const;
  friend Result<CronSchedule> ParseFields(std::string_view spec);
};

// Civil-calendar helpers (proleptic Gregorian, days since 1970-01-01).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day);

}  // namespace kpp::controllers
