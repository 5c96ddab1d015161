#include "support/kpp_server_fixture.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/files.h"

namespace kpp::testing {
namespace {

using namespace std::chrono_literals;

std::string ResolveOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string KubectlDirectory() {
  const std::string kubectl = ResolveOnPath("kubectl");
  if (kubectl.empty()) return "";
  char resolved[PATH_MAX];
  if (::realpath(kubectl.c_str(), resolved) == nullptr) return "";
  return std::filesystem::path(resolved).parent_path().string();
}

}  // namespace

std::string KppBinary() {
  return KPP_BINARY;
}

std::string KubectlPath(const std::string& minor) {
  if (minor.empty()) return ResolveOnPath("kubectl");
  const std::string dir = KubectlDirectory();
  if (dir.empty()) return "";
  const std::string candidate = dir + "/kubectl." + minor;
  return ::access(candidate.c_str(), X_OK) == 0 ? candidate : "";
}

std::vector<std::string> InstalledKubectlVersions() {
  std::vector<std::string> versions;
  for (int minor = 20; minor <= 40; ++minor) {
    const std::string version = "1." + std::to_string(minor);
    if (!KubectlPath(version).empty()) versions.push_back(version);
  }
  return versions;
}

KppServer::KppServer() {
  auto dir = MakeTempDirectory("kpp-e2e-");
  if (!dir.ok()) {
    ADD_FAILURE() << dir.error().message();
    return;
  }
  root_dir_ = *dir;
  data_dir_ = root_dir_ + "/data";
  kubeconfig_path_ = data_dir_ + "/kubeconfig.yaml";
}

KppServer::~KppServer() {
  if (running()) {
    process_->Signal(SIGTERM);
    if (!process_->Wait(10s)) process_.reset();  // SIGKILL and reap
  }
  process_.reset();
  if (!root_dir_.empty()) RemoveAll(root_dir_);
}

::testing::AssertionResult KppServer::Start(const std::vector<std::string>& extra_args) {
  if (running()) return ::testing::AssertionFailure() << "server already running";
  kubeconfig_path_ = data_dir_ + "/kubeconfig.yaml";
  for (size_t i = 0; i + 1 < extra_args.size(); ++i) {
    if (extra_args[i] == "--write-kubeconfig" || extra_args[i] == "-o") {
      kubeconfig_path_ = extra_args[i + 1];
    }
  }
  // A kubeconfig left by an earlier run would look like readiness; the server rewrites it.
  ::unlink(kubeconfig_path_.c_str());
  std::vector<std::string> argv = {
      KppBinary(), "server",          "--data-dir", data_dir_, "--bind-address",
      "127.0.0.1", "--disable-agent", "-v",         "4"};
  bool has_port = false;
  for (const auto& arg : extra_args)
    has_port = has_port || arg == "--https-listen-port";
  if (!has_port) argv.insert(argv.end(), {"--https-listen-port", "0"});
  // Most suites test the API server alone; controllers would change what they look at. The
  // controllers every namespace relies on (its default service account and kube-root-ca.crt,
  // token secrets, quota status, expired bootstrap tokens) run in the controller manager, as
  // upstream's: those stay on.
  const bool essentials_only = !controller_manager_ || !controllers_.empty();
  if (essentials_only) {
    std::string controllers = std::string(kEssentialControllers);
    if (!controllers_.empty()) controllers += "," + controllers_;
    argv.insert(argv.end(), {"--controllers", controllers});
  }
  if (!scheduler_) argv.push_back("--disable-scheduler");
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());

  const std::string log_dir = root_dir_ + "/run-" + std::to_string(++starts_);
  if (auto status = EnsureWritableDirectory(log_dir, 0755); !status.ok()) {
    return ::testing::AssertionFailure() << status.error().message();
  }
  process_ = std::make_unique<Process>();
  std::string error;
  if (!process_->Start(argv, log_dir, &error)) return ::testing::AssertionFailure() << error;

  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto kubeconfig = ReadFile(kubeconfig_path()); kubeconfig.ok()) {
      // The port is what follows the last ':' of the "server: https://host:port" line.
      const auto server_line = kubeconfig->find("server: https://");
      const auto line_end = kubeconfig->find('\n', server_line);
      const auto colon = kubeconfig->rfind(':', line_end);
      if (server_line == std::string::npos || line_end == std::string::npos ||
          colon == std::string::npos || colon < server_line) {
        return ::testing::AssertionFailure() << "kubeconfig has no server line:\n" << *kubeconfig;
      }
      port_ = std::stoi(kubeconfig->substr(colon + 1, line_end - colon - 1));
      const bool manager_off =
          std::find(argv.begin(), argv.end(), "--disable-controller-manager") != argv.end();
      if (manager_off) return ::testing::AssertionSuccess();
      return WaitForDefaultServiceAccount(deadline);
    }
    if (process_->Wait(0ms)) {
      return ::testing::AssertionFailure()
             << "kpp server exited with status " << process_->exit_code() << " before ready:\n"
             << Logs();
    }
    std::this_thread::sleep_for(20ms);
  }
  return ::testing::AssertionFailure() << "kpp server not ready after 30s:\n" << Logs();
}

