// `kpp server` as a user runs it: the real binary, the real kubectl of every installed version,
// curl, signals, and the bad inputs a user can give it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <map>
#include <regex>

#include "base/encoding.h"
#include "base/files.h"
#include "base/version.h"
#include "pki/certificates.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::KppServer;
using testing::ProcessResult;
using testing::RunProcess;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The klog error lines ("E1123 ...") in a log.
std::vector<std::string> ErrorLines(const std::string& log) {
  std::vector<std::string> errors;
  for (const auto& line : Lines(log)) {
    if (line.starts_with("E") || line.starts_with("F")) errors.push_back(line);
  }
  return errors;
}

std::map<std::string, std::string> SnapshotDirectory(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const char* name : {"tls/ca.crt", "tls/ca.key", "tls/apiserver.crt", "tls/apiserver.key",
                           "tls/admin.crt", "tls/admin.key", "kubeconfig.yaml"}) {
    auto content = ReadFile(dir + "/" + name);
    files[name] = content.ok() ? *content : "<missing>";
  }
  return files;
}

// Runs `kpp server` expected to refuse to start; it must exit on its own, quickly.
ProcessResult RunFailingServer(const std::string& data_dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {testing::KppBinary(), "server",    "--data-dir",     data_dir,
                                   "--bind-address",     "127.0.0.1", "--disable-agent"};
  bool has_port = false;
  for (const auto& arg : extra)
    has_port = has_port || arg == "--https-listen-port";
  if (!has_port) argv.insert(argv.end(), {"--https-listen-port", "0"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto result = RunProcess(argv, 20s);
  EXPECT_FALSE(result.timed_out) << "kpp server kept running on bad input";
  return result;
}

// The single error line of a failed start, checked to contain `needle`.
void ExpectOneErrorLine(const ProcessResult& result, const std::string& needle) {
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const auto errors = ErrorLines(result.err);
  ASSERT_EQ(errors.size(), 1u) << result.err;
  EXPECT_NE(errors[0].find(needle), std::string::npos) << errors[0];
}

// A CLI usage error: exactly one line on stderr, exit code 2.
void ExpectUsageError(const ProcessResult& result, const std::string& needle) {
  EXPECT_EQ(result.exit_code, 2) << result.err;
  const auto lines = Lines(result.err);
  ASSERT_EQ(lines.size(), 1u) << result.err;
  EXPECT_NE(lines[0].find(needle), std::string::npos) << lines[0];
}

TEST(ServerE2ETest, KubectlVersionWorksWithEveryInstalledKubectl) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  std::vector<std::string> versions = testing::InstalledKubectlVersions();
  versions.insert(versions.begin(), "");  // the default kubectl
  for (const auto& minor : versions) {
    auto result = server.Kubectl({"version", "-o", "json"}, minor);
    ASSERT_EQ(result.exit_code, 0) << "kubectl " << minor << ": " << result.err;
    const auto doc = boost::json::parse(result.out).as_object();
    ASSERT_TRUE(doc.contains("serverVersion")) << result.out;
    const auto& server_version = doc.at("serverVersion").as_object();
    EXPECT_EQ(server_version.at("gitVersion").as_string(), KubernetesGitVersion()) << minor;
    EXPECT_EQ(server_version.at("minor").as_string(), std::to_string(kKubernetesMinor));
  }
  auto plain = server.Kubectl({"version"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("Server Version: " + KubernetesGitVersion()), std::string::npos)
      << plain.out;
}

TEST(ServerE2ETest, KubectlGetRawReadyzAndHealth) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  auto readyz = server.Kubectl({"get", "--raw", "/readyz"});
  ASSERT_EQ(readyz.exit_code, 0) << readyz.err;
  EXPECT_EQ(readyz.out, "ok");
  auto verbose = server.Kubectl({"get", "--raw", "/readyz?verbose"});
  ASSERT_EQ(verbose.exit_code, 0) << verbose.err;
  EXPECT_EQ(verbose.out, "[+]ping ok\n[+]etcd ok\n[+]shutdown ok\nreadyz check passed\n");
  for (const char* path : {"/livez", "/healthz"}) {
    auto result = server.Kubectl({"get", "--raw", path});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "ok");
  }
}

