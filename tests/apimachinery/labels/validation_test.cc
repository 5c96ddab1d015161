// Messages are upstream's (k8s.io/apimachinery/pkg/util/validation), compared verbatim.
#include "apimachinery/labels/validation.h"

#include <gtest/gtest.h>

namespace kpp::validation {
namespace {

using Messages = std::vector<std::string>;

const std::string kQualifiedNameRegexError =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation "
    "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const std::string kSubdomainError =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kLabelError =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const std::string kDns1035Error =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const std::string kLabelValueError =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

TEST(QualifiedNameTest, AcceptsValidNames) {
  for (const std::string& name : std::vector<std::string>{
           "simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple",
           "now-with-dashes/simple", "now-with-dashes/now-with-dashes", "now.with.dots/simple",
           "now-with.dashes-and.dots/simple", "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678",
           "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123", "requests.storage-foo",
           std::string(63, 'a'), std::string(253, 'a') + "/" + std::string(63, 'b')}) {
    EXPECT_EQ(IsQualifiedName(name), Messages{}) << name;
  }
}

TEST(QualifiedNameTest, RejectsInvalidNamesWithUpstreamMessages) {
  EXPECT_EQ(IsQualifiedName(""),
            (Messages{"name part must be non-empty", "name part " + kQualifiedNameRegexError}));
  EXPECT_EQ(IsQualifiedName("nospecialchars%^=@"),
            (Messages{"name part " + kQualifiedNameRegexError}));
  EXPECT_EQ(IsQualifiedName("-starts-with-dash"),
            (Messages{"name part " + kQualifiedNameRegexError}));
  EXPECT_EQ(IsQualifiedName("ends-with-dash-"),
            (Messages{"name part " + kQualifiedNameRegexError}));
  EXPECT_EQ(IsQualifiedName(std::string(64, 'a')),
            (Messages{"name part must be no more than 63 characters"}));
  EXPECT_EQ(IsQualifiedName("/simple"), (Messages{"prefix part must be non-empty"}));
  EXPECT_EQ(IsQualifiedName("example.com/"),
            (Messages{"name part must be non-empty", "name part " + kQualifiedNameRegexError}));
  EXPECT_EQ(IsQualifiedName("Example.com/name"), (Messages{"prefix part " + kSubdomainError}));
  EXPECT_EQ(IsQualifiedName(std::string(254, 'a') + "/name"),
            (Messages{"prefix part must be no more than 253 characters"}));
  EXPECT_EQ(
      IsQualifiedName("a/b/c"),
      (Messages{"a qualified name " + kQualifiedNameRegexError +
                " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"}));
}

TEST(LabelValueTest, AcceptsAndRejects) {
  for (const std::string& value :
       std::vector<std::string>{"", "simple", "now-with-dashes", "1-starts-with-num",
                                "end-with-num-1", "1234", std::string(63, 'a'), "a_b.c-D"}) {
    EXPECT_EQ(IsValidLabelValue(value), Messages{}) << value;
  }
  EXPECT_EQ(IsValidLabelValue("nospecialchars%^=@"), Messages{kLabelValueError});
  EXPECT_EQ(IsValidLabelValue("Tama-nui-te-rā.is.Māori.sun"), Messages{kLabelValueError});
  EXPECT_EQ(IsValidLabelValue("\\backslashes\\are\\bad"), Messages{kLabelValueError});
  EXPECT_EQ(IsValidLabelValue("-starts-with-dash"), Messages{kLabelValueError});
  EXPECT_EQ(IsValidLabelValue("ends-with-dash-"), Messages{kLabelValueError});
  EXPECT_EQ(IsValidLabelValue(std::string(64, 'a')),
            Messages{"must be no more than 63 characters"});
  EXPECT_EQ(IsValidLabelValue("-" + std::string(64, 'a')),
            (Messages{"must be no more than 63 characters", kLabelValueError}));
}

TEST(Dns1123LabelTest, AcceptsAndRejects) {
  for (const std::string& value :
       std::vector<std::string>{"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a",
                                "1-a", "1--a--b--2", std::string(63, 'a')}) {
    EXPECT_EQ(IsDNS1123Label(value), Messages{}) << value;
  }
  for (const std::string& value :
       std::vector<std::string>{"",    "A",  "ABC", "aBc", "A1",  "A-1", "1-A", "-",   "a-",
                                "-a",  "1-", "-1",  "_",   "a_",  "_a",  "a_b", "1_",  "_1",
                                "1_2", "*",  "a*",  "*a",  "a*b", "1*",  "*1",  "1*2", "a b"}) {
    EXPECT_EQ(IsDNS1123Label(value), Messages{kLabelError}) << value;
  }
  EXPECT_EQ(IsDNS1123Label("a.b"), Messages{"must not contain dots"});
  EXPECT_EQ(IsDNS1123Label(std::string(64, 'a')), Messages{"must be no more than 63 characters"});
}

TEST(Dns1123SubdomainTest, AcceptsAndRejects) {
  for (const std::string& value : std::vector<std::string>{"a",
                                                           "ab",
                                                           "abc",
                                                           "a1",
                                                           "a-1",
                                                           "a--1--2--b",
                                                           "0",
                                                           "01",
                                                           "012",
                                                           "1a",
                                                           "1-a",
                                                           "1--a--b--2",
                                                           "a.a",
                                                           "ab.a",
                                                           "abc.a",
                                                           "a1.a",
                                                           "a-1.a",
                                                           "a--1--2--b.a",
                                                           "a.1",
                                                           "ab.1",
                                                           "0.a",
                                                           "01.a",
                                                           "012.a",
                                                           "1a.a",
                                                           "1-a.a",
                                                           "1--a--b--2",
                                                           "0.0",
                                                           "01.0",
                                                           "012.0",
                                                           "1a.0",
                                                           "1-a.0",
                                                           "1--a--b--2.0",
                                                           "a.b.c.d.e",
                                                           "aa.bb.cc.dd.ee",
                                                           "1.2.3.4.5",
                                                           "11.22.33.44.55",
                                                           std::string(253, 'a')}) {
    EXPECT_EQ(IsDNS1123Subdomain(value), Messages{}) << value;
  }
  for (const std::string& value : std::vector<std::string>{"",
                                                           "A",
                                                           "ABC",
                                                           "aBc",
                                                           "A1",
                                                           "A-1",
                                                           "1-A",
                                                           "-",
                                                           "a-",
                                                           "-a",
                                                           "1-",
                                                           "-1",
                                                           "_",
                                                           "a_",
                                                           "_a",
                                                           "a_b",
                                                           "1_",
                                                           "_1",
                                                           "1_2",
                                                           ".",
                                                           "a.",
                                                           ".a",
                                                           "a..b",
                                                           "1.",
                                                           ".1",
                                                           "1..2",
                                                           " ",
                                                           "a ",
                                                           " a",
                                                           "a b",
                                                           "1 ",
                                                           " 1",
                                                           "1 2",
                                                           "A.a",
                                                           "aB.a",
                                                           "ab.A",
                                                           "A1.a",
                                                           "a1.A",
                                                           "A.1",
                                                           "aB.1",
                                                           "A1.1",
                                                           "1A.1",
                                                           "0.A",
                                                           "01.A",
                                                           "012.A",
                                                           "1A.a",
                                                           "1a.A",
                                                           "A.B.C.D.E",
                                                           "AA.BB.CC.DD.EE",
                                                           "a.B.c.d.e",
                                                           "aa.bB.cc.dd.ee",
                                                           "a@b",
                                                           "a,b",
                                                           "a_b",
                                                           "a;b",
                                                           "a:b",
                                                           "a%b",
                                                           "a?b",
                                                           "a$b"}) {
    EXPECT_EQ(IsDNS1123Subdomain(value), Messages{kSubdomainError}) << value;
  }
  EXPECT_EQ(IsDNS1123Subdomain(std::string(254, 'a')),
            Messages{"must be no more than 253 characters"});
}

TEST(Dns1035LabelTest, AcceptsAndRejects) {
  for (const std::string& value : std::vector<std::string>{"a", "ab", "abc", "a1", "a-1",
                                                           "a--1--2--b", std::string(63, 'a')}) {
    EXPECT_EQ(IsDNS1035Label(value), Messages{}) << value;
  }
  for (const std::string& value : std::vector<std::string>{
           "0",   "01", "012", "1a", "1-a", "1--a--b--2", "",  "A",  "ABC", "aBc", "A1",  "A-1",
           "1-A", "-",  "a-",  "-a", "1-",  "-1",         "_", "a_", "_a",  "a_b", "a.b", "a b"}) {
    EXPECT_EQ(IsDNS1035Label(value), Messages{kDns1035Error}) << value;
  }
  EXPECT_EQ(IsDNS1035Label(std::string(64, 'a')), Messages{"must be no more than 63 characters"});
}

TEST(WildcardSubdomainTest, AcceptsAndRejects) {
  for (const char* value : {"*.example.com", "*.bar.com", "*.foo.bar.com"})
    EXPECT_EQ(IsWildcardDNS1123Subdomain(value), Messages{}) << value;
  const std::string error =
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
      "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
      "alphanumeric character (e.g. '*.example.com', regex used for validation is "
      "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  for (const char* value : {"*.*.bar.com", "*.foo.*.com", "*bar.com", "f*.bar.com", "*", "foo.com"})
    EXPECT_EQ(IsWildcardDNS1123Subdomain(value), Messages{error}) << value;
}

TEST(PathSegmentTest, ForbidsDotNamesSlashAndPercent) {
  EXPECT_EQ(IsPathSegmentName("."), Messages{"may not be '.'"});
  EXPECT_EQ(IsPathSegmentName(".."), Messages{"may not be '..'"});
  EXPECT_EQ(IsPathSegmentName("a/b"), Messages{"may not contain '/'"});
  EXPECT_EQ(IsPathSegmentName("a%b"), Messages{"may not contain '%'"});
  EXPECT_EQ(IsPathSegmentName("a/%b"), (Messages{"may not contain '/'", "may not contain '%'"}));
  EXPECT_EQ(IsPathSegmentName("..."), Messages{});
  EXPECT_EQ(IsPathSegmentName(""), Messages{});
  EXPECT_EQ(IsPathSegmentPrefix("."), Messages{});
  EXPECT_EQ(IsPathSegmentPrefix("a/"), Messages{"may not contain '/'"});
}

TEST(MiscValidationTest, PortsPercentsHeadersEnvAndKeys) {
  EXPECT_EQ(IsValidPortNum(1), Messages{});
  EXPECT_EQ(IsValidPortNum(65535), Messages{});
  EXPECT_EQ(IsValidPortNum(0), Messages{"must be between 1 and 65535, inclusive"});
  EXPECT_EQ(IsValidPortNum(65536), Messages{"must be between 1 and 65535, inclusive"});
  EXPECT_EQ(IsInRange(5, 1, 4), Messages{"must be between 1 and 4, inclusive"});

  EXPECT_EQ(IsValidPortName("http"), Messages{});
  EXPECT_EQ(IsValidPortName("h-t-t-p"), Messages{});
  EXPECT_EQ(IsValidPortName("a-very-long-port-name"),
            Messages{"must be no more than 15 characters"});
  EXPECT_EQ(IsValidPortName("1234"), Messages{"must contain at least one letter (a-z)"});
  EXPECT_EQ(IsValidPortName("h--p"), Messages{"must not contain consecutive hyphens"});
  EXPECT_EQ(IsValidPortName("-http"), Messages{"must not begin or end with a hyphen"});
  EXPECT_EQ(IsValidPortName("Http"),
            Messages{"must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"});

  EXPECT_EQ(IsValidPercent("25%"), Messages{});
  EXPECT_EQ(IsValidPercent("25"),
            Messages{"a valid percent string must be a numeric string followed by an ending '%' "
                     "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"});
  EXPECT_EQ(IsHTTPHeaderName("X-Header-Name"), Messages{});
  EXPECT_EQ(IsHTTPHeaderName("X Header").size(), 1u);

  EXPECT_EQ(IsEnvVarName("MY_ENV.NAME"), Messages{});
  EXPECT_EQ(IsEnvVarName("1abc").size(), 1u);
  EXPECT_EQ(IsEnvVarName(".."), (Messages{"must not be '..'"}));
  EXPECT_EQ(IsConfigMapKey("key.name"), Messages{});
  EXPECT_EQ(IsConfigMapKey("..data"), Messages{"must not start with '..'"});
  EXPECT_EQ(IsConfigMapKey("a/b"),
            Messages{"a valid config key must consist of alphanumeric characters, '-', '_' or "
                     "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                     "validation is '[-._a-zA-Z0-9]+')"});
}

TEST(MessageHelpersTest, FormatLikeUpstream) {
  EXPECT_EQ(MaxLenError(63), "must be no more than 63 characters");
  EXPECT_EQ(EmptyError(), "must be non-empty");
  EXPECT_EQ(RegexError("bad", "x+"), "bad (regex used for validation is 'x+')");
  EXPECT_EQ(RegexError("bad", "x+", {"x"}), "bad (e.g. 'x', regex used for validation is 'x+')");
}

}  // namespace
}  // namespace kpp::validation
