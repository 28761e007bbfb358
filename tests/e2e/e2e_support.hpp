#pragma once
// Shared parts of the end-to-end tests: the real `fieldgate` binary as a child process, a real mosquitto
// broker (MosquittoBroker), pty pairs as serial devices (PtyDevice) and a real MQTT subscriber
// (MqttClient, libmosquitto in its own thread).
//
// E2eTest, the fixture: SetUp starts a broker on a free loopback port. A test adds its devices
// (add_device), writes a config (config_head() gives [gateway] and [mqtt] for this broker, id "t1",
// prefix "fg"), and start_gateway() connects the subscriber to "fg/#", starts fieldgate with its stdout
// and stderr in dir()/gateway.log, and waits for the retained "fg/t1/status" == "online" and each device's
// "fg/t1/<device>/status" == "online" (the port is open: bytes sent before that would be flushed by the
// gateway's open). TearDown stops a gateway that still runs with SIGTERM and checks that it exited with
// status 0 and that its log holds no sanitizer report, so every test ends with fieldgate reaped.
//
// Every wait is for an event, with a generous limit (kWait, 10 s); failure messages carry the gateway's
// log (diagnostics()).

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_broker.hpp"
#include "tests/support/mqtt_client.hpp"
#include "tests/support/pty_device.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace fg::e2e {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

inline constexpr std::chrono::milliseconds kWait = 10s;

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

using Process = test::ChildProcess;

// Runs a program to its end; returns its wait status (nullopt if it did not end within `timeout`).
inline std::optional<int> run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& out,
                                     const std::filesystem::path& err,
                                     std::chrono::milliseconds timeout = kWait) {
  Process p;
  if (!p.spawn(argv, out, err)) {
    return std::nullopt;
  }
  if (!p.wait_exit(timeout)) {
    return std::nullopt;
  }
  return p.status();
}

// What a sanitizer-built fieldgate writes when it finds something; any of these in its log fails the test.
inline std::string sanitizer_report(const std::string& log) {
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "LeakSanitizer",
                             "runtime error:", "ERROR: UndefinedBehaviorSanitizer"}) {
    if (log.find(marker) != std::string::npos) {
      return marker;
    }
  }
  return {};
}

// Writes all of `bytes` to a non-blocking pty master, waiting for room while the gateway reads.
inline bool write_all(int fd, std::string_view bytes, std::chrono::milliseconds timeout = kWait) {
  auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, 50);
  }
  return true;
}

// A UDP port nothing listens on right now (the kernel's pick for a socket bound to port 0).
inline int free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Reads from a pty master until `done(all bytes so far)` holds or `timeout` passes; returns the bytes.
inline std::string read_until(int fd, const std::function<bool(const std::string&)>& done,
                              std::chrono::milliseconds timeout = kWait) {
  std::string got;
  auto deadline = Clock::now() + timeout;
  while (!done(got)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 100))) > 0) {
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        got.append(buf, static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        break;
      }
    }
  }
  return got;
}

// Reads until `expected` has arrived in full (or something else made it impossible).
inline std::string read_exactly(int fd, const std::string& expected,
                                std::chrono::milliseconds timeout = kWait) {
  return read_until(
      fd, [&](const std::string& got) { return got.size() >= expected.size(); }, timeout);
}

