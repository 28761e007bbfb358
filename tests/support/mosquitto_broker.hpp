#pragma once
// MosquittoBroker: a real mosquitto broker on a free 127.0.0.1 port, for tests (DESIGN.md rule 9).
//
//   test::MosquittoBroker broker;                     // picks a free port, writes nothing yet
//   ASSERT_TRUE(broker.start()) << broker.last_error(); // returns once the port accepts connections
//   ... options.port = broker.port(); ...
//   broker.kill();                                    // SIGKILL: no goodbye, like a crash
//   ASSERT_TRUE(broker.restart());                    // the same port again
//   broker.stop();                                    // SIGTERM (the destructor does this too)
//
// Extra configuration lines go after the "listener PORT 127.0.0.1" line, so listener settings (cafile,
// certfile, keyfile, require_certificate) apply to that listener; global ones (password_file,
// allow_anonymous) work there too. Without an allow_anonymous line the broker allows anonymous
// clients. dir() is a private temporary directory for certificates and password files; the broker's
// output goes to dir()/broker.log (log() returns it, handy in a failure message).
//
// No GoogleTest in here, so benchmarks and other programs can use it too: failures are return values,
// with the reason (and the broker's log) in last_error().
//
// ChildProcess (child_process.hpp) does the spawning.
// A child inherits none of the test's descriptors: a socket the test closes is really closed, and a
// broker started after a client connected does not keep that client's old connection alive.
//
// Known limits: the free port is found by binding port 0 and closing it again, so another process
// could take it in between (start() then fails and says so); readiness is a TCP connect probe every
// few milliseconds, since mosquitto has no readiness notification.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace fg::test {

class MosquittoBroker {
 public:
  explicit MosquittoBroker(std::vector<std::string> extra_config = {})
      : port_(free_port()), extra_config_(std::move(extra_config)) {}
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;
  ~MosquittoBroker() { stop(); }

  // A port on 127.0.0.1 that nothing listens on right now (0 if the kernel gives none).
  static std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      addr.sin_port = 0;
    }
    if (fd >= 0) {
      ::close(fd);
    }
    return ntohs(addr.sin_port);
  }

  std::uint16_t port() const noexcept { return port_; }
  const std::filesystem::path& dir() const noexcept { return dir_.path(); }
  bool running() { return process_.running(); }
  pid_t pid() const noexcept { return process_.pid(); }

  // Replaces the extra configuration lines for the next start().
  void set_extra_config(std::vector<std::string> lines) { extra_config_ = std::move(lines); }

  // Writes the configuration, starts mosquitto and waits until the port accepts TCP connections.
  // Starting a running broker restarts it. Returns false, with the reason and the broker's log in
  // last_error(), if it does not come up within `timeout`.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    stop();
    error_.clear();
    if (port_ == 0) {
      error_ = "no free port on 127.0.0.1";
      return false;
    }
    write_config();
    std::string error;
    if (!process_.spawn({"mosquitto", "-c", (dir() / "mosquitto.conf").string()}, dir() / "broker.log",
                        &error)) {
      error_ = "cannot start mosquitto: " + error;
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_.running()) {
        error_ = "mosquitto exited at start; its log:\n" + log();
        return false;
      }
      if (accepts_connections()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    error_ = "mosquitto did not listen on port " + std::to_string(port_) + " in time; its log:\n" + log();
    process_.kill();
    return false;
  }

  // Why the last start() failed.
  const std::string& last_error() const noexcept { return error_; }

  // The same port again (after stop() or kill()).
  bool restart(std::chrono::milliseconds timeout = std::chrono::seconds(5)) { return start(timeout); }

  // SIGTERM: mosquitto closes its clients' connections cleanly (and publishes their wills).
  void stop() { process_.terminate(); }

  // SIGKILL: the kernel closes the sockets, as after a crash or a power cut of the broker host.
  void kill() { process_.kill(); }

  // SIGSTOP, and returns once the kernel shows the broker stopped: kill() only queues the signal, and a
  // broker that is still running reads a little more. False if it is not stopped within `timeout`.
  bool pause(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    if (::kill(pid(), SIGSTOP) != 0) {
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (stopped()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  // SIGCONT after pause().
  bool resume() { return ::kill(pid(), SIGCONT) == 0; }

  std::string log() const {
    std::ifstream in(dir() / "broker.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  void write_config() {
    std::ostringstream conf;
    conf << "per_listener_settings false\n"
         << "persistence false\n"
         << "log_dest stderr\n"
         << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
    // mosquitto run as root switches to the "mosquitto" user, which cannot read the private
    // temporary directory; "user root" keeps it as it is (ignored when not root).
    if (::geteuid() == 0) {
      conf << "user root\n";
    }
    bool anonymous_set = false;
    for (const auto& line : extra_config_) {
      anonymous_set = anonymous_set || line.rfind("allow_anonymous", 0) == 0;
    }
    if (!anonymous_set) {
      conf << "allow_anonymous true\n";
    }
    conf << "listener " << port_ << " 127.0.0.1\n";
    for (const auto& line : extra_config_) {
      conf << line << "\n";
    }
    write_file(dir() / "mosquitto.conf", conf.str());
  }

  // The state letter of /proc/PID/stat (after the parenthesised name) is T when stopped by a signal.
  bool stopped() const {
    std::ifstream in("/proc/" + std::to_string(pid()) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto end_of_name = stat.rfind(')');
    return end_of_name != std::string::npos && end_of_name + 2 < stat.size() && stat[end_of_name + 2] == 'T';
  }

  bool accepts_connections() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  TempDir dir_;
  std::uint16_t port_;
  std::string error_;
  std::vector<std::string> extra_config_;
  ChildProcess process_;
};

}  // namespace fg::test
