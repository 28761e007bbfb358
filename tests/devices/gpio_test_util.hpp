#pragma once
// What the GPIO tests share (those on kernel-shaped directory trees here, and those on gpio-sim).

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "devices/device.hpp"
#include "loop/loop.hpp"

namespace fg::test {

// The whole content of a file of the fake tree (what the device wrote there).
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Everything a device reports, each report stopping the loop so that a test's run returns to check it.
struct DeviceRecord {
  std::vector<devices::Reading> readings;
  std::vector<std::pair<bool, std::error_code>> availability;
  std::vector<std::string> log_lines;

  devices::Device::Sink sink(loop::Loop& loop) {
    devices::Device::Sink s;
    s.on_reading = [this, &loop](devices::Reading&& r) {
      readings.push_back(std::move(r));
      loop.stop();
    };
    s.on_availability = [this, &loop](bool online, std::error_code why) {
      availability.emplace_back(online, why);
      loop.stop();
    };
    s.on_log = [this, &loop](devices::Severity, std::string_view line) {
      log_lines.emplace_back(line);
      loop.stop();
    };
    return s;
  }
};

}  // namespace fg::test