// Makes bytes printable for a failure message.
inline std::string escaped(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// RFC 3339 UTC with milliseconds, "2026-11-23T19:43:23.123Z", and within an hour of this machine's
// clock (a sanity check of the wall clock in payloads, not a timing goal).
inline ::testing::AssertionResult IsRfc3339UtcNow(const std::string& text) {
  static const std::regex form(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$)");
  std::smatch m;
  if (!std::regex_match(text, m, form)) {
    return ::testing::AssertionFailure() << "\"" << text << "\" is not RFC 3339 UTC with milliseconds";
  }
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  std::time_t when = ::timegm(&tm);
  std::time_t now = std::time(nullptr);
  if (std::abs(static_cast<long>(now - when)) > 3600) {
    return ::testing::AssertionFailure() << "\"" << text << "\" is more than an hour away from now";
  }
  return ::testing::AssertionSuccess();
}

class E2eTest : public ::testing::Test {
 protected:
  static constexpr const char* kPrefix = "fg";
  static constexpr const char* kId = "t1";

  void SetUp() override { ASSERT_TRUE(broker_.start()) << broker_.last_error(); }

  void TearDown() override {
    if (gateway_.running()) {
      stop_gateway();
    }
    gateway_.kill();
    sub_.reset();
  }

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path log_path() const { return dir_ / "gateway.log"; }
  std::string log() const { return read_text(log_path()); }

  // The gateway's log and the last messages the subscriber saw, for failure messages.
  std::string diagnostics() const {
    std::string out = "\n--- fieldgate log ---\n" + log();
    if (sub_) {
      auto all = sub_->messages();
      out += "--- last MQTT messages (" + std::to_string(all.size()) + " in all) ---\n";
      for (std::size_t i = all.size() > 30 ? all.size() - 30 : 0; i < all.size(); ++i) {
        out += all[i].topic + (all[i].retain ? " [retained] " : " ") + escaped(all[i].payload) + "\n";
      }
    }
    return out;
  }

  std::string topic(std::string_view rest) const {
    return std::string(kPrefix) + "/" + kId + "/" + std::string(rest);
  }
  std::string status_topic() const { return topic("status"); }
  std::string device_status_topic(std::string_view device) const {
    return topic(std::string(device) + "/status");
  }

  // A pty device published at dir()/<name>.
  test::PtyDevice& add_device(const std::string& name) {
    auto& slot = devices_[name];
    slot = std::make_unique<test::PtyDevice>(dir_ / name);
    return *slot;
  }
  test::PtyDevice& device(const std::string& name) { return *devices_.at(name); }
  std::string device_path(const std::string& name) const { return (dir_ / name).string(); }

  // The gateway's state_dir (the spool, the seq checkpoint): one per test.
  std::filesystem::path state_dir() const { return dir_ / "state"; }

  // [gateway] and [mqtt] for this test's broker; `mqtt_extra` lines go into [mqtt].
  std::string config_head(const std::string& mqtt_extra = {}) const {
    return "[gateway]\nid = \"" + std::string(kId) + "\"\nlog_level = \"info\"\nstate_dir = \"" +
           state_dir().string() +
           "\"\n\n[mqtt]\nhost = \"127.0.0.1\"\nport = " + std::to_string(broker_.port()) + "\nprefix = \"" +
           kPrefix + "\"\n" + mqtt_extra + "\n";
  }

  // A [[serial]] entry's first lines for a device added with add_device().
  std::string serial_head(const std::string& name) const {
    return "[[serial]]\nname = \"" + name + "\"\npath = \"" + device_path(name) + "\"\nbaud = 115200\n";
  }

  // Connects the subscriber (to "fg/#"), starts fieldgate with `config` and waits until it and every
  // device in `online_devices` say "online".
  void start_gateway(const std::string& config, const std::vector<std::string>& online_devices) {
    config_path_ = dir_ / "fieldgate.toml";
    test::write_file(config_path_, config);
    sub_ = std::make_unique<test::MqttClient>();
    ASSERT_TRUE(sub_->connect("127.0.0.1", broker_.port())) << broker_.log();
    ASSERT_TRUE(sub_->subscribe(std::string(kPrefix) + "/#"));
    std::string error;
    ASSERT_TRUE(gateway_.spawn({FIELDGATE_BINARY, "run", "--config", config_path_.string()}, log_path(),
                               log_path(), &error))
        << error;
    ASSERT_TRUE(sub_->wait_message(status_topic(), "online"))
        << "fieldgate did not say online" << diagnostics();
    for (const auto& name : online_devices) {
      ASSERT_TRUE(sub_->wait_message(device_status_topic(name), "online"))
          << name << " did not come online" << diagnostics();
    }
  }

  // SIGTERM, and the exit with status 0 within kWait; its log must hold no sanitizer report. Returns how
  // long the exit took.
  std::chrono::milliseconds stop_gateway() {
    auto start = Clock::now();
    gateway_.signal(SIGTERM);
    bool exited = gateway_.wait_exit(kWait);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    EXPECT_TRUE(exited) << "fieldgate did not exit within 10 s of SIGTERM" << diagnostics();
    if (!exited) {
      gateway_.kill();
    }
    auto status = gateway_.status();
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "fieldgate ended with " << Process::describe(status) << diagnostics();
    expect_clean_log();
    return took;
  }

  void expect_clean_log() {
    std::string text = log();
    EXPECT_EQ(sanitizer_report(text), "") << "sanitizer report in the fieldgate log" << diagnostics();
  }

  // Waits until `count` messages have arrived on `topic` (from message index `from`) and returns the
  // payloads of the first `count` of them.
  std::vector<std::string> wait_payloads(const std::string& topic, std::size_t count, std::size_t from = 0) {
    bool arrived = sub_->wait_for([&](const std::vector<test::MqttMessage>& all) {
      std::size_t n = 0;
      for (std::size_t i = from; i < all.size(); ++i) {
        n += all[i].topic == topic ? 1 : 0;
      }
      return n >= count;
    });
    EXPECT_TRUE(arrived) << "fewer than " << count << " messages on " << topic << diagnostics();
    std::vector<std::string> out;
    for (const auto& m : sub_->on_topic(topic, from)) {
      if (out.size() < count) {
        out.push_back(m.payload);
      }
    }
    return out;
  }

  // The same, parsed as JSON objects (a payload that is no JSON object fails the test and is left out).
  std::vector<Json> wait_readings(const std::string& topic, std::size_t count, std::size_t from = 0) {
    std::vector<Json> out;
    for (const auto& payload : wait_payloads(topic, count, from)) {
      Json j = Json::parse(payload, nullptr, false);
      EXPECT_TRUE(j.is_object()) << topic << ": not a JSON object: " << payload;
      if (j.is_object()) {
        out.push_back(std::move(j));
      }
    }
    return out;
  }

  // Sends SIGUSR1 and returns the counters line fieldgate logs for `device` ("<device>: N bytes read, ...").
  std::string counters_line(const std::string& device) { return usr1_line(device + ": ", " bytes read, "); }
  // The same for the MQTT session ("mqtt: N published, ...").
  std::string mqtt_counters_line() { return usr1_line("mqtt: ", " published, "); }

  // Sends SIGUSR1 and returns the first new log line starting (after "fieldgate: notice: ") with `start`
  // and containing `marker`.
  std::string usr1_line(const std::string& start, const std::string& marker) {
    std::size_t before = log().size();
    gateway_.signal(SIGUSR1);
    auto deadline = Clock::now() + kWait;
    std::string needle = "fieldgate: notice: " + start;
    while (Clock::now() < deadline) {
      std::string text = log();
      if (text.size() > before) {
        std::istringstream in(text.substr(before));
        for (std::string l; std::getline(in, l);) {
          if (l.rfind(needle, 0) == 0 && l.find(marker) != std::string::npos) {
            return l;
          }
        }
      }
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no \"" << start << "...\" line after SIGUSR1" << diagnostics();
    return {};
  }

  // Sends SIGUSR1 until `done(line)` holds for the line usr1_line() finds (each round waits for its own
  // line), up to kWait.
  bool wait_counters(const std::string& start, const std::string& marker,
                     const std::function<bool(const std::string&)>& done) {
    auto deadline = Clock::now() + kWait;
    while (Clock::now() < deadline) {
      std::string line = usr1_line(start, marker);
      if (line.empty()) {
        return false;
      }
      if (done(line)) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // A number in a counters line, the one before `what` (" rejected lines", " overlong", ...).
  static long counter(const std::string& line, const std::string& what) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex("(\\d+)" + what))) {
      return std::stol(m[1]);
    }
    return -1;
  }

  test::TempDir dir_;
  test::MosquittoBroker broker_;
  std::map<std::string, std::unique_ptr<test::PtyDevice>> devices_;
  std::unique_ptr<test::MqttClient> sub_;
  Process gateway_;
  std::filesystem::path config_path_;
};

}  // namespace fg::e2e