::testing::AssertionResult KppServer::WaitForDefaultServiceAccount(
    std::chrono::steady_clock::time_point deadline) const {
  // Pods need their namespace's default service account, which the controller manager makes
  // after the server is up (unless a suite's flags turned the manager off).
  if (!process_->running()) return ::testing::AssertionSuccess();
  while (std::chrono::steady_clock::now() < deadline) {
    if (Kubectl({"get", "serviceaccount", "default", "-o", "name"}).exit_code == 0) {
      return ::testing::AssertionSuccess();
    }
    if (process_->Wait(0ms)) return ::testing::AssertionSuccess();  // the suite looks at why
    std::this_thread::sleep_for(50ms);
  }
  return ::testing::AssertionFailure() << "no default service account after 30s:\n" << Logs();
}

::testing::AssertionResult KppServer::Stop(int signal_number) {
  if (!running()) return ::testing::AssertionFailure() << "server not running";
  process_->Signal(signal_number);
  if (!process_->Wait(15s)) {
    return ::testing::AssertionFailure()
           << "kpp server did not stop within 15s of signal " << signal_number;
  }
  if (process_->exit_code() != 0) {
    return ::testing::AssertionFailure()
           << "kpp server exited with status " << process_->exit_code() << ", signal "
           << process_->term_signal() << ":\n"
           << Logs();
  }
  return ::testing::AssertionSuccess();
}

std::string KppServer::Logs() const {
  return process_ ? process_->Stderr() : "";
}

std::string KppServer::WriteFile(const std::string& name, const std::string& content) const {
  const std::string path = root_dir_ + "/" + name;
  if (auto written = WriteFileAtomic(path, content, 0644); !written.ok()) {
    ADD_FAILURE() << "writing " << path << ": " << written.error().message();
  }
  return path;
}

ProcessResult KppServer::Kubectl(const std::vector<std::string>& args,
                                 const std::string& minor) const {
  const std::string kubectl = KubectlPath(minor);
  if (kubectl.empty()) {
    ADD_FAILURE() << "kubectl " << (minor.empty() ? "" : minor + " ")
                  << "is not installed; scripts/install-deps installs it";
    return {};
  }
  std::vector<std::string> argv = {kubectl, "--kubeconfig", kubeconfig_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  // A private cache dir keeps kubectl's discovery cache from leaking between tests.
  return RunProcess(argv, 60s, {"HOME=" + root_dir_, "KUBECACHEDIR=" + root_dir_ + "/kubecache"});
}

std::string KppServer::TokenKubeconfig(const std::string& token) const {
  std::ifstream admin(kubeconfig_path());
  std::stringstream config;
  std::string line;
  // The admin kubeconfig up to its users: the cluster (server and CA) and the context.
  while (std::getline(admin, line) && line != "users:")
    config << line << "\n";
  config << "users:\n- name: default\n  user:\n    token: " << token << "\n";
  return WriteFile("token-" + std::to_string(++token_kubeconfigs_) + ".yaml", config.str());
}

ProcessResult KppServer::KubectlAs(const std::string& kubeconfig, std::vector<std::string> args,
                                   const std::string& minor) const {
  args.insert(args.begin(), {"--kubeconfig", kubeconfig});
  return Kubectl(args, minor);
}

ProcessResult KppServer::Curl(const std::string& path, bool authenticate) const {
  std::vector<std::string> argv = {
      "curl",           "-sS",        "--cacert", data_dir_ + "/tls/ca.crt", "-w",
      "\n%{http_code}", "--max-time", "20"};
  if (authenticate) {
    argv.insert(argv.end(),
                {"--cert", data_dir_ + "/tls/admin.crt", "--key", data_dir_ + "/tls/admin.key"});
  }
  argv.push_back("https://127.0.0.1:" + std::to_string(port_) + path);
  return RunProcess(argv, 30s);
}

}  // namespace kpp::testing
