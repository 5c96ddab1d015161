#include "support/test_pki.h"

#include "base/files.h"

namespace kpp::testing {
namespace {

using namespace std::chrono_literals;

}  // namespace

TestPki::TestPki() {
  auto dir = MakeTempDirectory("kpp-test-pki-");
  if (!dir.ok()) return;
  dir_ = *dir;
  auto ca = pki::GenerateCa("test-ca", 24h);
  auto other_ca = pki::GenerateCa("other-ca", 24h);
  if (!ca.ok() || !other_ca.ok()) return;
  ca_ = *ca;
  auto serving =
      pki::IssueCertificate(ca_, {.common_name = "server", .ip_addresses = {"127.0.0.1"}});
  auto client = pki::IssueCertificate(
      ca_,
      {.common_name = "alice", .organizations = {"devs", "ops"}, .usage = pki::KeyUsage::kClient});
  auto intruder =
      pki::IssueCertificate(*other_ca, {.common_name = "mallory", .usage = pki::KeyUsage::kClient});
  if (!serving.ok() || !client.ok() || !intruder.ok()) return;
  serving_ = *serving;
  const std::pair<std::string, std::string> files[] = {
      {"ca.crt", ca_.certificate_pem},
      {"client.crt", client->certificate_pem},
      {"client.key", client->private_key_pem},
      {"intruder.crt", intruder->certificate_pem},
      {"intruder.key", intruder->private_key_pem},
  };
  for (const auto& [name, content] : files) {
    if (!WriteFileAtomic(dir_ + "/" + name, content, 0600).ok()) return;
  }
  ok_ = true;
}

TestPki::~TestPki() {
  if (!dir_.empty()) RemoveAll(dir_);
}

ProcessResult TestPki::Curl(int port, const std::string& path, const std::string& identity,
                            const std::vector<std::string>& extra) const {
  std::vector<std::string> argv = {"curl",           "-sS", "--max-time",    "20", "--cacert",
                                   dir_ + "/ca.crt", "-w",  "\n%{http_code}"};
  if (!identity.empty()) {
    argv.insert(argv.end(), {"--cert", dir_ + "/" + identity + ".crt", "--key",
                             dir_ + "/" + identity + ".key"});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("https://127.0.0.1:" + std::to_string(port) + path);
  return RunProcess(argv, 30s);
}

}  // namespace kpp::testing
