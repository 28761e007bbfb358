// End to end: reloading the config of a running fieldgate (`fieldgate reload` over the control socket,
// and SIGHUP). Readings of devices a reload leaves alone go on without a gap or a repeat while devices
// come, go and change around them and the MQTT session reconnects; a config with errors, or one that
// changes what cannot change live, changes nothing and says why as `fieldgate check` would; Home
// Assistant's discovery follows the devices.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/replication_site.hpp"

namespace fg::e2e {
namespace {

// Feeds numbered lines "n=1", "n=2", ... into a pty at about `per_second` (in batches every 10 ms) until
// stopped. The number is the reading's value, so the subscriber can tell a lost or repeated line from a
// gap the gateway's seq would not show.
class Feeder {
 public:
  Feeder(int fd, int per_second) : thread_([this, fd, per_second] { run(fd, per_second / 100); }) {}
  Feeder(const Feeder&) = delete;
  Feeder& operator=(const Feeder&) = delete;
  ~Feeder() { stop(); }

  // Stops and returns how many lines were written (all of them complete).
  std::uint64_t stop() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    return written_;
  }
  std::uint64_t written() const { return written_; }
  bool failed() const { return failed_; }

 private:
  void run(int fd, int per_batch) {
    auto next = Clock::now();
    std::uint64_t n = 0;
    while (!stop_) {
      std::string batch;
      for (int i = 0; i < per_batch; ++i) {
        batch += "n=" + std::to_string(++n) + "\n";
      }
      if (!write_all(fd, batch)) {
        failed_ = true;
        return;
      }
      written_ = n;
      next += 10ms;  // pacing of the load, not synchronisation
      std::this_thread::sleep_until(next);
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<std::uint64_t> written_{0};
  std::thread thread_;  // last: starts when everything above is ready
};

struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

class E2eReload : public E2eTest {
 protected:
  std::string socket() const { return (dir() / "control.sock").string(); }
  std::string control() const { return "[control]\nsocket = \"" + socket() + "\"\n"; }

  void write_config(const std::string& text) { test::write_file(config_path_, text); }

  CliResult cli_reload() {
    CliResult r;
    std::filesystem::remove(dir() / "reload.out");  // the output files are appended to
    std::filesystem::remove(dir() / "reload.err");
    auto status = run_to_end({FIELDGATE_BINARY, "reload", "--socket", socket()}, dir() / "reload.out",
                             dir() / "reload.err");
    r.status = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    r.out = read_text(dir() / "reload.out");
    r.err = read_text(dir() / "reload.err");
    return r;
  }

  // Waits until the log, after `mark`, has a line containing `text`.
  bool wait_log(std::size_t mark, const std::string& text) {
    auto deadline = Clock::now() + kWait;
    while (Clock::now() < deadline) {
      if (log().find(text, mark) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  // The number of messages on `topic` so far.
  std::size_t count(const std::string& topic_name) { return sub_->on_topic(topic_name).size(); }

  // Waits until `n` messages have arrived on `topic`. Checked every 20 ms rather than on every message
  // (MqttClient::wait_for): with tens of thousands of readings a scan per message would make the
  // subscriber, not the gateway, the bottleneck. The limit allows a sanitizer build's backlog to drain.
  bool wait_count(const std::string& topic_name, std::size_t n) {
    const auto deadline = Clock::now() + 3 * kWait;
    while (count(topic_name) < n) {
      if (Clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

  // Readings of a kv device's channel "n": every value 1..written once, in order, with seq 1..written.
  void expect_every_reading(const std::string& device, std::uint64_t written) {
    SCOPED_TRACE(device);
    EXPECT_TRUE(wait_count(topic(device + "/n"), written)) << count(topic(device + "/n")) << " of " << written;
    auto readings = wait_readings(topic(device + "/n"), written);
    ASSERT_EQ(readings.size(), written) << diagnostics();
    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < written; ++i) {
      const auto& r = readings[i];
      if (r.value("seq", std::uint64_t{0}) != i + 1 || r.value("value", 0.0) != static_cast<double>(i + 1)) {
        if (bad++ == 0) {
          ADD_FAILURE() << "reading " << i + 1 << " is " << r.dump();
        }
      }
    }
    EXPECT_EQ(bad, 0u) << "readings out of order, lost or repeated";
  }
};

// Three devices stay as they are while 20 reloads add and remove one device, reopen another with new
// settings every time, and now and then change the MQTT keepalive (the session reconnects).
TEST_F(E2eReload, UnchangedDevicesLoseAndRepeatNoReadingThrough20Reloads) {
  // The subscriber must not be what loses readings: mosquitto drops QoS 1 messages beyond 1,000 queued
  // for a client that reads slower than they come (a sanitizer build on a busy machine).
  broker_.set_extra_config({"max_queued_messages 0"});
  ASSERT_TRUE(broker_.restart()) << broker_.last_error();
  const std::vector<std::string> steady = {"p1", "p2", "p3"};
  for (const auto& name : steady) {
    add_device(name);
  }
  add_device("x");
  add_device("y");
  auto config = [&](int round) {
    std::string text = config_head(round % 4 == 1 ? "keepalive = \"31s\"\n" : "") + control();
    for (const auto& name : steady) {
      text += serial_head(name) + "parser = \"kv\"\n";
    }
    if (round % 2 == 0) {
      text += serial_head("x") + "parser = \"kv\"\n";
    }
    return text + serial_head("y") + "parser = \"kv\"\n[serial.channels.n]\nunit = \"u" +
           std::to_string(round) + "\"\n";
  };
  ASSERT_NO_FATAL_FAILURE(start_gateway(config(-1), {"p1", "p2", "p3", "y"}));
  std::vector<std::unique_ptr<Feeder>> feeders;
  for (const auto& name : steady) {
    feeders.push_back(std::make_unique<Feeder>(device(name).master_fd(), 1000));
  }

  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("reload " + std::to_string(round + 1));
    const std::size_t from = sub_->size();
    const std::uint64_t before = feeders[0]->written();
    write_config(config(round));
    auto r = cli_reload();
    ASSERT_EQ(r.status, 0) << r.out << r.err << diagnostics();
    EXPECT_NE(r.out.find("reloaded: devices: 3 unchanged"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(round % 2 == 0 ? "1 added (x)" : "1 removed (x)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("reopened (y)"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("MQTT reconnects") != std::string::npos, round % 4 == 1 || round % 4 == 2) << r.out;
    // The reopened device says online again; readings go on between reloads.
    ASSERT_TRUE(sub_->wait_message(device_status_topic("y"), "online", from)) << diagnostics();
    while (feeders[0]->written() < before + 100 && !feeders[0]->failed()) {
      std::this_thread::sleep_for(5ms);
    }
  }

  std::vector<std::uint64_t> written;
  for (auto& feeder : feeders) {
    EXPECT_FALSE(feeder->failed()) << "a port stopped taking bytes";
    written.push_back(feeder->stop());
  }
  for (std::size_t i = 0; i < steady.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(expect_every_reading(steady[i], written[i]));
    // Never closed: the port was opened once, at start (a reopened one logs its open again).
    const std::string opened = steady[i] + ": " + device_path(steady[i]) + " open";
    EXPECT_EQ(log().find(opened), log().rfind(opened)) << diagnostics();
  }
  EXPECT_NE(log().find("y: " + device_path("y") + " open"), log().rfind("y: " + device_path("y") + " open"));
  // x went with the last reload (round 19 is odd): its status says so.
  auto x_status = sub_->on_topic(device_status_topic("x"));
  ASSERT_FALSE(x_status.empty());
  EXPECT_EQ(x_status.back().payload, "offline");
  EXPECT_EQ(sub_->on_topic(status_topic()).back().payload, "online") << "the will never fired";
  stop_gateway();
  // Nothing more arrived after the checks: no repeat came late.
  for (std::size_t i = 0; i < steady.size(); ++i) {
    EXPECT_EQ(count(topic(steady[i] + "/n")), written[i]) << steady[i];
  }
}

TEST_F(E2eReload, ConfigWithErrorsChangesNothingAndTheCliPrintsThemAsCheckDoes) {
  auto& a = add_device("a");
  const std::string good = config_head() + control() + serial_head("a") + "parser = \"kv\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(good, {"a"}));
  ASSERT_TRUE(a.send("n=1\n"));
  ASSERT_EQ(wait_readings(topic("a/n"), 1).size(), 1u);

  // Device a removed, and two errors: nothing of it applies.
  const std::string bad = config_head() + control() + "[[serial]]\nname = \"b\"\nbaud = \"fast\"\nparity = 3\n";
  write_config(bad);
  auto check = run_to_end({FIELDGATE_BINARY, "check", config_path_.string()}, dir() / "check.out",
                          dir() / "check.err");
  ASSERT_TRUE(check && WEXITSTATUS(*check) == 1);
  const std::string expected = read_text(dir() / "check.err");
  ASSERT_NE(expected.find(config_path_.string() + ":"), std::string::npos) << expected;

  const std::size_t mark = log().size();
  auto r = cli_reload();
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, expected) << "fieldgate reload prints the errors as fieldgate check does";
  ASSERT_TRUE(wait_log(mark, "reload refused: the running configuration stays")) << diagnostics();
  std::istringstream lines(expected);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(log().find("error: " + line, mark), std::string::npos) << line << diagnostics();
  }
  // Device a is still open, its readings numbered on.
  ASSERT_TRUE(a.send("n=2\n"));
  auto readings = wait_readings(topic("a/n"), 2);
  ASSERT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings[1]["seq"], 2);
  EXPECT_EQ(sub_->on_topic(device_status_topic("a")).back().payload, "online");
}

TEST_F(E2eReload, ChangingTheReplicationNodeIdIsRefusedNamingTheKey) {
  auto& a = add_device("a");
  const auto key = dir() / "site.key";
  auto keygen = run_to_end({FIELDGATE_BINARY, "keygen", key.string()}, dir() / "keygen.log", dir() / "keygen.log");
  ASSERT_TRUE(keygen && *keygen == 0) << read_text(dir() / "keygen.log");
  const std::string port = std::to_string(free_udp_port());
  auto config = [&](int node) {
    return config_head() + control() + serial_head("a") + "parser = \"kv\"\n\n[replication]\nnode = " +
           std::to_string(node) + "\nlisten = \"127.0.0.1:" + port + "\"\nkey_file = \"" + key.string() +
           "\"\nstate_dir = \"" + (dir() / "state").string() + "\"\n";
  };
  ASSERT_NO_FATAL_FAILURE(start_gateway(config(1), {"a"}));
  write_config(config(2));
  auto r = cli_reload();
  EXPECT_EQ(r.status, 1);
  // The key at its place in the file, as check names keys: the line of "node = 2", column 8.
  const std::string text = config(2);
  const auto line = std::count(text.begin(), text.begin() + text.find("node = 2"), '\n') + 1;
  EXPECT_EQ(r.err.rfind(config_path_.string() + ":" + std::to_string(line) + ":8: replication.node: cannot change " +
                            "while fieldgate runs",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("restart fieldgate to apply it"), std::string::npos) << r.err;
  ASSERT_TRUE(a.send("n=1\n"));
  EXPECT_EQ(wait_readings(topic("a/n"), 1).size(), 1u);
}

TEST_F(E2eReload, SighupReloadsAsTheCliDoes) {
  auto& a = add_device("a");
  auto& b = add_device("b");
  const std::string one = config_head() + control() + serial_head("a") + "parser = \"kv\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(one, {"a"}));
  ASSERT_TRUE(a.send("n=1\n"));
  ASSERT_EQ(wait_readings(topic("a/n"), 1).size(), 1u);

  write_config(one + serial_head("b") + "parser = \"kv\"\n");
  std::size_t mark = log().size();
  gateway_.signal(SIGHUP);
  ASSERT_TRUE(sub_->wait_message(device_status_topic("b"), "online")) << diagnostics();
  ASSERT_TRUE(wait_log(mark, "reloaded " + config_path_.string() + ": devices: 1 unchanged, 1 added (b)"))
      << diagnostics();
  ASSERT_TRUE(b.send("n=7\n"));
  ASSERT_EQ(wait_readings(topic("b/n"), 1).size(), 1u);

  // A bad file by SIGHUP: the errors in the log, FILE:LINE:COLUMN and key, and b stays.
  write_config(one + serial_head("b") + "parser = \"kv\"\nspeed = 9600\n");
  mark = log().size();
  gateway_.signal(SIGHUP);
  ASSERT_TRUE(wait_log(mark, "reload refused")) << diagnostics();
  const std::string text = read_text(config_path_);
  const auto line = std::count(text.begin(), text.begin() + text.find("speed"), '\n') + 1;
  EXPECT_NE(log().find("error: " + config_path_.string() + ":" + std::to_string(line) + ":1: serial[1].speed: unknown key",
                       mark),
            std::string::npos)
      << diagnostics();
  ASSERT_TRUE(b.send("n=8\n"));
  auto readings = wait_readings(topic("b/n"), 2);
  ASSERT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings[1]["seq"], 2);
}

// With replication, a device that a reload adds takes its outputs' desired states from the register before
// any command for it is applied, as every device does at start (issue 13): the register holds "on" for
// b's relay, b arrives by a reload, and an "off" sent right after the reload reaches b after the "on".
TEST_F(E2eReload, ADeviceAddedByAReloadRestoresItsOutputsBeforeItsCommands) {
  add_device("a");
  auto& b = add_device("b");
  const auto key = dir() / "site.key";
  auto keygen =
      run_to_end({FIELDGATE_BINARY, "keygen", key.string()}, dir() / "keygen.log", dir() / "keygen.log");
  ASSERT_TRUE(keygen && *keygen == 0) << read_text(dir() / "keygen.log");
  const std::string one =
      config_head() + control() + serial_head("a") +
      "parser = \"kv\"\n\n[replication]\nnode = 1\nlisten = \"127.0.0.1:" + std::to_string(free_udp_port()) +
      "\"\nkey_file = \"" + key.string() + "\"\nstate_dir = \"" + (dir() / "register").string() + "\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(one, {"a"}));
  // The desired state an earlier life of this gateway left in the register.
  auto put =
      run_to_end({FIELDGATE_BINARY, "put", "--socket", socket(), std::string(kId) + "/b/relay/desired", "on"},
                 dir() / "put.log", dir() / "put.log");
  ASSERT_TRUE(put && *put == 0) << read_text(dir() / "put.log") << diagnostics();

  write_config(one + serial_head("b") +
               "[serial.channels.relay]\nkind = \"text\"\nset_format = \"RELAY={value}\"\n");
  const std::size_t mark = log().size();
  ASSERT_EQ(cli_reload().status, 0) << diagnostics();
  ASSERT_TRUE(sub_->publish(topic("b/relay/set"), "off"));
  const std::string got = read_until(
      b.master_fd(), [](const std::string& bytes) { return bytes.find("RELAY=off\n") != std::string::npos; });
  EXPECT_EQ(got, "RELAY=on\nRELAY=off\n") << "the restored state first, then the command" << diagnostics();
  EXPECT_TRUE(wait_log(mark, "outputs restored from the register for b: 1 set, 0 never set, 0 failed"))
      << diagnostics();
  // The command is the desired state now (the register is written after the command is applied).
  std::string kept;
  for (auto deadline = Clock::now() + kWait; kept != "off\n" && Clock::now() < deadline;
       std::this_thread::sleep_for(20ms)) {
    std::filesystem::remove(dir() / "get.out");  // the output file is appended to
    run_to_end({FIELDGATE_BINARY, "get", "--socket", socket(), std::string(kId) + "/b/relay/desired"},
               dir() / "get.out", dir() / "get.err");
    kept = read_text(dir() / "get.out");
  }
  EXPECT_EQ(kept, "off\n") << read_text(dir() / "get.err");
}

// A device that a reload reopens (a setting of it changed) keeps its outputs' desired states, with or
// without the register: its new port hears the relay's state again instead of nothing (issue 13).
TEST_F(E2eReload, AReopenedDeviceKeepsItsOutputsDesiredStates) {
  auto& b = add_device("b");
  const std::string one = config_head() + control() + serial_head("b") +
                          "[serial.channels.relay]\nkind = \"text\"\nset_format = \"RELAY={value}\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(one, {"b"}));
  ASSERT_TRUE(sub_->publish(topic("b/relay/set"), "on"));
  ASSERT_EQ(read_exactly(b.master_fd(), "RELAY=on\n"), "RELAY=on\n") << diagnostics();

  write_config(one + "[serial.channels.t]\nunit = \"C\"\n");
  const auto r = cli_reload();
  ASSERT_EQ(r.status, 0) << r.err << diagnostics();
  EXPECT_NE(r.out.find("1 reopened (b)"), std::string::npos) << r.out;
  EXPECT_EQ(read_exactly(b.master_fd(), "RELAY=on\n"), "RELAY=on\n")
      << "written again on the new port" << diagnostics();
}

// Home Assistant follows a reload: a device added appears (its retained discovery document), a device
// removed goes (an empty retained document), a device left alone is not published again.
TEST_F(E2eReload, HomeAssistantDiscoveryFollowsTheConfig) {
  add_device("a");
  add_device("b");
  test::MqttClient ha;
  ASSERT_TRUE(ha.connect("127.0.0.1", broker_.port()));
  ASSERT_TRUE(ha.subscribe("homeassistant/#"));
  auto config_topic = [](const std::string& device) { return "homeassistant/device/t1/" + device + "/config"; };
  const std::string one =
      config_head() + control() + serial_head("a") + "parser = \"kv\"\n[serial.channels.t]\nunit = \"°C\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(one, {"a"}));
  ASSERT_TRUE(ha.wait_message(config_topic("a"))) << diagnostics();

  std::size_t mark = ha.size();
  write_config(one + serial_head("b") + "parser = \"kv\"\n[serial.channels.h]\nunit = \"%\"\n");
  ASSERT_EQ(cli_reload().status, 0) << diagnostics();
  auto added = ha.wait_message(config_topic("b"), std::nullopt, mark);
  ASSERT_TRUE(added) << diagnostics();
  const Json document = Json::parse(added->payload, nullptr, false);
  ASSERT_TRUE(document.is_object()) << added->payload;
  EXPECT_TRUE(document["cmps"].contains("h")) << added->payload;

  mark = ha.size();
  write_config(one);
  ASSERT_EQ(cli_reload().status, 0) << diagnostics();
  EXPECT_TRUE(ha.wait_message(config_topic("b"), std::string(), mark)) << "b's document is not removed";
  EXPECT_TRUE(ha.on_topic(config_topic("a"), 0).size() == 1) << "a was left alone, its document too";
}

}  // namespace
}  // namespace fg::e2e
