#pragma once
// ReplicationSite: three real `fieldgate run` processes on loopback forming one site (a replicated
// register over UDP, each with its own state directory and control socket), plus one mosquitto broker
// they all use. Gateway i (1..3) has id "g<i>", MQTT prefix "fg", node i. Tests kill, pause, cut off and
// restart members and talk to them through their control sockets (ControlClient, the protocol of
// `fieldgate get/put`).

#include <array>
#include <map>
#include <string>

#include "gateway/control/client.hpp"
#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {

class ReplicationSite : public ::testing::Test {
 protected:
  static constexpr int kMembers = 3;     // the usual site
  static constexpr int kMaxMembers = 5;  // a test may set members_ to 5 in its constructor

  int members_ = kMembers;
  std::string timeout_ = "1s";  // replication.timeout of every member

  void SetUp() override {
    ASSERT_TRUE(broker_.start()) << broker_.last_error();
    key_file_ = dir_ / "site.key";
    std::string error;
    auto status = run_to_end({FIELDGATE_BINARY, "keygen", key_file_.string()}, dir_ / "keygen.log",
                             dir_ / "keygen.log");
    ASSERT_TRUE(status && *status == 0) << read_text(dir_ / "keygen.log");
    for (int i = 1; i <= members_; ++i) {
      ports_[i - 1] = free_udp_port();
    }
  }

  void TearDown() override {
    for (int i = 1; i <= members_; ++i) {
      if (gateways_[i - 1].running()) {
        stop(i);
      }
    }
  }

  std::string id(int i) const { return "g" + std::to_string(i); }
  std::filesystem::path log_path(int i) const { return dir_ / (id(i) + ".log"); }
  std::string log(int i) const { return read_text(log_path(i)); }
  std::filesystem::path state_dir(int i) const { return dir_ / ("state-" + std::to_string(i)); }
  std::string socket(int i) const { return (dir_ / ("ctl-" + std::to_string(i) + ".sock")).string(); }
  std::string logs() const {
    std::string out;
    for (int i = 1; i <= members_; ++i) {
      out += "\n--- " + id(i) + " ---\n" + log(i);
    }
    return out;
  }

  // The config of member i; `extra_replication` lines go into [replication], `rest` after it.
  std::string config(int i, const std::string& extra_replication = {}, const std::string& rest = {}) const {
    std::string peers;
    for (int j = 1; j <= members_; ++j) {
      if (j != i) {
        peers += std::string(peers.empty() ? "" : ", ") + "{ node = " + std::to_string(j) +
                 ", address = \"127.0.0.1:" + std::to_string(ports_[j - 1]) + "\" }";
      }
    }
    return "[gateway]\nid = \"" + id(i) + "\"\nlog_level = \"info\"\nstate_dir = \"" +
           (dir_ / ("gateway-" + std::to_string(i))).string() + "\"\n\n[mqtt]\nhost = \"127.0.0.1\"\nport = " +
           std::to_string(broker_.port()) +
           "\nprefix = \"fg\"\n\n[replication]\nnode = " + std::to_string(i) +
           "\nlisten = \"127.0.0.1:" + std::to_string(ports_[i - 1]) + "\"\npeers = [" + peers +
           "]\nkey_file = \"" + key_file_.string() + "\"\nstate_dir = \"" + state_dir(i).string() +
           "\"\ntimeout = \"" + timeout_ +
           "\"\nheartbeat = \"200ms\"\nmin_interval = \"50ms\"\nrestore_timeout = "
           "\"5s\"\n" +
           extra_replication + "\n[control]\nsocket = \"" + socket(i) + "\"\n\n" + rest;
  }

  // Starts member i and waits until its control socket answers.
  void start(int i, const std::string& config_text) {
    auto path = dir_ / (id(i) + ".toml");
    test::write_file(path, config_text);
    std::string error;
    ASSERT_TRUE(gateways_[i - 1].spawn({FIELDGATE_BINARY, "run", "--config", path.string()}, log_path(i),
                                       log_path(i), &error))
        << error;
    auto deadline = Clock::now() + kWait;
    while (Clock::now() < deadline) {
      if (gateway::ControlClient::connect(socket(i), 200ms)) {
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << id(i) << " did not open its control socket" << logs();
  }
  void start(int i) { start(i, config(i)); }
  void start_all() {
    for (int i = 1; i <= members_; ++i) {
      start(i);
    }
  }

  // SIGTERM and a clean exit (status 0, no sanitizer report).
  void stop(int i) {
    auto& g = gateways_[i - 1];
    g.signal(SIGCONT);  // a paused member must be able to act on the SIGTERM
    g.signal(SIGTERM);
    bool exited = g.wait_exit(kWait);
    EXPECT_TRUE(exited) << id(i) << " did not exit on SIGTERM" << logs();
    if (!exited) {
      g.kill();
    }
    auto status = g.status();
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << id(i) << " ended with " << test::ChildProcess::describe(status) << logs();
    EXPECT_EQ(sanitizer_report(log(i)), "") << logs();
  }
  void kill(int i) { gateways_[i - 1].kill(); }
  void signal(int i, int sig) { gateways_[i - 1].signal(sig); }

  // One request through member i's control socket (a fresh connection), with a generous timeout.
  std::expected<Json, std::string> ask(int i, Json request) {
    auto client = gateway::ControlClient::connect(socket(i), 2s);
    if (!client) {
      return std::unexpected(client.error());
    }
    return client->request(std::move(request), 10s);
  }
  std::expected<Json, std::string> get(int i, const std::string& key) {
    return ask(i, {{"op", "get"}, {"key", key}});
  }
  std::expected<Json, std::string> put(int i, const std::string& key, const std::string& value) {
    return ask(i, {{"op", "put"}, {"key", key}, {"value", value}});
  }

  // Runs a `fieldgate` command to its end: exit status, stdout, stderr.
  struct CliResult {
    std::optional<int> status;  // the exit code; nullopt if it did not exit normally
    std::string out;
    std::string err;
  };
  CliResult cli(std::vector<std::string> args) {
    static int runs = 0;
    auto out = dir_ / ("cli-" + std::to_string(++runs) + ".out");
    auto err = dir_ / ("cli-" + std::to_string(runs) + ".err");
    args.insert(args.begin(), FIELDGATE_BINARY);
    auto status = run_to_end(args, out, err);
    std::optional<int> exit_code;
    if (status && WIFEXITED(*status)) {
      exit_code = WEXITSTATUS(*status);
    }
    return {exit_code, read_text(out), read_text(err)};
  }

  // Waits until member i's replica serves (its status says so).
  bool wait_serving(int i) {
    auto deadline = Clock::now() + kWait;
    while (Clock::now() < deadline) {
      auto s = ask(i, {{"op", "status"}});
      if (s && (*s)["status"]["replication"]["state"] == "serving") {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  test::TempDir dir_;
  test::MosquittoBroker broker_;
  std::filesystem::path key_file_;
  std::array<int, kMaxMembers> ports_{};
  std::array<test::ChildProcess, kMaxMembers> gateways_;
};

}  // namespace fg::e2e
