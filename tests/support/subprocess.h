// Running other programs from tests: kpp itself, kubectl, curl, openssl.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace kpp::testing {

struct ProcessResult {
  int exit_code = -1;   // -1 when killed by a signal or timed out
  int term_signal = 0;  // the signal that ended it, if any
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs `argv` to completion (killing it after `timeout`) with extra `env` entries
// ("NAME=value"), capturing stdout and stderr.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::vector<std::string>& env = {});

// A free TCP port on 127.0.0.1 (bound to port 0, then released), for programs that cannot
// listen on port 0 themselves or whose port a test must know beforehand. Another process may
// take it before the program binds it; callers that can should retry on "address in use".
int FreeLoopbackPort();

// CPU seconds (user + system, all threads) a process has used, from /proc/<pid>/stat, in clock
// ticks (10 ms); 0 when it cannot be read.
double ProcessCpuSeconds(pid_t pid);
// The same for this process from getrusage, to the microsecond: for phases of a second or two.
double OwnCpuSeconds();

// A child process running in the background; killed (SIGKILL) and reaped on destruction.
// Its stdout and stderr go to files that can be read at any time.
class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  // Starts `argv`; returns false (with the reason in `error`) when it cannot be started.
  bool Start(const std::vector<std::string>& argv, const std::string& output_dir,
             std::string* error);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  void Signal(int signal_number) const;
  // Waits up to `timeout` for the process to end; false if it is still running.
  bool Wait(std::chrono::milliseconds timeout);
  // Exit information once Wait returned true.
  int exit_code() const { return exit_code_; }
  int term_signal() const { return term_signal_; }
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  int term_signal_ = 0;
  std::string stdout_path_;
  std::string stderr_path_;
};

}  // namespace kpp::testing
