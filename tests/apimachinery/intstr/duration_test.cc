// Cases from Go's documented time.ParseDuration / Duration.String behaviour.
#include "apimachinery/intstr/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace kpp::intstr {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ParseDurationTest, ParsesGoSyntax) {
  const std::pair<std::string, nanoseconds> cases[] = {
      {"0", nanoseconds(0)},
      {"5s", seconds(5)},
      {"30s", seconds(30)},
      {"1478s", seconds(1478)},
      {"-5s", seconds(-5)},
      {"+5s", seconds(5)},
      {"-0", nanoseconds(0)},
      {"+0", nanoseconds(0)},
      {"5.0s", seconds(5)},
      {"5.6s", seconds(5) + milliseconds(600)},
      {"5.s", seconds(5)},
      {".5s", milliseconds(500)},
      {"1.0s", seconds(1)},
      {"1.00s", seconds(1)},
      {"1.004s", seconds(1) + milliseconds(4)},
      {"1.0040s", seconds(1) + milliseconds(4)},
      {"100.00100s", seconds(100) + milliseconds(1)},
      {"10ns", nanoseconds(10)},
      {"11us", microseconds(11)},
      {"12\xC2\xB5s", microseconds(12)},
      {"12\xCE\xBCs", microseconds(12)},
      {"13ms", milliseconds(13)},
      {"14s", seconds(14)},
      {"15m", minutes(15)},
      {"16h", hours(16)},
      {"3h30m", hours(3) + minutes(30)},
      {"1h30m", minutes(90)},
      {"10.5s4m", minutes(4) + seconds(10) + milliseconds(500)},
      {"-2m3.4s", -(minutes(2) + seconds(3) + milliseconds(400))},
      {"1h2m3s4ms5us6ns",
       hours(1) + minutes(2) + seconds(3) + milliseconds(4) + microseconds(5) + nanoseconds(6)},
      {"39h9m14.425s", hours(39) + minutes(9) + seconds(14) + milliseconds(425)},
      {"52763797000ns", nanoseconds(52763797000)},
      {"0.3333333333333333333h", minutes(20)},
      {"9007199254740993ns", nanoseconds(9007199254740993)},
      {"9223372036854775807ns", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"9223372036854775.807us", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"9223372036s854ms775us807ns", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"-9223372036854775808ns", nanoseconds(std::numeric_limits<int64_t>::min())},
      {"-9223372036854775.808us", nanoseconds(std::numeric_limits<int64_t>::min())},
      {"-2562047h47m16.854775808s", nanoseconds(std::numeric_limits<int64_t>::min())},
      {"0.100000000000000000000h", minutes(6)},
      {"0.830103483285477580700h", minutes(49) + seconds(48) + nanoseconds(372539827)},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = ParseDuration(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().message();
    EXPECT_EQ(parsed->count(), expected.count()) << text;
  }
}

TEST(ParseDurationTest, RejectsWithGoMessages) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "time: invalid duration \"\""},
      {"3", "time: missing unit in duration \"3\""},
      {"-", "time: invalid duration \"-\""},
      {"s", "time: invalid duration \"s\""},
      {".", "time: invalid duration \".\""},
      {"-.", "time: invalid duration \"-.\""},
      {".s", "time: invalid duration \".s\""},
      {"+.s", "time: invalid duration \"+.s\""},
      {"1d", "time: unknown unit \"d\" in duration \"1d\""},
      {"1.5.s", "time: missing unit in duration \"1.5.s\""},
      {"\x85\x85", "time: invalid duration \"\\x85\\x85\""},
      {"\xff\xff", "time: invalid duration \"\\xff\\xff\""},
      {"hello \xff\xff world", "time: invalid duration \"hello \\xff\\xff world\""},
      {"1\xff", "time: unknown unit \"\\xff\" in duration \"1\\xff\""},
      {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
      {"9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\""},
      {"9223372036854ms775us808ns", "time: invalid duration \"9223372036854ms775us808ns\""},
      {"-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\""},
      {"3000000h", "time: invalid duration \"3000000h\""},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = ParseDuration(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kBadRequest);
    EXPECT_EQ(parsed.error().message(), message);
  }
}

TEST(FormatDurationTest, FormatsLikeGo) {
  const std::pair<nanoseconds, std::string> cases[] = {
      {nanoseconds(0), "0s"},
      {nanoseconds(1), "1ns"},
      {nanoseconds(1100), "1.1\xC2\xB5s"},
      {microseconds(2200), "2.2ms"},
      {milliseconds(3300), "3.3s"},
      {minutes(4) + seconds(5), "4m5s"},
      {minutes(4) + milliseconds(5001), "4m5.001s"},
      {hours(5) + minutes(6) + milliseconds(7001), "5h6m7.001s"},
      {minutes(8) + nanoseconds(1), "8m0.000000001s"},
      {hours(1), "1h0m0s"},
      {minutes(90), "1h30m0s"},
      {milliseconds(300), "300ms"},
      {milliseconds(1500), "1.5s"},
      {minutes(-2), "-2m0s"},
      {nanoseconds(-1), "-1ns"},
      {nanoseconds(std::numeric_limits<int64_t>::max()), "2562047h47m16.854775807s"},
      {nanoseconds(std::numeric_limits<int64_t>::min()), "-2562047h47m16.854775808s"},
  };
  for (const auto& [duration, expected] : cases) {
    EXPECT_EQ(FormatDuration(duration), expected);
    auto parsed = ParseDuration(expected);
    ASSERT_TRUE(parsed.ok()) << expected;
    EXPECT_EQ(parsed->count(), duration.count()) << expected;
  }
}

}  // namespace
}  // namespace kpp::intstr
