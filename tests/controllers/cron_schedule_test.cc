// Cron parsing and next-run computation, in UTC and in zones with DST (New York, Berlin,
// Kolkata), including times beyond the zone file's transitions (its POSIX rule).
#include "controllers/cronjob/cron_schedule.h"

#include <gtest/gtest.h>

#include "controllers/cronjob/cronjob.h"

namespace kpp::controllers {
namespace {

TEST(CronScheduleTest, ParseErrorsReadAsUpstreams) {
  struct Case {
    std::string spec;
    std::string error;  // empty: valid
  };
  const Case cases[] = {
      {"*/1 * * * *", ""},
      {"0 9 * * MON-FRI", ""},
      {"0 0 1 jan,jul *", ""},
      {"5-55/10 1,13 ? * sun", ""},
      {"@hourly", ""},
      {"@every 90s", ""},
      {"", "empty spec string"},
      {"foo", "expected exactly 5 fields, found 1: [foo]"},
      {"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
      {"60 * * * *", "end of range (60) above maximum (59): 60"},
      {"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
      {"* * * * 7", "end of range (7) above maximum (6): 7"},
      {"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
      {"*/0 * * * *", "step of range should be a positive number: */0"},
      {"1-2-3 * * * *", "too many hyphens: 1-2-3"},
      {"@fortnightly", "unrecognized descriptor: @fortnightly"},
      {"@every x", "failed to parse duration @every x: time: invalid duration \"x\""},
  };
  for (const auto& c : cases) {
    auto parsed = CronSchedule::Parse(c.spec);
    if (c.error.empty()) {
      EXPECT_TRUE(parsed.ok()) << c.spec << ": " << parsed.error().message();
    } else {
      ASSERT_FALSE(parsed.ok()) << c.spec;
      EXPECT_EQ(parsed.error().message(), c.error) << c.spec;
    }
  }
}

TEST(CronScheduleTest, NextRunInTimeZones) {
  struct Case {
    std::string name;
    std::string spec;
    std::string zone;
    int64_t after;
    std::optional<int64_t> want;
  };
  const int64_t friday_1007 = 1714730820;  // 2024-05-03T10:07:00Z, a Friday
  const Case cases[] = {
      {"every 15 minutes", "*/15 * * * *", "UTC", friday_1007, 1714731300},
      {"every minute, strictly after", "* * * * *", "UTC", 1714731300, 1714731360},
      {"weekdays skip the weekend", "0 9 * * MON-FRI", "UTC", friday_1007, 1714986000},
      {"yearly", "@yearly", "UTC", friday_1007, 1735689600},
      {"day of month or weekday", "0 0 13 * FRI", "UTC", friday_1007, 1715299200},
      {"never matches", "0 0 30 2 *", "UTC", friday_1007, std::nullopt},
      {"@every adds its period", "@every 1h30m", "UTC", friday_1007, friday_1007 + 5400},
      {"spring forward skips the missing 02:30", "30 2 * * *", "America/New_York",
       1710046800 /* 2024-03-10 00:00 EST */, 1710138600 /* 03-11 02:30 EDT */},
      {"fall back: first 01:30", "30 1 * * *", "America/New_York",
       1730606400 /* 2024-11-03 00:00 EDT */, 1730611800},
      {"fall back: the repeated 01:30", "30 1 * * *", "America/New_York", 1730611800, 1730615400},
      {"Berlin winter", "0 9 * * *", "Europe/Berlin", 1705305600 - 3600, 1705305600},
      {"Berlin summer", "0 9 * * *", "Europe/Berlin", 1721026800 - 3600, 1721026800},
      {"half-hour offset", "0 9 * * *", "Asia/Kolkata", 1714534200 - 60, 1714534200},
      {"past the file's transitions", "0 12 1 7 *", "America/New_York", 2208988800, 2224771200},
  };
  for (const auto& c : cases) {
    auto schedule = CronSchedule::Parse(c.spec);
    ASSERT_TRUE(schedule.ok()) << c.name;
    auto zone = TimeZone::Load(c.zone);
    ASSERT_TRUE(zone.ok()) << c.name << ": " << zone.error().message();
    EXPECT_EQ(schedule->Next(c.after, *zone), c.want) << c.name;
  }
}

TEST(CronScheduleTest, UnknownZonesAreRefused) {
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus").ok());
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
  EXPECT_EQ(TimeZone::Load("Mars/Olympus").error().message(), "unknown time zone Mars/Olympus");
}

TEST(CronScheduleTest, MostRecentMissedTime) {
  auto schedule = CronSchedule::Parse("*/1 * * * *");
  ASSERT_TRUE(schedule.ok());
  const auto utc = TimeZone::Utc();
  // Created at 10:00:30, now 10:03:10: runs were due at 10:01, 10:02 and 10:03.
  auto missed = MostRecentScheduleTime(*schedule, utc, 1714730430, 1714730590);
  EXPECT_EQ(missed.most_recent, 1714730580);
  EXPECT_FALSE(missed.too_many);
  // None due yet.
  EXPECT_FALSE(MostRecentScheduleTime(*schedule, utc, 1714730430, 1714730459).most_recent);
  // A week of minutes: too many, and still the latest.
  missed = MostRecentScheduleTime(*schedule, utc, 1714730400 - 7 * 86400, 1714730590);
  EXPECT_TRUE(missed.too_many);
  EXPECT_EQ(missed.most_recent, 1714730580);
}

TEST(CronScheduleTest, ScheduledTimestampInTheZone) {
  auto new_york = TimeZone::Load("America/New_York");
  ASSERT_TRUE(new_york.ok());
  EXPECT_EQ(FormatRfc3339In(1730611800, *new_york), "2024-11-03T01:30:00-04:00");
  EXPECT_EQ(FormatRfc3339In(1730615400, *new_york), "2024-11-03T01:30:00-05:00");
  EXPECT_EQ(FormatRfc3339In(1714730820, TimeZone::Utc()), "2024-05-03T10:07:00Z");
}

}  // namespace
}  // namespace kpp::controllers
