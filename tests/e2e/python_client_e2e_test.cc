// Debian's python3-kubernetes client against a real `kpp server`: the script in
// tests/e2e/python/ does what a user's program would (CRUD, conflicts, paged lists, a watch,
// utils.create_from_yaml) and stops at the first surprise.
#include <gtest/gtest.h>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

// Debian's client lives in the system interpreter's dist-packages, so the test runs that
// interpreter and not whichever python3 comes first on PATH.
constexpr const char* kSystemPython = "/usr/bin/python3";

TEST(PythonClientE2ETest, CrudListWatchAndCreateFromYaml) {
  const auto probe = testing::RunProcess({kSystemPython, "-c", "import kubernetes"});
  ASSERT_EQ(probe.exit_code, 0) << "python3-kubernetes is missing (scripts/install-deps installs "
                                   "it): "
                                << probe.err;
  testing::KppServer server;
  ASSERT_TRUE(server.Start());
  const auto result =
      testing::RunProcess({kSystemPython, KPP_SOURCE_DIR "/tests/e2e/python/client_e2e.py",
                           server.kubeconfig_path(), server.root_dir()},
                          std::chrono::seconds(120));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << server.Logs();
  EXPECT_NE(result.out.find("python client e2e: all steps passed"), std::string::npos)
      << result.out;
}

}  // namespace
}  // namespace kpp