TEST(ServerE2ETest, RequestsWithoutClientCertificateAreUnauthorized) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  auto anonymous = server.Curl("/api", false);
  ASSERT_EQ(anonymous.exit_code, 0) << anonymous.err;
  EXPECT_EQ(anonymous.out, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                           R"("message":"Unauthorized","reason":"Unauthorized","code":401})"
                           "\n401");
  for (const char* path : {"/version", "/healthz", "/livez", "/readyz"}) {
    auto result = server.Curl(path, false);
    EXPECT_TRUE(result.out.ends_with("\n200")) << path << ": " << result.out;
  }
  auto admin = server.Curl("/api", true);
  EXPECT_TRUE(admin.out.ends_with("\n200")) << admin.out;
  // kubectl with the right CA but no client certificate (a bogus token instead) is refused too.
  const std::string anonymous_kubeconfig = server.root_dir() + "/anonymous.yaml";
  ASSERT_TRUE(WriteFileAtomic(anonymous_kubeconfig, "apiVersion: v1\nkind: Config\n", 0600).ok());
  auto refused = RunProcess(
      {testing::KubectlPath(), "--kubeconfig", anonymous_kubeconfig, "--server",
       "https://127.0.0.1:" + std::to_string(server.port()), "--certificate-authority",
       server.data_dir() + "/tls/ca.crt", "--token", "not-a-valid-token", "get", "--raw", "/api"},
      30s, {"HOME=" + server.root_dir()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("Unauthorized"), std::string::npos) << refused.err;
}

