#include "devices/serial/port.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "loop/timer.hpp"
#include "loop/unique_fd.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/pty_device.hpp"
#include "tests/support/temp_dir.hpp"
#include "tty_speed_probe.hpp"

namespace fg::devices::serial {
namespace {

using namespace std::chrono_literals;

class SerialPortTest : public test::LoopTest {
 protected:
  test::TempDir dir;
  std::string received;
  std::vector<std::pair<bool, std::error_code>> states;

  // Records everything and stops the loop after each event, so run_until() can check its condition.
  SerialPort::Callbacks recorder() {
    return {
        [this](std::span<const std::uint8_t> bytes) {
          received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
          loop.stop();
        },
        [this](bool open, std::error_code ec) {
          states.emplace_back(open, ec);
          loop.stop();
        },
    };
  }

  template <typename Condition>
  void run_until(Condition done) {
    while (!done()) {
      ASSERT_FALSE(loop.run_for(5s)) << "no event for 5 s";
    }
  }

  // The pty hands bytes written to its master to the tty side from a kernel worker: waits until `count`
  // of them wait there, so a test of what the port does with earlier input does not race that worker.
  static void wait_until_waiting(const test::PtyDevice& device, std::size_t count) {
    const loop::UniqueFd slave(::open(device.path().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(slave);
    int waiting = 0;
    while (::ioctl(slave.get(), FIONREAD, &waiting) == 0 && static_cast<std::size_t>(waiting) < count) {
      ::usleep(1000);
    }
    ASSERT_EQ(static_cast<std::size_t>(waiting), count);
  }

  PortSettings settings_for(const test::PtyDevice& device) {
    PortSettings s;
    s.path = device.path().string();
    s.baud = 115200;
    s.reopen_interval = 50ms;
    return s;
  }
};

TEST_F(SerialPortTest, OpensByLinkWithTheConfiguredLineSettings) {
  test::PtyDevice device(dir / "usb-Acme_Sensor-if00");
  auto s = settings_for(device);
  s.baud = 57600;
  s.data_bits = 7;
  s.parity = Parity::even;
  s.stop_bits = 2;
  s.flow_control = FlowControl::rtscts;
  auto port = SerialPort::create(loop, s, recorder());
  ASSERT_TRUE(port) << port.error().message();
  ASSERT_TRUE(port->is_open());
  ASSERT_EQ(states.size(), 1u);
  EXPECT_TRUE(states[0].first);
  termios tio{};
  ASSERT_EQ(::tcgetattr(port->fd(), &tio), 0);
  EXPECT_EQ(::cfgetospeed(&tio), static_cast<speed_t>(B57600));
  // Character size and parity cannot be checked here: the pty driver forces CS8 without parity.
  EXPECT_TRUE(tio.c_cflag & CSTOPB);
  EXPECT_TRUE(tio.c_cflag & CRTSCTS);
  EXPECT_FALSE(tio.c_lflag & ICANON);  // raw
}

TEST_F(SerialPortTest, OpensTheTtyExclusively) {
#ifdef FG_TEST_EMULATOR
  GTEST_SKIP() << "qemu-user 7.2 does not translate TIOCGEXCL; the host build checks this";
#endif
  test::PtyDevice device(dir / "ttyACM0");
  auto port = SerialPort::create(loop, settings_for(device), recorder());
  ASSERT_TRUE(port && port->is_open());
  int exclusive = 0;
  ASSERT_EQ(::ioctl(port->fd(), TIOCGEXCL, &exclusive), 0) << std::strerror(errno);
  EXPECT_EQ(exclusive, 1);
}

// What a device sent just before the port opened (a boot banner, the first reading) is kept when it
// arrived at the speed and character format the port is set to: nothing makes it stale.
TEST_F(SerialPortTest, KeepsWhatTheDeviceSentBeforeItOpened) {
  test::PtyDevice device(dir / "ttyACM0");
  {
    const loop::UniqueFd slave(::open(device.path().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(slave);
    termios tio{};
    ASSERT_EQ(::tcgetattr(slave.get(), &tio), 0);
    ASSERT_EQ(::cfsetspeed(&tio, B115200), 0);
    ASSERT_EQ(::tcsetattr(slave.get(), TCSANOW, &tio), 0);
  }
  const std::string early = "booted\nt=21.5\n";
  ASSERT_TRUE(device.send(early));
  wait_until_waiting(device, early.size());
  auto port = SerialPort::create(loop, settings_for(device), recorder());
  ASSERT_TRUE(port && port->is_open());
  run_until([&] { return received.size() >= early.size(); });
  EXPECT_EQ(received, early);
  EXPECT_EQ(port->counters().stale_bytes_flushed, 0u);
}

// Bytes that arrived while the port ran at another speed were decoded at the wrong rate: noise at best,
// a wrong reading that happens to parse at worst. Those are flushed, and counted.
TEST_F(SerialPortTest, FlushesWhatArrivedAtAnotherSpeed) {
  test::PtyDevice device(dir / "ttyACM0");  // a new pty runs at 38400
  ASSERT_TRUE(device.send("noise"));
  wait_until_waiting(device, 5);
  auto port = SerialPort::create(loop, settings_for(device), recorder());  // 115200
  ASSERT_TRUE(port && port->is_open());
  EXPECT_EQ(port->counters().stale_bytes_flushed, 5u);
  ASSERT_TRUE(device.send("fresh\n"));
  run_until([&] { return received.size() >= 6; });
  EXPECT_EQ(received, "fresh\n");
}

TEST_F(SerialPortTest, BytesFlowBothWays) {
  test::PtyDevice device(dir / "ttyACM0");
  auto port = SerialPort::create(loop, settings_for(device), recorder());
  ASSERT_TRUE(port && port->is_open());
  ASSERT_TRUE(device.send("t=21.5 h=40\n"));
  run_until([&] { return received.size() >= 12; });
  EXPECT_EQ(received, "t=21.5 h=40\n");
  const std::string command = "LED=1\r\n";
  ASSERT_FALSE(port->write({reinterpret_cast<const std::uint8_t*>(command.data()), command.size()}));
  EXPECT_EQ(device.receive(), command);
  EXPECT_EQ(port->counters().bytes_written, command.size());
}

// As root TIOCEXCL lets a second open through, so the port itself refuses a node another port holds.
TEST_F(SerialPortTest, TheSameNodeThroughAnotherLinkIsRefusedUntilTheFirstPortLetsItGo) {
  test::PtyDevice device(dir / "usb-Acme_Sensor-if00");
  const auto other_link = dir / "ttyUSB0";
  std::filesystem::create_symlink(std::filesystem::read_symlink(device.path()), other_link);
  auto first = SerialPort::create(loop, settings_for(device), recorder());
  ASSERT_TRUE(first && first->is_open());
  auto s = settings_for(device);
  s.path = other_link.string();
  std::vector<std::pair<bool, std::error_code>> second_states;
  auto second =
      SerialPort::create(loop, s,
                         {[](std::span<const std::uint8_t>) { ADD_FAILURE() << "second port read"; },
                          [&](bool open, std::error_code ec) {
                            second_states.emplace_back(open, ec);
                            loop.stop();
                          }});
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->is_open());
  ASSERT_EQ(second_states.size(), 1u);
  EXPECT_EQ(second_states[0].second, PortError::node_in_use) << second_states[0].second.message();
  // The first port keeps the node and all of its input.
  ASSERT_TRUE(device.send("t=1\n"));
  run_until([&] { return received.size() >= 4; });
  EXPECT_EQ(received, "t=1\n");
  EXPECT_TRUE(first->is_open());
  // Once the first port is gone, the retry opens the node for the second.
  { const SerialPort gone = std::move(*first); }
  run_until([&] { return second->is_open(); });
  EXPECT_TRUE(second_states.back().first);
}

TEST_F(SerialPortTest, LargeWriteIsQueuedAndFinishedWhenWritable) {
  test::PtyDevice device(dir / "ttyACM0");
  auto s = settings_for(device);
  s.write_queue_limit = 1 << 20;
  auto port = SerialPort::create(loop, s, recorder());
  ASSERT_TRUE(port && port->is_open());
  std::string big(256 * 1024, 'x');  // far more than a pty buffers
  ASSERT_FALSE(port->write({reinterpret_cast<const std::uint8_t*>(big.data()), big.size()}));
  EXPECT_GT(port->queued_bytes(), 0u);
  std::string drained;
  loop::Timer reader(loop);  // the device reads slowly; the port must finish on writable events
  reader.start(
      1ms,
      [&] {
        drained += device.receive();
        if (drained.size() >= big.size()) {
          loop.stop();
        }
      },
      1ms);
  run_until([&] { return drained.size() >= big.size(); });
  EXPECT_EQ(drained.size(), big.size());
  EXPECT_EQ(port->queued_bytes(), 0u);
}

TEST_F(SerialPortTest, FullQueueRefusesInsteadOfDropping) {
  test::PtyDevice device(dir / "ttyACM0");
  auto s = settings_for(device);
  s.write_queue_limit = 8 * 1024;
  auto port = SerialPort::create(loop, s, recorder());
  ASSERT_TRUE(port && port->is_open());
  std::string chunk(4 * 1024, 'y');
  std::error_code refused;
  for (int i = 0; i < 64 && !refused; ++i) {  // the pty buffer fills, then the queue
    refused = port->write({reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size()});
  }
  EXPECT_EQ(refused, std::errc::no_buffer_space);
  EXPECT_EQ(port->counters().writes_refused, 1u);
  EXPECT_LE(port->queued_bytes(), s.write_queue_limit);
}

TEST_F(SerialPortTest, UnplugThenReplugReopensByItself) {
  test::PtyDevice device(dir / "usb-FTDI-if00-port0");
  auto port = SerialPort::create(loop, settings_for(device), recorder());
  ASSERT_TRUE(port && port->is_open());
  device.release_slave();
  states.clear();
  device.unplug();
  run_expecting_stop();  // the read fails: the state callback stops the loop
  ASSERT_FALSE(states.empty());
  EXPECT_FALSE(states.back().first);
  EXPECT_EQ(states.front().second, std::errc::no_such_device) << states.front().second.message();
  EXPECT_FALSE(port->is_open());
  const std::string refused = "x";
  EXPECT_EQ(port->write({reinterpret_cast<const std::uint8_t*>(refused.data()), 1}),
            std::errc::not_connected);
  states.clear();
  device.plug();  // a new pty behind the same link, as after replugging the adapter
  run_until([&] { return port->is_open(); });
  EXPECT_TRUE(states.back().first);
  received.clear();
  ASSERT_TRUE(device.send("back\n"));
  run_until([&] { return received == "back\n"; });
  EXPECT_EQ(port->counters().opens, 2u);
  EXPECT_EQ(port->counters().disconnects, 1u);
}

// The device goes away and the loop has not noticed yet: write() finds out in its synchronous flush, and
// must say so rather than report success for bytes that went nowhere.
TEST_F(SerialPortTest, WriteReportsThePortLostOnTheWay) {
  test::PtyDevice device(dir / "ttyACM0");
  auto port = SerialPort::create(loop, settings_for(device), recorder());
  ASSERT_TRUE(port && port->is_open());
  device.release_slave();
  device.unplug();  // the other end closes; the loop does not run before the write
  states.clear();
  const std::string command = "LED=1\n";
  const auto ec = port->write({reinterpret_cast<const std::uint8_t*>(command.data()), command.size()});
  EXPECT_EQ(ec, std::errc::no_such_device) << ec.message();
  EXPECT_FALSE(port->is_open());
  EXPECT_EQ(port->counters().bytes_written, 0u);
  EXPECT_EQ(port->counters().bytes_dropped, command.size());
  EXPECT_EQ(port->counters().disconnects, 1u);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_FALSE(states[0].first);
  EXPECT_EQ(states[0].second, std::errc::no_such_device);
}

TEST_F(SerialPortTest, PausedReadingHoldsInputUntilResumed) {
  test::PtyDevice device(dir / "ttyACM0");
  auto port = SerialPort::create(loop, settings_for(device), recorder());
  ASSERT_TRUE(port && port->is_open());
  port->pause_reading(true);
  ASSERT_TRUE(device.send("held\n"));
  loop::Timer settle(loop);
  settle.start(50ms, [&] { loop.stop(); });
  loop.run_for(5s);
  EXPECT_EQ(received, "") << "a paused port must not read";
  const std::string out = "still writes\n";  // writing goes on while reading is paused
  ASSERT_FALSE(port->write({reinterpret_cast<const std::uint8_t*>(out.data()), out.size()}));
  EXPECT_EQ(device.receive(), out);
  port->pause_reading(false);
  run_until([&] { return received == "held\n"; });
}

TEST_F(SerialPortTest, MissingDeviceOpensWhenItAppears) {
  auto path = dir / "ttyUSB7";
  PortSettings s;
  s.path = path.string();
  s.reopen_interval = 1h;  // only the inotify path can open it in time
  auto port = SerialPort::create(loop, s, recorder());
  ASSERT_TRUE(port);
  EXPECT_FALSE(port->is_open());
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].second, std::errc::no_such_file_or_directory);
  states.clear();
  test::PtyDevice device(path);
  run_expecting_stop();
  EXPECT_TRUE(port->is_open());
}

// termios2: rates without a B-constant (250000 for 3D printers and DMX, 31250 for MIDI, any odd one) are
// set with BOTHER and read back; standard ones keep their code.
TEST_F(SerialPortTest, AnyBaudRateIsSetAndReadsBack) {
#ifdef FG_TEST_EMULATOR
  // Under qemu-user the port falls back to the legacy ioctls (port_termios.cpp): the other tests here
  // open at standard rates through that path.
  GTEST_SKIP() << "qemu-user does not translate TCGETS2/TCSETS2; the host build checks this";
#endif
  test::PtyDevice device(dir / "ttyACM0");
  for (const unsigned baud : {250000u, 31250u, 12345u, 115200u}) {
    auto s = settings_for(device);
    s.baud = baud;
    auto port = SerialPort::create(loop, s, recorder());
    ASSERT_TRUE(port);
    ASSERT_TRUE(port->is_open()) << baud << ": " << states.back().second.message();
    const auto speed = test::read_tty_speed(port->fd());
    ASSERT_TRUE(speed);
    EXPECT_EQ(speed->output, baud);
    EXPECT_EQ(speed->other, baud != 115200u) << baud;
  }
}

// A port that does not take its speed (here the kernel's termios lock keeps the pty at 38400, as a
// driver that cannot divide its clock to the rate would) is reported once, with a message that says so,
// and tried again on the reopen timer like a missing one: once the lock goes, it opens by itself, with no
// inotify event to wake it.
TEST_F(SerialPortTest, RefusedSpeedIsReportedOnceAndRetried) {
#ifdef FG_TEST_EMULATOR
  GTEST_SKIP() << "qemu-user does not translate TIOCSLCKTRMIOS; the host build checks this";
#endif
  test::PtyDevice device(dir / "ttyUSB0");
  const loop::UniqueFd slave(::open(device.path().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave);
  if (const int error = test::lock_tty_speed(slave.get(), true); error == EPERM) {
    GTEST_SKIP() << "locking a tty's termios needs CAP_SYS_ADMIN";
  } else {
    ASSERT_EQ(error, 0) << std::strerror(error);
  }
  auto s = settings_for(device);
  s.baud = 250000;
  s.reopen_interval = 20ms;
  auto port = SerialPort::create(loop, s, recorder());
  ASSERT_TRUE(port);
  EXPECT_FALSE(port->is_open());
  ASSERT_EQ(states.size(), 1u);
  EXPECT_FALSE(states[0].first);
  EXPECT_EQ(states[0].second, PortError::speed_not_taken);
  EXPECT_NE(states[0].second.message().find("baud rate"), std::string::npos) << states[0].second.message();
  // Several retries fail the same way without another report.
  loop::Timer later(loop);
  later.start(200ms, [&] { loop.stop(); });
  run_expecting_stop();
  EXPECT_EQ(states.size(), 1u);
  EXPECT_FALSE(port->is_open());
  ASSERT_EQ(test::lock_tty_speed(slave.get(), false), 0);
  run_until([&] { return port->is_open(); });
  EXPECT_TRUE(states.back().first);
  const auto speed = test::read_tty_speed(port->fd());
  ASSERT_TRUE(speed);
  EXPECT_EQ(speed->output, 250000u);
}

// A port destroyed from inside its own callbacks (DESIGN.md rule 4): a reload removes devices from
// callbacks. The port goes when the callback returns; until then the port code must not touch freed
// memory (the asan preset catches it if it does), and afterwards nothing is left open.
class SerialPortDestroyedInCallback : public SerialPortTest {
 protected:
  std::optional<SerialPort> port;
  int data_calls = 0;
  int state_calls = 0;

  // A port whose callbacks destroy it, as asked. A report from inside create() finds no port to destroy.
  void make(const std::filesystem::path& path, bool destroy_on_data, bool destroy_on_state) {
    PortSettings s;
    s.path = path.string();
    s.baud = 115200;
    s.reopen_interval = 20ms;
    auto created = SerialPort::create(loop, s,
                                      {[this, destroy_on_data](std::span<const std::uint8_t>) {
                                         ++data_calls;
                                         if (destroy_on_data) {
                                           port.reset();
                                         }
                                         loop.stop();
                                       },
                                       [this, destroy_on_state](bool, std::error_code) {
                                         ++state_calls;
                                         if (destroy_on_state && port) {
                                           port.reset();
                                         }
                                         loop.stop();
                                       }});
    ASSERT_TRUE(created);
    port.emplace(std::move(*created));
  }

  // Runs the loop a while longer: what the destroyed port left behind must neither call back nor keep the
  // loop from closing (the fixture checks that every handle and descriptor is gone).
  void settle() {
    loop::Timer later(loop);
    later.start(100ms, [&] { loop.stop(); });
    run_expecting_stop();
  }
};

TEST_F(SerialPortDestroyedInCallback, FromOnData) {
  test::PtyDevice device(dir / "ttyACM0");
  make(device.path(), true, false);
  ASSERT_TRUE(port->is_open());
  ASSERT_TRUE(device.send("t=1\n"));
  run_expecting_stop();
  EXPECT_FALSE(port);
  ASSERT_TRUE(device.send("t=2\n"));  // nobody reads it any more
  settle();
  EXPECT_EQ(data_calls, 1);
  EXPECT_EQ(state_calls, 1);  // the open, from inside create()
}

TEST_F(SerialPortDestroyedInCallback, FromOnStateWhenUnplugged) {
  test::PtyDevice device(dir / "ttyACM0");
  make(device.path(), false, true);
  ASSERT_TRUE(port->is_open());
  device.release_slave();
  device.unplug();
  run_expecting_stop();
  EXPECT_FALSE(port);
  device.plug();  // no reopen: the port is gone, and with it its path watch and its retry timer
  settle();
  EXPECT_EQ(state_calls, 2);  // the open and the loss
}

TEST_F(SerialPortDestroyedInCallback, FromOnStateInsideWrite) {
  test::PtyDevice device(dir / "ttyACM0");
  make(device.path(), false, true);
  ASSERT_TRUE(port->is_open());
  device.release_slave();
  device.unplug();  // the loop does not run: the write finds out
  const std::string command = "LED=1\n";
  SerialPort& same = *port;
  EXPECT_EQ(same.write({reinterpret_cast<const std::uint8_t*>(command.data()), command.size()}),
            std::errc::no_such_device);
  EXPECT_FALSE(port);
  settle();
  EXPECT_EQ(state_calls, 2);
}

TEST_F(SerialPortDestroyedInCallback, FromOnStateWhenTheDeviceAppears) {
  const auto path = dir / "ttyUSB3";
  make(path, false, true);
  ASSERT_FALSE(port->is_open());
  test::PtyDevice device(path);  // inotify opens it; the open report destroys the port
  run_expecting_stop();
  EXPECT_FALSE(port);
  settle();
  EXPECT_EQ(state_calls, 2);  // missing, then open
}

TEST(SerialPortSettings, InvalidFramingSettingsAreRefusedUpFront) {
  loop::Loop loop;
  PortSettings s;
  s.path = "/dev/null";
  s.data_bits = 9;
  EXPECT_FALSE(SerialPort::create(loop, s, {}));
  s.data_bits = 8;
  s.stop_bits = 3;
  EXPECT_FALSE(SerialPort::create(loop, s, {}));
  s.stop_bits = 1;
  s.baud = 0;
  EXPECT_FALSE(SerialPort::create(loop, s, {}));
  EXPECT_FALSE(loop.close());
}

}  // namespace
}  // namespace fg::devices::serial
