#include "apimachinery/labels/selector.h"

#include <gtest/gtest.h>

#include <random>

namespace kpp::labels {
namespace {

const std::string kNameRegexError =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation "
    "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const std::string kValueRegexError =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

Selector MustParse(std::string_view text) {
  auto parsed = Selector::Parse(text);
  if (!parsed.ok()) {
    ADD_FAILURE() << "parsing '" << text << "': " << parsed.error().message();
    return Selector::Nothing();
  }
  return *parsed;
}

TEST(SelectorParseTest, CanonicalStrings) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"   ", ""},
      {"x=a", "x=a"},
      {"x=a,y=b,z=c", "x=a,y=b,z=c"},
      {"z=c,y=b,x=a", "x=a,y=b,z=c"},
      {"x!=a,y=b", "x!=a,y=b"},
      {"x=,z= ", "x=,z="},
      {"x= ,z= ", "x=,z="},
      {"!x", "!x"},
      {"x>1", "x>1"},
      {"x>1,z<5", "x>1,z<5"},
      {"x<1", "x<1"},
      {"x==a", "x==a"},
      {"x", "x"},
      {"x in (abc,def)", "x in (abc,def)"},
      {"x in (def,abc)", "x in (abc,def)"},
      {"x in (abc,def,abc)", "x in (abc,def)"},
      {"x in (abc)", "x in (abc)"},
      {"x in ()", "x in ()"},
      {"x in (,)", "x in ()"},
      {"x in (a,,b)", "x in (,a,b)"},
      {"x in (,a)", "x in (,a)"},
      {"x in (a,)", "x in (,a)"},
      {"x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"},
      {"  x  =  a , y in ( b , c ) ", "x=a,y in (b,c)"},
      {"x\t=\ta,\ny\r\n!=\tb", "x=a,y!=b"},
      {"a=b,c!=d,e in (x,y),f notin (z),!g,h,x==y", "a=b,c!=d,e in (x,y),f notin (z),!g,h,x==y"},
      {"in in (in)", "in in (in)"},
      {"notin notin (notin,in)", "notin notin (in,notin)"},
      {"example.com/app=web", "example.com/app=web"},
      {"x=a,x=b", "x=a,x=b"},
      {"x in(a),y notin(b)", "x in (a),y notin (b)"},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input);
    const Selector selector = MustParse(input);
    EXPECT_EQ(selector.String(), expected);
    // The canonical string parses to the same selector.
    EXPECT_EQ(MustParse(expected).String(), expected);
  }
  EXPECT_TRUE(MustParse("").Empty());
  EXPECT_FALSE(MustParse("x").Empty());
}

