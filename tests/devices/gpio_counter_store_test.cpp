// A pulse counter's total in the state directory: its file format, a damaged file, and a device that
// takes its count from there and publishes it, also while its line is missing.

#include "devices/gpio/counter_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "devices/gpio/gpio_device.hpp"
#include "devices/gpio/gpio_error.hpp"
#include "storage/posix_disk.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace fg::devices::gpio {
namespace {

using namespace std::chrono_literals;

CounterStore store_in(const std::filesystem::path& dir, const std::string& device) {
  return CounterStore(std::make_unique<storage::PosixDisk>(std::move(*storage::PosixDisk::open(dir))), device);
}

TEST(GpioCounterStore, EncodeAndDecodeRoundTripAboveTwoToThe53) {
  const std::uint64_t big = (std::uint64_t{1} << 53) + 1;
  EXPECT_EQ(CounterStore::decode(CounterStore::encode(big)), big);
  EXPECT_TRUE(CounterStore::encode(7).starts_with("fgcount 1 7 "));
}

TEST(GpioCounterStore, ADamagedFileIsAnErrorNotZero) {
  std::string text = CounterStore::encode(12345);
  text[10] = '9';  // a flipped digit fails the CRC
  EXPECT_EQ(CounterStore::decode(text).error(), make_error_code(GpioError::bad_count_file));
  EXPECT_FALSE(CounterStore::decode("fgcount 1 5"));  // torn: no CRC, no newline
  EXPECT_FALSE(CounterStore::decode("garbage\n"));
}

TEST(GpioCounterStore, NoFileIsZeroAndASavedCountLoadsAgain) {
  test::TempDir dir;
  auto store = store_in(dir.path(), "meter");
  EXPECT_EQ(store.load(), 0u);
  EXPECT_FALSE(store.save(987654321));
  auto again = store_in(dir.path(), "meter");
  EXPECT_EQ(again.load(), 987654321u);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "meter.count"));
}

class GpioCounterPersistence : public test::LoopTest {
 protected:
  test::TempDir dir;
  std::vector<Reading> readings;

  GpioDeviceSettings settings() {
    GpioDeviceSettings s;
    s.name = "meter";
    s.mode = Mode::counter;
    s.line.chip = "meter-chip";
    s.line.line = "3";
    // No chip anywhere: the line stays missing, as on a machine without GPIO.
    s.line.dev_dir = (dir.path() / "dev").string();
    s.line.sysfs_gpio_dir = (dir.path() / "sys").string();
    s.state_dir = (dir.path() / "state").string();
    s.input.interval = 20ms;
    s.reopen_interval = 1h;
    return s;
  }

  Device::Sink sink() {
    Device::Sink s;
    s.on_reading = [this](Reading&& r) {
      readings.push_back(std::move(r));
      if (readings.size() >= 2) {
        loop.stop();
      }
    };
    return s;
  }
};

TEST_F(GpioCounterPersistence, TheSavedCountIsPublishedAndNeverGoesBackToZero) {
  std::filesystem::create_directories(dir.path() / "state");
  ASSERT_FALSE(store_in(dir.path() / "state", "meter").save(41));
  {
    auto device = GpioDevice::create(loop, settings(), sink(), {});
    ASSERT_TRUE(device) << device.error();
    EXPECT_FALSE((*device)->online());
    EXPECT_EQ((*device)->offline_reason(), make_error_code(GpioError::chip_not_found));
    run_expecting_stop();
    ASSERT_EQ(readings.size(), 2u);
    EXPECT_EQ(readings[0].channel, "count");
    EXPECT_EQ(readings[0].value, ReadingValue(std::int64_t{41}));
    EXPECT_EQ(readings[1].channel, "rate");
    EXPECT_EQ(readings[1].value, ReadingValue(0.0));
  }
  // Destroying the device saved the count again; a new one starts from it.
  EXPECT_EQ(store_in(dir.path() / "state", "meter").load(), 41u);
}

TEST_F(GpioCounterPersistence, ADamagedCountFileStopsTheDeviceWithTheFileNamed) {
  std::filesystem::create_directories(dir.path() / "state");
  std::ofstream(dir.path() / "state" / "meter.count") << "fgcount 1 41 00000000\n";
  auto device = GpioDevice::create(loop, settings(), sink(), {});
  ASSERT_FALSE(device);
  EXPECT_NE(device.error().find("meter.count"), std::string::npos) << device.error();
}

}  // namespace
}  // namespace fg::devices::gpio
