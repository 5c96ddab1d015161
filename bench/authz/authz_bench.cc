// bench/authz: the cost of authorizing one request, against the ~100 µs a GET costs the API
// server: a system:masters user (the admin, what bench/apiserver measures), an RBAC user whose
// decision is cached, and RBAC decisions made afresh over the bootstrap policy plus N extra
// namespaces each with a Role and a RoleBinding (upstream's worst case is a linear scan).
//
//   authz_bench [--bindings N] [--iterations N]
#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <string>

#include "apiserver/authz/authorization.h"
#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/rbac.h"

namespace kpp::apiserver::authz {
namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double NanosecondsPerCall(int iterations, F&& call) {
  const auto began = Clock::now();
  for (int i = 0; i < iterations; ++i)
    call(i);
  return std::chrono::duration<double, std::nano>(Clock::now() - began).count() / iterations;
}

int Main(int argc, char** argv) {
  int bindings = 1000;
  int iterations = 200000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--bindings" && i + 1 < argc) {
      bindings = std::atoi(argv[++i]);
    } else if (arg == "--iterations" && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: authz_bench [--bindings N] [--iterations N]\n";
      return 2;
    }
  }
  std::vector<Role> roles = DefaultBootstrapPolicy().cluster_roles;
  roles.insert(roles.end(), DefaultBootstrapPolicy().roles.begin(),
               DefaultBootstrapPolicy().roles.end());
  std::vector<Binding> all_bindings = DefaultBootstrapPolicy().cluster_role_bindings;
  all_bindings.insert(all_bindings.end(), DefaultBootstrapPolicy().role_bindings.begin(),
                      DefaultBootstrapPolicy().role_bindings.end());
  for (int i = 0; i < bindings; ++i) {
    const std::string namespace_ = fmt::format("team-{}", i);
    Role role;
    role.namespace_ = namespace_;
    role.name = "reader";
    role.rules = {{{"get", "list", "watch"}, {""}, {"configmaps", "pods"}, {}, {}}};
    roles.push_back(role);
    Binding binding;
    binding.namespace_ = namespace_;
    binding.name = "readers";
    binding.role_ref = {kRbacGroup, "Role", "reader"};
    binding.subjects = {{"User", kRbacGroup, fmt::format("user-{}", i), ""},
                        {"Group", kRbacGroup, "everyone-reads", ""}};
    all_bindings.push_back(binding);
  }
  const Policy policy(roles, all_bindings);

  Attributes get;
  get.user = {"user-7", {"devs", "system:authenticated"}};
  get.verb = "get";
  get.resource_request = true;
  get.api_version = "v1";
  get.resource = "configmaps";
  get.namespace_ = "team-7";
  get.name = "settings";

  // The full path of Authorization::Check, with the objects above loaded as RBAC's snapshot.
  Authorization authorization(
      [](const http::Request&) {
        return http::Response{404, {}, "{}"};
      },
      RealClock());
  authorization.rbac().Load(roles, all_bindings);
  http::Request request =
      http::Request::LocalJson("GET", "/api/v1/namespaces/team-7/configmaps/settings");
  UserInfo admin{"kpp-admin", {"system:masters", "system:authenticated"}};
  const double masters = NanosecondsPerCall(iterations, [&](int) {
    if (authorization.Check(request, admin)) std::abort();
  });
  const double cached = NanosecondsPerCall(iterations, [&](int) {
    if (authorization.Check(request, get.user)) std::abort();
  });
  int allowed = 0;
  const int fresh_iterations = std::max(1, iterations / 10);
  const double fresh = NanosecondsPerCall(fresh_iterations, [&](int i) {
    Attributes a = get;
    a.user.name = fmt::format("user-{}", i % std::max(1, bindings));
    a.namespace_ = fmt::format("team-{}", i % std::max(1, bindings));
    allowed += policy.Authorize(a).decision == Decision::kAllow;
  });
  Attributes denied = get;
  denied.user.name = "nobody";
  denied.namespace_ = "elsewhere";
  const double fresh_denied = NanosecondsPerCall(fresh_iterations, [&](int) {
    if (policy.Authorize(denied).decision == Decision::kAllow) std::abort();
  });
  std::cout << fmt::format(
      "policy: bootstrap + {} namespaces with a Role and a RoleBinding ({} bindings in all)\n"
      "  Check, system:masters:                {:8.0f} ns\n"
      "  Check, RBAC user, decision cached:    {:8.0f} ns\n"
      "  RBAC decision afresh, allowed:        {:8.0f} ns ({} of {} allowed)\n"
      "  RBAC decision afresh, no opinion:     {:8.0f} ns\n",
      bindings, all_bindings.size(), masters, cached, fresh, allowed, fresh_iterations,
      fresh_denied);
  return 0;
}

}  // namespace
}  // namespace kpp::apiserver::authz

int main(int argc, char** argv) {
  return kpp::apiserver::authz::Main(argc, argv);
}
