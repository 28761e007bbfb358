// End to end: serial devices come and go while fieldgate runs. Unplugging (the pty's master closed and
// its link removed, as udev does for a USB adapter) makes "<prefix>/<id>/<device>/status" "offline";
// plugging it in again makes it "online" and readings and commands flow again, without a restart.

#include <string>

#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eHotplug : public E2eTest {};

TEST_F(E2eHotplug, UnplugGoesOfflineAndPlugComesBackWithReadingsAndCommands) {
  auto& dev = add_device("dev");
  auto& other = add_device("other");
  std::string config = config_head() + serial_head("dev") + serial_head("other");
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"dev", "other"}));
  const pid_t gateway_pid = gateway_.pid();
  ASSERT_TRUE(dev.send("t=1\n"));
  ASSERT_EQ(wait_payloads(topic("dev/t"), 1).size(), 1u) << diagnostics();

  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::size_t mark = sub_->size();
    dev.unplug();
    std::size_t offline_at = 0;
    ASSERT_TRUE(sub_->wait_message(device_status_topic("dev"), "offline", mark, kWait, &offline_at))
        << "no offline after the unplug" << diagnostics();
    EXPECT_TRUE(gateway_.running()) << diagnostics();

    // The other device is not affected meanwhile.
    ASSERT_TRUE(other.send("n=" + std::to_string(round) + "\n"));
    ASSERT_EQ(wait_payloads(topic("other/n"), static_cast<std::size_t>(round)).size(),
              static_cast<std::size_t>(round))
        << diagnostics();

    dev.plug();
    ASSERT_TRUE(sub_->wait_message(device_status_topic("dev"), "online", offline_at + 1))
        << "no online after the plug" << diagnostics();

    ASSERT_TRUE(dev.send("t=" + std::to_string(round + 1) + "\n"));
    auto readings = wait_readings(topic("dev/t"), static_cast<std::size_t>(round + 1));
    ASSERT_EQ(readings.size(), static_cast<std::size_t>(round + 1)) << diagnostics();
    EXPECT_EQ(readings.back().value("value", 0.0), round + 1.0) << readings.back().dump();
    EXPECT_EQ(readings.back().value("seq", 0), round + 1) << "seq goes on across an unplug";

    std::string command = "CMD " + std::to_string(round);
    ASSERT_TRUE(sub_->publish(topic("dev/write"), command));
    EXPECT_EQ(escaped(read_exactly(dev.master_fd(), command + "\n")), escaped(command + "\n"))
        << diagnostics();
  }
  EXPECT_EQ(gateway_.pid(), gateway_pid);
  std::string line = counters_line("dev");
  EXPECT_EQ(counter(line, " disconnects"), 2) << line;
}

TEST_F(E2eHotplug, DeviceMissingAtStartComesOnlineWhenPlugged) {
  auto& dev = add_device("late");
  dev.unplug();  // nothing at the path when fieldgate starts
  std::string config = config_head() + serial_head("late");
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {}));
  std::size_t offline_at = 0;
  ASSERT_TRUE(sub_->wait_message(device_status_topic("late"), "offline", 0, kWait, &offline_at))
      << diagnostics();

  dev.plug();
  ASSERT_TRUE(sub_->wait_message(device_status_topic("late"), "online", offline_at + 1)) << diagnostics();
  ASSERT_TRUE(dev.send("t=7\n"));
  auto readings = wait_readings(topic("late/t"), 1);
  ASSERT_EQ(readings.size(), 1u) << diagnostics();
  EXPECT_EQ(readings[0].value("value", 0.0), 7.0);
}

TEST_F(E2eHotplug, UnplugDuringARequestAnswersItAsDeviceOffline) {
  auto& dev = add_device("dev");
  std::string config =
      config_head() + serial_head("dev") + "[serial.request]\nreply_pattern = '^OK'\ntimeout = \"10s\"\n";
  ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"dev"}));

  ASSERT_TRUE(sub_->publish(topic("dev/request"), "READ?"));
  ASSERT_EQ(escaped(read_exactly(dev.master_fd(), "READ?\n")), "READ?\\n") << diagnostics();
  dev.unplug();

  auto replies = wait_readings(topic("dev/reply"), 1);
  ASSERT_EQ(replies.size(), 1u) << diagnostics();
  EXPECT_EQ(replies[0].value("request", ""), "READ?") << replies[0].dump();
  EXPECT_EQ(replies[0].value("ok", true), false) << replies[0].dump();
  EXPECT_EQ(replies[0].value("error", ""), "device offline") << replies[0].dump();

  // A request while it is away is refused at once rather than left waiting.
  ASSERT_TRUE(sub_->publish(topic("dev/request"), "READ?"));
  replies = wait_readings(topic("dev/reply"), 2);
  ASSERT_EQ(replies.size(), 2u) << diagnostics();
  EXPECT_EQ(replies[1].value("ok", true), false) << replies[1].dump();
}

}  // namespace
}  // namespace fg::e2e
