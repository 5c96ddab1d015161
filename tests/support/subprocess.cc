#include "support/subprocess.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

#include "base/files.h"

extern char** environ;

namespace kpp::testing {
namespace {

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Spawns `argv` with stdin from /dev/null and stdout/stderr into the given files.
pid_t Spawn(std::vector<std::string> argv, const std::vector<std::string>& extra_env,
            const std::string& stdout_path, const std::string& stderr_path, std::string* error) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    env.emplace_back(*e);
  for (const auto& entry : extra_env) {
    const std::string name = entry.substr(0, entry.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.starts_with(name); });
    env.push_back(entry);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  // The child must not inherit a blocked signal mask from a test that blocked signals.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  auto c_argv = CStrings(argv);
  auto c_env = CStrings(env);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, c_argv[0], &actions, &attributes, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    if (error != nullptr) *error = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

// Polls for the end of `pid` until `timeout`; fills status and returns true when it ended.
bool WaitFor(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const pid_t rc = waitpid(pid, status, WNOHANG);
    if (rc == pid) return true;
    if (rc < 0) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ReadOrEmpty(const std::string& path) {
  auto content = ReadFile(path);
  return content.ok() ? *content : std::string();
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& env) {
  ProcessResult result;
  auto dir = MakeTempDirectory("kpp-run-");
  if (!dir.ok()) {
    result.err = dir.error().message();
    return result;
  }
  const std::string out_path = *dir + "/stdout";
  const std::string err_path = *dir + "/stderr";
  const pid_t pid = Spawn(argv, env, out_path, err_path, &result.err);
  if (pid > 0) {
    int status = 0;
    if (!WaitFor(pid, timeout, &status)) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timed_out = true;
    }
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
    result.out = ReadOrEmpty(out_path);
    result.err = ReadOrEmpty(err_path);
  }
  RemoveAll(*dir);
  return result;
}

Process::~Process() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool Process::Start(const std::vector<std::string>& argv, const std::string& output_dir,
                    std::string* error) {
  stdout_path_ = output_dir + "/stdout.log";
  stderr_path_ = output_dir + "/stderr.log";
  pid_ = Spawn(argv, {}, stdout_path_, stderr_path_, error);
  return pid_ > 0;
}

void Process::Signal(int signal_number) const {
  if (pid_ > 0) kill(pid_, signal_number);
}

bool Process::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return true;
  int status = 0;
  if (!WaitFor(pid_, timeout, &status)) return false;
  if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) term_signal_ = WTERMSIG(status);
  pid_ = -1;
  return true;
}

std::string Process::Stdout() const {
  return ReadOrEmpty(stdout_path_);
}
std::string Process::Stderr() const {
  return ReadOrEmpty(stderr_path_);
}

double ProcessCpuSeconds(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return 0;
  // The fields after the command (which may hold spaces and parentheses) start at state,
  // field 3; utime and stime are fields 14 and 15.
  std::string_view rest(*stat);
  const auto command_end = rest.rfind(')');
  if (command_end == std::string_view::npos || command_end + 2 > rest.size()) return 0;
  rest.remove_prefix(command_end + 2);
  double ticks = 0;
  for (int field = 3; field <= 15 && !rest.empty(); ++field) {
    const auto space = rest.find(' ');
    if (field >= 14) ticks += std::strtod(std::string(rest.substr(0, space)).c_str(), nullptr);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  close(fd);
  return port;
}

}  // namespace kpp::testing
