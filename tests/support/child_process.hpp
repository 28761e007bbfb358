#pragma once
// ChildProcess: starting and ending the real programs the tests and benchmarks run.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace fg::test {

// The command line that starts one of the project's own programs: the program itself, or in a cross
// build (FG_TEST_EMULATOR, set by tests/CMakeLists.txt) the emulator's words before it.
inline std::vector<std::string> own_program(const std::string& path) {
  std::vector<std::string> argv;
#ifdef FG_TEST_EMULATOR
  std::string words = FG_TEST_EMULATOR;
  for (std::size_t start = 0, end; start < words.size(); start = end + 1) {
    end = words.find(' ', start);
    end = end == std::string::npos ? words.size() : end;
    if (end > start) {
      argv.push_back(words.substr(start, end - start));
    }
  }
#endif
  argv.push_back(path);
  return argv;
}

// ChildProcess: a program the tests start (mosquitto, fieldgate, a helper), with stdout and stderr to
// files, its exit status kept, and no descriptor, signal mask or systemd variable of the test inherited.
// The destructor SIGKILLs and reaps a process that still runs, so no test leaves one behind.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { kill(); }

  // Starts argv[0] (searched in PATH) with stdout and stderr appended to `log`.
  bool spawn(const std::vector<std::string>& argv, const std::filesystem::path& log,
             std::string* error = nullptr) {
    return spawn(argv, log, log, error);
  }

  // stdout goes to `out`, stderr to `err` (the same file if they are equal), stdin is /dev/null, and no
  // other descriptor of the test is inherited.
  bool spawn(const std::vector<std::string>& argv, const std::filesystem::path& out,
             const std::filesystem::path& err, std::string* error = nullptr) {
    kill();
    status_.reset();
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err == out) {
      posix_spawn_file_actions_adddup2(&actions, 1, 2);
    } else {
      posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    }
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    // The test's signal mask and dispositions are not the daemon's business: start from the defaults.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    // Not under systemd here, whatever runs the tests: no sd_notify to someone else's socket and plain
    // "fieldgate: level: " log lines rather than journald's "<N>" prefixes.
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view var(*e);
      if (!var.starts_with("NOTIFY_SOCKET=") && !var.starts_with("JOURNAL_STREAM=") &&
          !var.starts_with("WATCHDOG_")) {
        env.push_back(*e);
      }
    }
    for (auto& var : extra_env_) {
      env.push_back(var.data());
    }
    env.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      if (error != nullptr) {
        *error = argv[0] + ": " + std::strerror(rc);
      }
      return false;
    }
    pid_ = pid;
    return true;
  }

  // Adds NAME=VALUE to the environment of the next spawn (after the systemd variables were removed).
  void add_env(std::string var) { extra_env_.push_back(std::move(var)); }

  pid_t pid() const noexcept { return pid_; }

  // True while the process has not exited (reaps it, keeping the status, if it has).
  bool running() {
    if (pid_ <= 0) {
      return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // Waits up to `timeout` for the exit; true if it exited (status() then tells how).
  bool wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // Sends `sig` and waits up to `timeout` for the exit; true if it exited.
  bool signal_and_wait(int sig, std::chrono::milliseconds timeout) {
    signal(sig);
    return wait_exit(timeout);
  }

  // SIGTERM, then SIGKILL if it has not exited within `grace`.
  void terminate(std::chrono::milliseconds grace = std::chrono::seconds(3)) {
    if (!signal_and_wait(SIGTERM, grace)) {
      kill();
    }
  }

  void signal(int sig) const {
    if (pid_ > 0) {
      ::kill(pid_, sig);
    }
  }

  // SIGKILL and reap, if it still runs.
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      status_ = status;
      pid_ = -1;
    }
  }

  // The raw wait status of the last exit.
  std::optional<int> status() const noexcept { return status_; }

  static std::string describe(std::optional<int> status) {
    if (!status) {
      return "still running";
    }
    if (WIFEXITED(*status)) {
      return "exit status " + std::to_string(WEXITSTATUS(*status));
    }
    if (WIFSIGNALED(*status)) {
      return std::string("killed by signal ") + ::strsignal(WTERMSIG(*status));
    }
    return "wait status " + std::to_string(*status);
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::vector<std::string> extra_env_;
};

}  // namespace fg::test
