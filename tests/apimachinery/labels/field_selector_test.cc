#include "apimachinery/labels/field_selector.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace kpp::fields {
namespace {

Selector MustParse(std::string_view text) {
  auto parsed = Selector::Parse(text);
  if (!parsed.ok()) {
    ADD_FAILURE() << "parsing '" << text << "': " << parsed.error().message();
    return Selector::Nothing();
  }
  return *parsed;
}

TEST(FieldSelectorTest, ParsesToCanonicalStrings) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"x=a", "x=a"},
      {"x=a,y=b,z=c", "x=a,y=b,z=c"},
      {"z=c,y=b,x=a", "x=a,y=b,z=c"},
      {"x!=a,y=b", "x!=a,y=b"},
      {"x==a", "x=a"},
      {"x=", "x="},
      {"x=a,,y=b", "x=a,y=b"},
      {",x=a,", "x=a"},
      {"=", ""},
      {"x=a\\,b", "x=a\\,b"},
      {"x=a\\=b", "x=a\\=b"},
      {"x=a\\\\b", "x=a\\\\b"},
      {"x=a\\,b,y=c", "x=a\\,b,y=c"},
      {"metadata.name=web-0,status.phase!=Running", "metadata.name=web-0,status.phase!=Running"},
      {"spec.nodeName=", "spec.nodeName="},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const Selector selector = MustParse(input);
    EXPECT_EQ(selector.String(), expected);
    EXPECT_EQ(MustParse(expected).String(), expected);
  }
  EXPECT_TRUE(MustParse("").Empty());
  EXPECT_TRUE(MustParse("=").Empty());
  EXPECT_FALSE(MustParse("x=").Empty());
}

TEST(FieldSelectorTest, UnescapesValues) {
  EXPECT_EQ(MustParse("x=a\\,b").requirements().front().value, "a,b");
  EXPECT_EQ(MustParse("x=a\\=b").requirements().front().value, "a=b");
  EXPECT_EQ(MustParse("x=a\\\\b").requirements().front().value, "a\\b");
  EXPECT_EQ(MustParse("x!=a").requirements().front().op, Requirement::Operator::kNotEquals);
}

TEST(FieldSelectorTest, RejectsWithUpstreamMessages) {
  const std::pair<std::string, std::string> cases[] = {
      {"x", "invalid selector: 'x'; can't understand 'x'"},
      {"x=a,y", "invalid selector: 'x=a,y'; can't understand 'y'"},
      {"x=a=b", "invalid field selector: unescaped character in value: 61"},
      {"x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"},
      {"x!=a=b", "invalid field selector: unescaped character in value: 61"},
      {"x=a\\b", "invalid field selector: invalid escape sequence: \\b"},
      {"x=a\\", "invalid field selector: invalid escape sequence: \\"},
  };
  for (const auto& [input, message] : cases) {
    SCOPED_TRACE(input);
    auto parsed = Selector::Parse(input);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code(), ErrorCode::kBadRequest);
    EXPECT_EQ(parsed.error().message(), message);
  }
}

TEST(FieldSelectorTest, Matches) {
  const Set fields = {{"metadata.name", "web-0"}, {"status.phase", "Running"}, {"x", "a,b"}};
  const std::pair<std::string, bool> cases[] = {
      {"", true},
      {"metadata.name=web-0", true},
      {"metadata.name==web-0", true},
      {"metadata.name=web-1", false},
      {"metadata.name!=web-1", true},
      {"metadata.name=web-0,status.phase!=Running", false},
      {"metadata.name=web-0,status.phase=Running", true},
      {"spec.nodeName=", true},
      {"spec.nodeName!=", false},
      {"spec.nodeName!=node-1", true},
      {"x=a\\,b", true},
  };
  for (const auto& [text, expected] : cases)
    EXPECT_EQ(MustParse(text).Matches(fields), expected) << text;
  EXPECT_TRUE(Selector::Everything().Matches(fields));
  EXPECT_FALSE(Selector::Nothing().Matches(fields));
  EXPECT_FALSE(Selector::Nothing().Empty());
}

