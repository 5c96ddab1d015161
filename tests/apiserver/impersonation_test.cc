// Impersonation headers: each part authorized with verb impersonate, upstream's groups added,
// upstream's 400 and 403 texts.
#include "apiserver/authz/impersonation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/authz/rbac.h"

namespace kpp::apiserver::authz {
namespace {

class ImpersonationTest : public ::testing::Test {
 protected:
  // admins may impersonate users, groups and service accounts; nobody else anything.
  Policy policy_{{{"",
                   "impersonator",
                   {},
                   {},
                   {{{"impersonate"}, {""}, {"users", "groups", "serviceaccounts"}, {}, {}},
                    {{"impersonate"}, {"authentication.k8s.io"}, {"userextras/scopes"}, {}, {}}},
                   std::nullopt}},
                 {{"",
                   "admins-impersonate",
                   {},
                   {{"Group", kRbacGroup, "admins", ""}},
                   {kRbacGroup, "ClusterRole", "impersonator"}}}};

  class PolicyAuthorizer : public Authorizer {
   public:
    explicit PolicyAuthorizer(const Policy& policy) : policy_(policy) {}
    Verdict Authorize(const Attributes& attributes) const override {
      return policy_.Authorize(attributes);
    }

   private:
    const Policy& policy_;
  };
  PolicyAuthorizer authorizer_{policy_};

  static http::Request With(std::vector<http::Header> headers) {
    http::Request request = http::Request::LocalJson("GET", "/api/v1/pods");
    request.headers.insert(request.headers.end(), headers.begin(), headers.end());
    return request;
  }
  static std::string Message(const http::Response& response) {
    return std::string(boost::json::parse(response.body).as_object()["message"].as_string());
  }
};

TEST_F(ImpersonationTest, WithoutHeadersTheRequestorActs) {
  const UserInfo alice{"alice", {"system:authenticated"}};
  auto acting = Impersonate(With({}), alice, authorizer_);
  ASSERT_TRUE(std::holds_alternative<UserInfo>(acting));
  EXPECT_EQ(std::get<UserInfo>(acting).name, "alice");
}

TEST_F(ImpersonationTest, AllowedUserGroupsAndExtras) {
  const UserInfo root{"root", {"admins", "system:authenticated"}};
  auto acting = Impersonate(With({{"Impersonate-User", "bob"},
                                  {"Impersonate-Group", "devs"},
                                  {"Impersonate-Extra-Scopes", "view"}}),
                            root, authorizer_);
  ASSERT_TRUE(std::holds_alternative<UserInfo>(acting));
  const auto& bob = std::get<UserInfo>(acting);
  EXPECT_EQ(bob.name, "bob");
  EXPECT_EQ(bob.groups, (std::vector<std::string>{"devs", "system:authenticated"}));
  EXPECT_EQ(bob.extra.at("scopes"), std::vector<std::string>{"view"});

  auto account = Impersonate(With({{"Impersonate-User", "system:serviceaccount:shop:builder"}}),
                             root, authorizer_);
  ASSERT_TRUE(std::holds_alternative<UserInfo>(account));
  EXPECT_EQ(std::get<UserInfo>(account).groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:shop",
                                      "system:authenticated"}));
}

TEST_F(ImpersonationTest, RefusalsAsUpstream) {
  const UserInfo alice{"alice", {"system:authenticated"}};
  auto refused = Impersonate(With({{"Impersonate-User", "bob"}}), alice, authorizer_);
  ASSERT_TRUE(std::holds_alternative<http::Response>(refused));
  EXPECT_EQ(std::get<http::Response>(refused).status, 403);
  EXPECT_EQ(Message(std::get<http::Response>(refused)),
            "users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in "
            "API group \"\" at the cluster scope");

  const UserInfo root{"root", {"admins"}};
  auto uid = Impersonate(With({{"Impersonate-User", "bob"}, {"Impersonate-Uid", "42"}}), root,
                         authorizer_);
  ASSERT_TRUE(std::holds_alternative<http::Response>(uid));
  EXPECT_EQ(Message(std::get<http::Response>(uid)),
            "uids.authentication.k8s.io \"42\" is forbidden: User \"root\" cannot impersonate "
            "resource \"uids\" in API group \"authentication.k8s.io\" at the cluster scope");

  auto no_user = Impersonate(With({{"Impersonate-Group", "devs"}}), root, authorizer_);
  ASSERT_TRUE(std::holds_alternative<http::Response>(no_user));
  EXPECT_EQ(std::get<http::Response>(no_user).status, 400);
  EXPECT_EQ(Message(std::get<http::Response>(no_user)),
            "requested [{Group  devs    }] without impersonating a user");
}

}  // namespace
}  // namespace kpp::apiserver::authz
