#include "api/runtime/scalars.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>
#include <vector>

namespace kpp::api {
namespace {

TEST(TimeTest, ParsesRfc3339AndFormatsUtcSeconds) {
  auto utc = Time::Parse("2024-01-02T03:04:05Z");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(utc->unix_seconds, 1704164645);
  EXPECT_EQ(utc->ToString(), "2024-01-02T03:04:05Z");
  auto offset = Time::Parse("2024-01-02T04:04:05.999+01:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(offset->ToString(), "2024-01-02T03:04:05Z");
  auto before_epoch = Time::Parse("1969-12-31T23:59:59Z");
  ASSERT_TRUE(before_epoch.ok());
  EXPECT_EQ(before_epoch->unix_seconds, -1);
  EXPECT_EQ(before_epoch->ToString(), "1969-12-31T23:59:59Z");
}

TEST(TimeTest, RejectsMalformedTimes) {
  for (const char* bad : {"2024-01-02", "2024-13-02T03:04:05Z", "2024-02-30T03:04:05Z",
                          "2024-01-02T03:04:05", "2024-01-02T03:04:05Zjunk", "yesterday"}) {
    auto parsed = Time::Parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kBadRequest);
  }
}

TEST(TimeTest, RejectsTimesOutsideTheYearsRfc3339CanWrite) {
  // Found while writing the fuzz targets: year 0000 with a positive offset is year -1 in UTC, which
  // cannot be written back as RFC 3339, so the object could not be served.
  EXPECT_TRUE(Time::Parse("0000-01-01T00:00:00Z").ok());
  EXPECT_TRUE(Time::Parse("9999-12-31T23:59:59Z").ok());
  auto before = Time::Parse("0000-01-01T00:00:00+00:01");
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(before.error().message(),
            "parsing time \"0000-01-01T00:00:00+00:01\": year outside of range [0,9999] in UTC");
  EXPECT_FALSE(MicroTime::Parse("9999-12-31T23:59:59.5-00:01").ok());
}

TEST(MicroTimeTest, KeepsMicroseconds) {
  auto parsed = MicroTime::Parse("2024-01-02T03:04:05.123456Z");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ToString(), "2024-01-02T03:04:05.123456Z");
  auto short_fraction = MicroTime::Parse("2024-01-02T03:04:05.5Z");
  ASSERT_TRUE(short_fraction.ok());
  EXPECT_EQ(short_fraction->ToString(), "2024-01-02T03:04:05.500000Z");
}

TEST(RawJsonTest, KeepsGosTextAndParsesItOnDemand) {
  const auto original = boost::json::parse(R"({"b":[1,2.5,"<x>"],"a":{"f:c":{}},"n":null})");
  const RawJson raw(original);
  EXPECT_FALSE(raw.IsZero());
  // Members in their order, Go's escapes.
  EXPECT_EQ(raw.Text(), R"({"b":[1,2.5,"\u003cx\u003e"],"a":{"f:c":{}},"n":null})");
  EXPECT_EQ(raw.value(), original);
  const RawJson copy = raw;
  EXPECT_EQ(&copy.value(), &raw.value());  // copies share one value
  EXPECT_EQ(RawJson().Text(), "null");
  EXPECT_TRUE(RawJson().value().is_null());
}

TEST(RawJsonTest, EqualValuesAreEqualWhateverTheirMembersOrder) {
  EXPECT_EQ(RawJson(boost::json::parse(R"({"a":1,"b":2})")),
            RawJson::FromEncoded(R"({"b":2,"a":1})"));
  EXPECT_FALSE(RawJson(boost::json::parse(R"({"a":1})")) == RawJson::FromEncoded(R"({"a":2})"));
  EXPECT_FALSE(RawJson() == RawJson::FromEncoded("{}"));
  EXPECT_EQ(RawJson(), RawJson());
}

TEST(RawJsonTest, ParsesOnceWhenManyThreadsAskAtOnce) {
  const RawJson raw =
      RawJson::FromEncoded(R"({"deep":)" + std::string(40, '[') + "1" + std::string(40, ']') + "}");
  std::vector<const boost::json::value*> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = &raw.value(); });
  }
  for (auto& thread : threads)
    thread.join();
  for (const auto* value : seen)
    EXPECT_EQ(value, seen[0]);
  EXPECT_EQ(boost::json::serialize(*seen[0]), raw.Text());
}

}  // namespace
}  // namespace kpp::api