TEST(FieldSelectorTest, FieldNamesAndExactMatch) {
  const Selector selector =
      MustParse("metadata.name=a,status.phase!=Running,metadata.name!=b,spec.nodeName=n1");
  EXPECT_EQ(selector.FieldNames(),
            (std::vector<std::string>{"metadata.name", "spec.nodeName", "status.phase"}));
  EXPECT_EQ(selector.RequiresExactMatch("metadata.name"), "a");
  EXPECT_EQ(selector.RequiresExactMatch("spec.nodeName"), "n1");
  EXPECT_EQ(selector.RequiresExactMatch("status.phase"), std::nullopt);
  EXPECT_TRUE(Selector::Everything().FieldNames().empty());
}

TEST(FieldSelectorTest, TransformRenamesDropsOrRejects) {
  const Selector selector = MustParse("name=a,phase=Running");
  auto renamed =
      selector.Transform([](std::string_view field,
                            std::string_view value) -> Result<std::pair<std::string, std::string>> {
        if (field == "name") return std::pair<std::string, std::string>("metadata.name", value);
        if (field == "phase") return std::pair<std::string, std::string>("", "");
        return BadRequestError(fmt::format("field label not supported: {}", field));
      });
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->String(), "metadata.name=a");

  auto rejected = MustParse("bogus=1").Transform(
      [](std::string_view field, std::string_view) -> Result<std::pair<std::string, std::string>> {
        return BadRequestError(fmt::format("field label not supported: {}", field));
      });
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().message(), "field label not supported: bogus");
}

TEST(FieldSelectorTest, Constructors) {
  EXPECT_EQ(Selector::OneTermEqual("metadata.name", "a,b").String(), "metadata.name=a\\,b");
  EXPECT_EQ(Selector::OneTermNotEqual("spec.nodeName", "").String(), "spec.nodeName!=");
  EXPECT_EQ(Selector::FromSet({{"b", "2"}, {"a", "1"}}).String(), "a=1,b=2");
}

TEST(FieldSelectorTest, EscapeRoundTrip) {
  for (const std::string value : {"", "plain", "a,b", "a=b", "a\\b", "\\,=", "x\\\\,y"}) {
    const std::string escaped = EscapeValue(value);
    auto unescaped = UnescapeValue(escaped);
    ASSERT_TRUE(unescaped.ok()) << escaped;
    EXPECT_EQ(*unescaped, value);
  }
  EXPECT_EQ(EscapeValue("a,b=c\\d"), "a\\,b\\=c\\\\d");
}

}  // namespace
}  // namespace kpp::fields

namespace kpp::fields {
namespace {

// Values with any mix of special characters survive String() and Parse().
TEST(FieldSelectorTest, RandomValuesRoundTripThroughString) {
  std::mt19937 random(11);
  const std::string alphabet = "ab,=\\!.- ";
  for (int i = 0; i < 5000; ++i) {
    std::vector<Requirement> requirements;
    const int count = 1 + static_cast<int>(random() % 3);
    Set fields;
    std::string text;
    for (int j = 0; j < count; ++j) {
      std::string value;
      const int length = static_cast<int>(random() % 6);
      for (int k = 0; k < length; ++k)
        value.push_back(alphabet[random() % alphabet.size()]);
      const std::string field = "f" + std::to_string(j);
      const bool equals = random() % 2 == 0;
      if (!text.empty()) text += ",";
      text += field + (equals ? "=" : "!=") + EscapeValue(value);
      requirements.push_back(
          {field, equals ? Requirement::Operator::kEquals : Requirement::Operator::kNotEquals,
           value});
      if (random() % 2) fields[field] = random() % 2 ? value : "other";
    }
    const Selector parsed = MustParse(text);
    ASSERT_EQ(parsed.requirements().size(), requirements.size()) << text;
    for (const auto& requirement : requirements) {
      EXPECT_NE(std::find(parsed.requirements().begin(), parsed.requirements().end(), requirement),
                parsed.requirements().end())
          << text;
    }
    EXPECT_EQ(MustParse(parsed.String()), parsed) << text;
    bool expected = true;
    for (const auto& requirement : requirements) {
      const auto it = fields.find(requirement.field);
      const std::string actual = it == fields.end() ? "" : it->second;
      expected = expected && ((actual == requirement.value) ==
                              (requirement.op == Requirement::Operator::kEquals));
    }
    EXPECT_EQ(parsed.Matches(fields), expected) << text;
  }
}

}  // namespace
}  // namespace kpp::fields
