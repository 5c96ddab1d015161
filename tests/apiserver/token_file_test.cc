// The static token file (--token-auth-file) parser and the authenticator chain.
#include "apiserver/authn/token_file.h"

#include <gtest/gtest.h>

#include "apiserver/authn/x509.h"

namespace kpp::apiserver {
namespace {

using Groups = std::vector<std::string>;

http::Request WithAuthorization(std::string value) {
  http::Request request = http::Request::LocalJson("GET", "/api");
  request.headers.push_back({"Authorization", std::move(value)});
  return request;
}

TEST(CsvTest, QuotedFieldsKeepCommasQuotesAndLineBreaks) {
  auto records = ParseCsv("a, \"b,c\",\"say \"\"hi\"\"\"\r\n\n\"multi\nline\",x\n");
  ASSERT_TRUE(records.ok()) << records.error().message();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].fields, (Groups{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ((*records)[0].line, 1);
  EXPECT_EQ((*records)[1].fields, (Groups{"multi\nline", "x"}));
  EXPECT_EQ((*records)[1].line, 3);
}

TEST(CsvTest, StrayQuotesAreParseErrorsWithLineAndColumn) {
  auto bare = ParseCsv("ok,row,1\nto\"ken,user,1\n");
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().message(), "parse error on line 2, column 3: bare \" in non-quoted-field");
  auto unterminated = ParseCsv("token,user,\"1\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().message(),
            "parse error on line 1, column 12: extraneous or missing \" in quoted-field");
}

TEST(TokenFileTest, GoodLinesMapTokensToUsersWithGroups) {
  auto tokens = TokenFileAuthenticator::Parse(
      "secret1,alice,uid-1,\"dev,ops\"\n"
      "secret2,bob,uid-2\n"
      "\n"
      "secret3, carol ,uid-3,solo\n",
      "tokens.csv");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message();
  EXPECT_EQ((*tokens)->size(), 3u);
  auto alice = (*tokens)->AuthenticateToken("secret1");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->uid, "uid-1");
  EXPECT_EQ(alice->groups, (Groups{"dev", "ops", "system:authenticated"}));
  auto bob = (*tokens)->AuthenticateToken("secret2");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->groups, (Groups{"system:authenticated"}));
  // Go's csv reader trims leading space only.
  EXPECT_EQ((*tokens)->AuthenticateToken("secret3")->name, "carol ");
  EXPECT_EQ((*tokens)->AuthenticateToken("secret3")->groups,
            (Groups{"solo", "system:authenticated"}));
  EXPECT_FALSE((*tokens)->AuthenticateToken("secret4"));
  EXPECT_FALSE((*tokens)->AuthenticateToken(""));
}

TEST(TokenFileTest, LinesWithFewerThanThreeFieldsAreErrorsNamingTheLine) {
  auto tokens = TokenFileAuthenticator::Parse("secret1,alice,1\nsecret2,bob\n", "/etc/tokens.csv");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().message(),
            "token file '/etc/tokens.csv' must have at least 3 columns (token, user name, user "
            "uid), found 2 on line 2");
}

TEST(TokenFileTest, CsvErrorsNameTheFile) {
  auto tokens = TokenFileAuthenticator::Parse("sec\"ret,alice,1\n", "t.csv");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().message(),
            "token file 't.csv': parse error on line 1, column 4: bare \" in non-quoted-field");
}

TEST(TokenFileTest, EmptyTokensAreSkipped) {
  auto tokens = TokenFileAuthenticator::Parse(",nobody,0\nsecret,alice,1\n", "t.csv");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message();
  EXPECT_EQ((*tokens)->size(), 1u);
}

TEST(TokenFileTest, MissingFileIsAnError) {
  EXPECT_FALSE(TokenFileAuthenticator::Load("/nonexistent/tokens.csv").ok());
}

TEST(BearerTokenTest, ReadsUpstreamsAuthorizationHeader) {
  EXPECT_EQ(BearerToken(WithAuthorization("Bearer abc")), "abc");
  EXPECT_EQ(BearerToken(WithAuthorization("bearer abc")), "abc");
  EXPECT_EQ(BearerToken(WithAuthorization("  Bearer abc  ")), "abc");
  EXPECT_EQ(BearerToken(WithAuthorization("Bearer abc def")), "abc");
  EXPECT_FALSE(BearerToken(WithAuthorization("Bearer  abc")));
  EXPECT_FALSE(BearerToken(WithAuthorization("Bearer")));
  EXPECT_FALSE(BearerToken(WithAuthorization("Basic YWxpY2U6cHc=")));
  EXPECT_FALSE(BearerToken(http::Request::LocalJson("GET", "/api")));
}

TEST(AuthenticatorChainTest, CertificateFirstThenToken) {
  UnionAuthenticator chain;
  chain.Add(std::make_unique<ClientCertificateAuthenticator>());
  auto tokens = TokenFileAuthenticator::Parse("secret,alice,uid-1,dev\n", "t.csv");
  ASSERT_TRUE(tokens.ok());
  chain.Add(std::move(tokens).value());

  auto by_token = chain.Authenticate(WithAuthorization("Bearer secret"));
  ASSERT_TRUE(by_token);
  EXPECT_EQ(by_token->name, "alice");
  EXPECT_EQ(by_token->groups, (Groups{"dev", "system:authenticated"}));

  http::Request both = WithAuthorization("Bearer secret");
  both.client_certificate = http::ClientCertificate{"admin", {"system:masters"}};
  auto by_certificate = chain.Authenticate(both);
  ASSERT_TRUE(by_certificate);
  EXPECT_EQ(by_certificate->name, "admin");
  EXPECT_EQ(by_certificate->groups, (Groups{"system:masters", "system:authenticated"}));

  EXPECT_FALSE(chain.Authenticate(WithAuthorization("Bearer wrong")));
  EXPECT_FALSE(chain.Authenticate(http::Request::LocalJson("GET", "/api")));
}

}  // namespace
}  // namespace kpp::apiserver