TEST(ServerE2ETest, KubeconfigNamesServerCaAndAdmin) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  struct stat st {};
  ASSERT_EQ(stat(server.kubeconfig_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto field = [&](const std::string& path) {
    auto result = server.Kubectl({"config", "view", "--raw", "-o", "jsonpath={" + path + "}"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  };
  EXPECT_EQ(field(".clusters[0].cluster.server"),
            "https://127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(field(".current-context"), "default");
  auto ca = Base64Decode(field(".clusters[0].cluster.certificate-authority-data"));
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(*ca, *ReadFile(server.data_dir() + "/tls/ca.crt"));
  auto client = Base64Decode(field(".users[0].user.client-certificate-data"));
  ASSERT_TRUE(client.ok());
  auto info = pki::ParseCertificate(*client);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "kpp-admin");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:masters"});
  auto key = Base64Decode(field(".users[0].user.client-key-data"));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(pki::CheckKeyMatches(*client, *key).ok());

  auto serving = pki::ParseCertificate(*ReadFile(server.data_dir() + "/tls/apiserver.crt"));
  ASSERT_TRUE(serving.ok());
  for (const char* name : {"localhost", "kubernetes", "kubernetes.default",
                           "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}) {
    EXPECT_NE(std::find(serving->dns_names.begin(), serving->dns_names.end(), name),
              serving->dns_names.end())
        << name;
  }
  EXPECT_NE(std::find(serving->ip_addresses.begin(), serving->ip_addresses.end(), "127.0.0.1"),
            serving->ip_addresses.end());
}

TEST(ServerE2ETest, WriteKubeconfigPathAndMode) {
  KppServer server;
  const std::string path = server.root_dir() + "/elsewhere/admin.yaml";
  ASSERT_TRUE(server.Start({"--write-kubeconfig", path, "--write-kubeconfig-mode", "644"}));
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_FALSE(PathExists(server.data_dir() + "/kubeconfig.yaml"));
  auto version = server.Kubectl({"version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
}

TEST(ServerE2ETest, CertificatesAreReusedAcrossRestart) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  const auto first = SnapshotDirectory(server.data_dir());
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(server.Start());
  auto second = SnapshotDirectory(server.data_dir());
  // Only the port in the kubeconfig may differ.
  for (const auto& [name, content] : first) {
    if (name != "kubeconfig.yaml") {
      EXPECT_EQ(second.at(name), content) << name;
    }
  }
  auto version = server.Kubectl({"get", "--raw", "/readyz"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
}

TEST(ServerE2ETest, ShutsDownCleanlyOnSigtermAndSigint) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  const int port = server.port();
  ASSERT_TRUE(server.Stop());  // SIGTERM
  EXPECT_NE(server.Logs().find("shutting down"), std::string::npos) << server.Logs();
  // The port is free again.
  const int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  close(probe);

  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(server.Stop(SIGINT));  // as Ctrl-C in `make run` sends
}

TEST(ServerE2ETest, PortInUseIsOneErrorLine) {
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t length = sizeof address;
  getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string port = std::to_string(ntohs(address.sin_port));

  KppServer scratch;
  auto result = RunFailingServer(scratch.data_dir(), {"--https-listen-port", port});
  ExpectOneErrorLine(result, "cannot listen on 127.0.0.1:" + port + ": Address already in use");
  EXPECT_FALSE(PathExists(scratch.data_dir() + "/kubeconfig.yaml"));
  close(holder);
}

TEST(ServerE2ETest, UnwritableDataDirIsOneErrorLine) {
  KppServer scratch;
  const std::string file = scratch.root_dir() + "/a-file";
  ASSERT_TRUE(WriteFileAtomic(file, "x", 0644).ok());
  auto result = RunFailingServer(file + "/data");
  ExpectOneErrorLine(result,
                     "data dir: cannot create directory " + file + "/data: Not a directory");
}

// Starts and stops a server, replaces `file` in its data dir with `content`, and checks that the
// next start fails with one error line containing `message` and changes nothing.
void ExpectDamagedFileRefused(const std::string& file, const std::string& content,
                              const std::string& message) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(WriteFileAtomic(server.data_dir() + "/" + file, content, 0600).ok());
  const auto before = SnapshotDirectory(server.data_dir());
  auto result = RunFailingServer(server.data_dir());
  ExpectOneErrorLine(result, message);
  EXPECT_EQ(SnapshotDirectory(server.data_dir()), before);
}

TEST(ServerE2ETest, CorruptCertificateIsOneErrorLineAndNothingChanges) {
  ExpectDamagedFileRefused("tls/apiserver.crt", "not a certificate",
                           "tls/apiserver.crt: not a valid PEM certificate");
}

TEST(ServerE2ETest, MismatchedKeyIsOneErrorLineAndNothingChanges) {
  auto other = pki::GenerateCa("other", std::chrono::hours(1));
  ASSERT_TRUE(other.ok());
  ExpectDamagedFileRefused("tls/admin.key", other->private_key_pem,
                           "tls/admin.key: does not match tls/admin.crt");
}

TEST(ServerE2ETest, LogsInKlogFormatWithVerbosity) {
  KppServer server;
  ASSERT_TRUE(server.Start());  // the fixture runs with -v 4, which logs every request
  ASSERT_EQ(server.Kubectl({"version"}).exit_code, 0);
  ASSERT_TRUE(server.Stop());
  const std::regex klog_line(R"(^[IWE]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ [\w.]+:\d+\] .+$)");
  const auto lines = Lines(server.Logs());
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines)
    EXPECT_TRUE(std::regex_match(line, klog_line)) << line;
  EXPECT_NE(server.Logs().find("] GET /version"), std::string::npos) << server.Logs();
}

TEST(ServerE2ETest, BadFlagsAreOneLineUsageErrors) {
  KppServer scratch;
  ExpectUsageError(RunProcess({testing::KppBinary(), "server", "--no-such-flag"}, 10s),
                   "--no-such-flag");
  ExpectUsageError(RunProcess({testing::KppBinary(), "frobnicate"}, 10s), "frobnicate");
  ExpectUsageError(
      RunProcess({testing::KppBinary(), "server", "--https-listen-port", "70000"}, 10s), "70000");
  ExpectUsageError(
      RunProcess({testing::KppBinary(), "server", "--write-kubeconfig-mode", "rw-r--r--"}, 10s),
      "--write-kubeconfig-mode");
  ExpectUsageError(
      RunProcess({testing::KppBinary(), "server", "--authorization-mode", "ABAC"}, 10s),
      "--authorization-mode: \"ABAC\" is not Node,RBAC or AlwaysAllow");
  ExpectUsageError(
      RunProcess({testing::KppBinary(), "server", "--controllers", "namespace,nosuch"}, 10s),
      "invalid --controllers: \"nosuch\" is not in the list of known controllers");
  auto bad_address = RunFailingServer(scratch.data_dir(), {"--bind-address", "localhost"});
  ExpectOneErrorLine(bad_address, "invalid --bind-address \"localhost\": not an IP address");
  EXPECT_FALSE(PathExists(scratch.data_dir())) << "nothing is created on bad input";
}

TEST(ServerE2ETest, VersionCommandAndFlag) {
  for (const char* arg : {"version", "--version"}) {
    auto result = RunProcess({testing::KppBinary(), arg}, 10s);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("kpp version " + GetBuildInfo().version), std::string::npos);
    EXPECT_NE(result.out.find(KubernetesGitVersion()), std::string::npos);
    EXPECT_NE(result.out.find("git commit: "), std::string::npos);
    EXPECT_NE(result.out.find("build date: "), std::string::npos);
    EXPECT_NE(result.out.find("compiler: GNU"), std::string::npos) << result.out;
  }
}

}  // namespace
}  // namespace kpp
