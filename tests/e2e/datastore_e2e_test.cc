// `kpp server --datastore-endpoint`: the cluster's state in a real etcd instead of SQLite.
#include <gtest/gtest.h>

#include "base/files.h"
#include "storage/etcd_process.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;

TEST(DatastoreE2ETest, StateLivesInEtcd) {
  storage::testing::EtcdProcess etcd;
  ASSERT_TRUE(etcd.Start());
  const std::vector<std::string> flags = {"--datastore-endpoint", etcd.client_url()};
  const std::string manifest =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n"
      "data:\n  where: etcd\n";
  {
    KppServer first;
    ASSERT_TRUE(first.Start(flags));
    const std::string file = first.root_dir() + "/cm.yaml";
    ASSERT_TRUE(WriteFileAtomic(file, manifest, 0644).ok());
    auto created = first.Kubectl({"create", "-f", file});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    for (const char* name : {"more-1", "more-2"}) {
      ASSERT_EQ(first.Kubectl({"create", "configmap", name}).exit_code, 0);
    }
    auto readyz = first.Kubectl({"get", "--raw", "/readyz?verbose"});
    EXPECT_NE(readyz.out.find("[+]etcd ok"), std::string::npos) << readyz.out;
    EXPECT_FALSE(PathExists(first.data_dir() + "/db/state.db"));
  }
  // A second server with a fresh data dir sees what the first one wrote.
  KppServer second;
  ASSERT_TRUE(second.Start(flags));
  auto got = second.Kubectl({"get", "configmap", "shared", "-o", "jsonpath={.data.where}"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "etcd");
  // Pages of one snapshot, read through etcd's ranges at a revision.
  auto chunked = second.Kubectl({"get", "configmaps", "--chunk-size=1", "-o", "name"});
  ASSERT_EQ(chunked.exit_code, 0) << chunked.err;
  EXPECT_EQ(chunked.out,
            "configmap/kube-root-ca.crt\nconfigmap/more-1\nconfigmap/more-2\nconfigmap/shared\n");
}

TEST(DatastoreE2ETest, UnreachableEtcdIsOneErrorLine) {
  KppServer scratch;
  const std::string endpoint =
      "http://127.0.0.1:" + std::to_string(storage::testing::FreeLoopbackPort());
  auto result =
      testing::RunProcess({testing::KppBinary(), "server", "--data-dir", scratch.data_dir(),
                           "--bind-address", "127.0.0.1", "--https-listen-port", "0",
                           "--disable-agent", "--datastore-endpoint", endpoint},
                          std::chrono::seconds(60));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  int error_lines = 0;
  size_t start = 0;
  while (start < result.err.size()) {
    const auto end = result.err.find('\n', start);
    if (result.err[start] == 'E') ++error_lines;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  EXPECT_EQ(error_lines, 1) << result.err;
  EXPECT_NE(result.err.find("--datastore-endpoint: cannot reach etcd at " + endpoint),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(PathExists(scratch.data_dir() + "/kubeconfig.yaml"));
}

}  // namespace
}  // namespace kpp
