#include "apimachinery/intstr/int_or_string.h"

#include <gtest/gtest.h>

namespace kpp::intstr {
namespace {

TEST(IntOrStringTest, Constructors) {
  const IntOrString number = IntOrString::FromInt32(93);
  EXPECT_TRUE(number.is_int());
  EXPECT_EQ(number.int_value(), 93);
  EXPECT_EQ(number.String(), "93");
  EXPECT_EQ(number.IntValue(), 93);

  const IntOrString text = IntOrString::FromString("76");
  EXPECT_TRUE(text.is_string());
  EXPECT_EQ(text.string_value(), "76");
  EXPECT_EQ(text.String(), "76");
  EXPECT_EQ(text.IntValue(), 76);
  EXPECT_EQ(IntOrString::FromString("http").IntValue(), 0);

  EXPECT_EQ(IntOrString(), IntOrString::FromInt32(0));
  EXPECT_NE(IntOrString::FromInt32(1), IntOrString::FromString("1"));
}

TEST(IntOrStringTest, Parse) {
  EXPECT_EQ(IntOrString::Parse("80"), IntOrString::FromInt32(80));
  EXPECT_EQ(IntOrString::Parse("-1"), IntOrString::FromInt32(-1));
  EXPECT_EQ(IntOrString::Parse("+5"), IntOrString::FromInt32(5));
  EXPECT_EQ(IntOrString::Parse("2147483647"), IntOrString::FromInt32(2147483647));
  EXPECT_EQ(IntOrString::Parse("2147483648"), IntOrString::FromString("2147483648"));
  EXPECT_EQ(IntOrString::Parse("http"), IntOrString::FromString("http"));
  EXPECT_EQ(IntOrString::Parse("25%"), IntOrString::FromString("25%"));
  EXPECT_EQ(IntOrString::Parse(""), IntOrString::FromString(""));
}

TEST(IntOrStringTest, ScaledValueFromIntOrPercent) {
  struct Case {
    IntOrString value;
    int64_t total;
    bool round_up;
    int64_t expected;
  };
  const Case cases[] = {
      {IntOrString::FromInt32(123), 0, false, 123},
      {IntOrString::FromString("90%"), 100, true, 90},
      {IntOrString::FromString("90%"), 95, true, 86},
      {IntOrString::FromString("90%"), 95, false, 85},
      {IntOrString::FromString("25%"), 10, true, 3},
      {IntOrString::FromString("25%"), 10, false, 2},
      {IntOrString::FromString("0%"), 10, true, 0},
      {IntOrString::FromString("100%"), 7, false, 7},
      {IntOrString::FromString("-90%"), 100, false, -90},
      {IntOrString::FromString("+10%"), 100, false, 10},
      {IntOrString::FromString("33%"), 3, true, 1},
      {IntOrString::FromString("33%"), 3, false, 0},
  };
  for (const auto& c : cases) {
    auto scaled = GetScaledValueFromIntOrPercent(c.value, c.total, c.round_up);
    ASSERT_TRUE(scaled.ok()) << c.value.String() << ": " << scaled.error().message();
    EXPECT_EQ(*scaled, c.expected) << c.value.String() << " of " << c.total;
  }
}

TEST(IntOrStringTest, ScaledValueErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"90", "invalid value for IntOrString: invalid type: string is not a percentage"},
      {"%",
       "invalid value for IntOrString: invalid value \"%\": strconv.Atoi: parsing \"\": "
       "invalid syntax"},
      {"#%",
       "invalid value for IntOrString: invalid value \"#%\": strconv.Atoi: parsing \"#\": "
       "invalid syntax"},
      {"1.5%",
       "invalid value for IntOrString: invalid value \"1.5%\": strconv.Atoi: parsing "
       "\"1.5\": invalid syntax"},
      {"99999999999999999999%",
       "invalid value for IntOrString: invalid value \"99999999999999999999%\": strconv.Atoi: "
       "parsing \"99999999999999999999\": value out of range"},
  };
  for (const auto& [text, message] : cases) {
    auto scaled = GetScaledValueFromIntOrPercent(IntOrString::FromString(text), 100, true);
    ASSERT_FALSE(scaled.ok()) << text;
    EXPECT_EQ(scaled.error().code(), ErrorCode::kInvalid);
    EXPECT_EQ(scaled.error().message(), message);
  }
}

}  // namespace
}  // namespace kpp::intstr