TEST(SelectorParseTest, RejectsWithUpstreamMessages) {
  const std::pair<std::string, std::string> cases[] = {
      {"x=a,", "found '', expected: identifier after ','"},
      {",x=a", "found ',', expected: !, identifier, or 'end of string'"},
      {"x=a b", "found 'b', expected: ',' or 'end of string'"},
      {"x==a==b", "found '==', expected: ',' or 'end of string'"},
      {"!x=a", "found '=', expected: ',' or 'end of string'"},
      {"x=a,,y=b", "found ',', expected: identifier after ','"},
      {"(x)", "found '(', expected: !, identifier, or 'end of string'"},
      {"a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
      {"x in a", "unable to parse requirement: found 'a' expected: '('"},
      {"x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"},
      {"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
      {"x in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"},
      {"x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
      {"x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"},
      {"x=(", "unable to parse requirement: found '(', expected: identifier"},
      {"!", "unable to parse requirement: found '', expected: identifier"},
      {"!=a", "found '!=', expected: !, identifier, or 'end of string'"},
      {"x<-1",
       "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " + kValueRegexError},
      {"x>a",
       "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, "
       "the value must be an integer"},
      {"x>",
       "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' "
       "operators, the value must be an integer"},
      {"x=a||y=b",
       "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": " + kValueRegexError},
      {"x/y/z=a",
       "unable to parse requirement: <nil>: Invalid value: \"x/y/z\": a qualified name " +
           kNameRegexError +
           " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
      {"-x=a",
       "unable to parse requirement: <nil>: Invalid value: \"-x\": name part " + kNameRegexError},
      {"x=" + std::string(64, 'a'), "unable to parse requirement: values[0][x]: Invalid value: \"" +
                                        std::string(64, 'a') +
                                        "\": must be no more than 63 characters"},
  };
  for (const auto& [input, message] : cases) {
    SCOPED_TRACE(input);
    auto parsed = Selector::Parse(input);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code(), ErrorCode::kBadRequest);
    EXPECT_EQ(parsed.error().message(), message);
  }
}

TEST(SelectorMatchTest, MatchesLabels) {
  const Set labels = {{"x", "a"}, {"y", "b"}, {"n", "5"}, {"empty", ""}};
  const std::pair<std::string, bool> cases[] = {
      {"", true},
      {"x=a", true},
      {"x==a", true},
      {"x=b", false},
      {"x!=b", true},
      {"x!=a", false},
      {"z!=a", true},
      {"x", true},
      {"z", false},
      {"!z", true},
      {"!x", false},
      {"x in (a,b)", true},
      {"x in (b,c)", false},
      {"z in (a)", false},
      {"x notin (b,c)", true},
      {"x notin (a)", false},
      {"z notin (a)", true},
      {"x=a,y=b", true},
      {"x=a,y=c", false},
      {"n>4", true},
      {"n>5", false},
      {"n<6", true},
      {"n<5", false},
      {"x>1", false},
      {"z>1", false},
      {"empty=", true},
      {"empty in ()", true},
      {"z=", false},
  };
  for (const auto& [text, expected] : cases)
    EXPECT_EQ(MustParse(text).Matches(labels), expected) << text;
}

TEST(SelectorTest, EverythingAndNothing) {
  EXPECT_TRUE(Selector::Everything().Matches({}));
  EXPECT_TRUE(Selector::Everything().Matches({{"a", "b"}}));
  EXPECT_TRUE(Selector::Everything().Empty());
  EXPECT_FALSE(Selector::Everything().MatchesNothing());
  EXPECT_EQ(Selector::Everything().String(), "");

  EXPECT_FALSE(Selector::Nothing().Matches({}));
  EXPECT_FALSE(Selector::Nothing().Empty());
  EXPECT_TRUE(Selector::Nothing().MatchesNothing());
  EXPECT_EQ(Selector::Nothing().String(), "");
  auto requirement = Requirement::Create("a", Operator::kExists, {});
  ASSERT_TRUE(requirement.ok());
  EXPECT_TRUE(Selector::Nothing().Add({*requirement}).MatchesNothing());
}

TEST(SelectorTest, FromSetAddAndExactMatch) {
  const Selector selector = Selector::FromSet({{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(selector.String(), "a=1,b=2");
  EXPECT_TRUE(selector.Matches({{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  EXPECT_FALSE(selector.Matches({{"a", "1"}}));
  EXPECT_EQ(Selector::FromSet({}).String(), "");
  EXPECT_TRUE(Selector::FromSet({}).Empty());

  auto requirement = Requirement::Create("aa", Operator::kNotIn, {"z", "y"});
  ASSERT_TRUE(requirement.ok());
  const Selector added = selector.Add({*requirement});
  EXPECT_EQ(added.String(), "a=1,aa notin (y,z),b=2");
  EXPECT_EQ(selector.String(), "a=1,b=2");

  EXPECT_EQ(selector.RequiresExactMatch("a"), "1");
  EXPECT_EQ(selector.RequiresExactMatch("c"), std::nullopt);
  EXPECT_EQ(MustParse("a in (x)").RequiresExactMatch("a"), "x");
  EXPECT_EQ(MustParse("a in (x,y)").RequiresExactMatch("a"), std::nullopt);
  EXPECT_EQ(MustParse("a!=x").RequiresExactMatch("a"), std::nullopt);
  EXPECT_EQ(MustParse("a==x").RequiresExactMatch("a"), "x");

  auto validated = Selector::FromValidatedSet({{"a b", "1"}});
  ASSERT_FALSE(validated.ok());
  EXPECT_EQ(validated.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(validated.error().message(),
            "key: Invalid value: \"a b\": name part " + kNameRegexError);
}

TEST(RequirementTest, ValidatesLikeNewRequirement) {
  struct Case {
    std::string key;
    Operator op;
    std::vector<std::string> values;
    std::string message;  // empty when valid
  };
  const Case cases[] = {
      {"x", Operator::kIn, {"a"}, ""},
      {"x",
       Operator::kIn,
       {},
       "values: Invalid value: []string(nil): for 'in', 'notin' "
       "operators, values set can't be empty"},
      {"x",
       Operator::kNotIn,
       {},
       "values: Invalid value: []string(nil): for 'in', 'notin' "
       "operators, values set can't be empty"},
      {"x",
       Operator::kEquals,
       {"a", "b"},
       "values: Invalid value: []string{\"a\", \"b\"}: "
       "exact-match compatibility requires one single value"},
      {"x",
       Operator::kExists,
       {"a"},
       "values: Invalid value: []string{\"a\"}: values set must be "
       "empty for exists and does not exist"},
      {"x",
       Operator::kGreaterThan,
       {"1", "2"},
       "values: Invalid value: []string{\"1\", \"2\"}: "
       "for 'Gt', 'Lt' operators, exactly one value is "
       "required"},
      {"x", Operator::kLessThan, {"7"}, ""},
      // Gt/Lt values must also be valid label values, so negative numbers are rejected.
      {"x",
       Operator::kLessThan,
       {"-7"},
       "values[0][x]: Invalid value: \"-7\": " + kValueRegexError},
      {"x",
       Operator::kLessThan,
       {"9223372036854775808"},
       "values[0]: Invalid value: \"9223372036854775808\": for 'Gt', 'Lt' operators, the value "
       "must be an integer"},
      {"",
       Operator::kExists,
       {},
       "key: Invalid value: \"\": [name part must be non-empty, name "
       "part " +
           kNameRegexError + "]"},
      {"a b",
       Operator::kEquals,
       {"c d"},
       "[key: Invalid value: \"a b\": name part " + kNameRegexError +
           ", values[0][a b]: Invalid value: \"c d\": " + kValueRegexError + "]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    auto requirement = Requirement::Create(c.key, c.op, c.values);
    if (c.message.empty()) {
      EXPECT_TRUE(requirement.ok()) << requirement.error().message();
      continue;
    }
    ASSERT_FALSE(requirement.ok());
    EXPECT_EQ(requirement.error().code(), ErrorCode::kInvalid);
    // The key problems are joined with "; " inside one field error.
    std::string expected = c.message;
    if (c.key.empty()) {
      expected =
          "key: Invalid value: \"\": name part must be non-empty; name part " + kNameRegexError;
    }
    EXPECT_EQ(requirement.error().message(), expected);
  }
}

TEST(RequirementTest, StringForms) {
  const std::tuple<Operator, std::vector<std::string>, std::string> cases[] = {
      {Operator::kEquals, {"v"}, "k=v"},        {Operator::kDoubleEquals, {"v"}, "k==v"},
      {Operator::kNotEquals, {"v"}, "k!=v"},    {Operator::kIn, {"b", "a"}, "k in (a,b)"},
      {Operator::kNotIn, {"v"}, "k notin (v)"}, {Operator::kExists, {}, "k"},
      {Operator::kDoesNotExist, {}, "!k"},      {Operator::kGreaterThan, {"1"}, "k>1"},
      {Operator::kLessThan, {"1"}, "k<1"},
  };
  for (const auto& [op, values, expected] : cases) {
    auto requirement = Requirement::Create("k", op, values);
    ASSERT_TRUE(requirement.ok());
    EXPECT_EQ(requirement->String(), expected);
  }
  EXPECT_EQ(OperatorName(Operator::kGreaterThan), "gt");
  EXPECT_EQ(OperatorName(Operator::kDoesNotExist), "!");
}

TEST(LabelSelectorTest, AsSelector) {
  EXPECT_TRUE(LabelSelectorAsSelector(nullptr)->MatchesNothing());
  const LabelSelector empty;
  EXPECT_TRUE(LabelSelectorAsSelector(&empty)->Empty());
  EXPECT_TRUE(LabelSelectorAsSelector(&empty)->Matches({{"a", "b"}}));

  const LabelSelector selector = {
      .match_labels = {{"app", "web"}, {"tier", "front"}},
      .match_expressions = {{"env", "In", {"prod", "dev"}},
                            {"canary", "DoesNotExist", {}},
                            {"zone", "NotIn", {"b"}},
                            {"team", "Exists", {}}},
  };
  auto converted = LabelSelectorAsSelector(&selector);
  ASSERT_TRUE(converted.ok()) << converted.error().message();
  EXPECT_EQ(converted->String(),
            "app=web,!canary,env in (dev,prod),team,tier=front,zone notin (b)");
  EXPECT_TRUE(converted->Matches(
      {{"app", "web"}, {"tier", "front"}, {"env", "dev"}, {"team", "x"}, {"zone", "a"}}));
  EXPECT_FALSE(converted->Matches(
      {{"app", "web"}, {"tier", "front"}, {"env", "dev"}, {"team", "x"}, {"canary", "1"}}));
  EXPECT_EQ(FormatLabelSelector(&selector),
            "app=web,!canary,env in (dev,prod),team,tier=front,zone notin (b)");
  EXPECT_EQ(FormatLabelSelector(&empty), "<none>");
  EXPECT_EQ(FormatLabelSelector(nullptr), "<none>");
}

TEST(LabelSelectorTest, AsSelectorErrors) {
  const std::pair<LabelSelector, std::string> cases[] = {
      {{.match_expressions = {{"a", "Foo", {}}}}, "\"Foo\" is not a valid pod selector operator"},
      {{.match_expressions = {{"a", "In", {}}}},
       "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
       "empty"},
      {{.match_expressions = {{"a", "Exists", {"x"}}}},
       "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not "
       "exist"},
      {{.match_labels = {{"a", "b c"}}},
       "values[0][a]: Invalid value: \"b c\": " + kValueRegexError},
  };
  for (const auto& [selector, message] : cases) {
    auto converted = LabelSelectorAsSelector(&selector);
    ASSERT_FALSE(converted.ok()) << message;
    EXPECT_EQ(converted.error().code(), ErrorCode::kInvalid);
    EXPECT_EQ(converted.error().message(), message);
    EXPECT_EQ(FormatLabelSelector(&selector), "<error>");
  }
}

TEST(LabelSelectorTest, ParseToLabelSelector) {
  auto parsed = ParseToLabelSelector("app=web,tier==front,env in (prod,dev),!canary,team");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  const LabelSelector expected = {
      .match_labels = {{"app", "web"}, {"tier", "front"}},
      .match_expressions = {{"canary", "DoesNotExist", {}},
                            {"env", "In", {"dev", "prod"}},
                            {"team", "Exists", {}}},
  };
  EXPECT_EQ(*parsed, expected);

  auto not_equals = ParseToLabelSelector("a!=b");
  ASSERT_FALSE(not_equals.ok());
  EXPECT_EQ(not_equals.error().message(), "\"!=\" is not a valid label selector operator");
  auto greater = ParseToLabelSelector("a>1");
  ASSERT_FALSE(greater.ok());
  EXPECT_EQ(greater.error().message(), "\"gt\" isn't supported in label selectors");
  auto broken = ParseToLabelSelector("a=");
  ASSERT_TRUE(broken.ok());
  auto invalid = ParseToLabelSelector("a,");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().message(),
            "couldn't parse the selector string \"a,\": found '', expected: identifier after ','");
}

TEST(LabelSelectorTest, AsMap) {
  EXPECT_EQ(*LabelSelectorAsMap(nullptr), Set{});
  const LabelSelector selector = {.match_labels = {{"a", "1"}},
                                  .match_expressions = {{"b", "In", {"2"}}}};
  EXPECT_EQ(*LabelSelectorAsMap(&selector), (Set{{"a", "1"}, {"b", "2"}}));
  const std::pair<LabelSelector, std::string> cases[] = {
      {{.match_expressions = {{"b", "In", {"2", "3"}}}},
       "operator \"In\" without a single value cannot be converted into the old label selector "
       "format"},
      {{.match_expressions = {{"b", "Exists", {}}}},
       "operator \"Exists\" cannot be converted into the old label selector format"},
      {{.match_expressions = {{"b", "Bad", {}}}}, "\"Bad\" is not a valid selector operator"},
  };
  for (const auto& [bad, message] : cases) {
    auto converted = LabelSelectorAsMap(&bad);
    ASSERT_FALSE(converted.ok());
    EXPECT_EQ(converted.error().message(), message);
  }
}

}  // namespace
}  // namespace kpp::labels

namespace kpp::labels {
namespace {

// Any selector's String() parses back to a selector with the same String() and matches.
TEST(SelectorParseTest, RandomSelectorsRoundTripThroughString) {
  std::mt19937 random(7);
  const std::vector<std::string> keys = {"a", "b", "app", "example.com/tier", "in", "x.y_z"};
  const std::vector<std::string> values = {"", "1", "5", "web", "in", "notin", "a.b-c_d"};
  const Operator operators[] = {
      Operator::kEquals,       Operator::kDoubleEquals, Operator::kNotEquals,
      Operator::kIn,           Operator::kNotIn,        Operator::kExists,
      Operator::kDoesNotExist, Operator::kGreaterThan,  Operator::kLessThan};
  for (int i = 0; i < 5000; ++i) {
    std::vector<Requirement> requirements;
    const int count = static_cast<int>(random() % 4);
    for (int j = 0; j < count; ++j) {
      const Operator op = operators[random() % 9];
      std::vector<std::string> chosen;
      switch (op) {
        case Operator::kIn:
        case Operator::kNotIn:
          for (const auto& value : values) {
            if (random() % 3 == 0) chosen.push_back(value);
          }
          if (chosen.empty()) chosen.push_back(values[random() % values.size()]);
          break;
        case Operator::kExists:
        case Operator::kDoesNotExist: break;
        case Operator::kGreaterThan:
        case Operator::kLessThan: chosen.push_back(std::to_string(random() % 10)); break;
        default: chosen.push_back(values[random() % values.size()]);
      }
      auto requirement = Requirement::Create(keys[random() % keys.size()], op, chosen);
      ASSERT_TRUE(requirement.ok()) << requirement.error().message();
      requirements.push_back(*requirement);
    }
    const Selector selector = Selector().Add(requirements);
    const std::string text = selector.String();
    const Selector parsed = MustParse(text);
    EXPECT_EQ(parsed.String(), text);
    Set labels;
    for (const auto& key : keys) {
      if (random() % 2) labels[key] = values[random() % values.size()];
    }
    EXPECT_EQ(parsed.Matches(labels), selector.Matches(labels)) << text;
  }
}

}  // namespace
}  // namespace kpp::labels
