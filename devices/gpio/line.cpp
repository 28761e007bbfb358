// What the backends share: line offsets, chip names, and the choice of backend.

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "devices/gpio/chip_spec.hpp"
#include "devices/gpio/gpio_error.hpp"
#include "devices/gpio/line.hpp"

namespace fg::devices::gpio {

std::optional<unsigned> line_offset(const std::string& line) noexcept {
  unsigned offset = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), offset);
  if (line.empty() || ec != std::errc{} || end != line.data() + line.size()) {
    return std::nullopt;
  }
  return offset;
}

ChipSpec parse_chip_spec(const std::string& chip) {
  if (chip == "auto") {
    return {ChipSpec::Kind::automatic, chip};
  }
  if (chip.starts_with('/')) {
    return {ChipSpec::Kind::path, chip};
  }
  if (chip.starts_with("gpiochip") && line_offset(chip.substr(8))) {
    return {ChipSpec::Kind::name, chip};
  }
  return {ChipSpec::Kind::label, chip};
}

std::vector<std::string> list_chip_names(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(d)) {
      const std::string name = entry->d_name;
      if (name.starts_with("gpiochip") && line_offset(name.substr(8))) {
        names.push_back(name);
      }
    }
    ::closedir(d);
  }
  // gpiochip2 before gpiochip10.
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return *line_offset(a.substr(8)) < *line_offset(b.substr(8));
  });
  return names;
}

std::string chip_wanted(const LineSettings& line) {
  const ChipSpec spec = parse_chip_spec(line.chip);
  if (spec.kind != ChipSpec::Kind::automatic) {
    return "chip \"" + line.chip + "\"";
  }
  std::string labels;
  for (const std::string& label : line.auto_labels) {
    labels += (labels.empty() ? "" : ", ") + label;
  }
  return "the header chip (chip = \"auto\": a chip labelled " + labels + ")";
}

LineError line_error(std::error_code ec, const std::string& what) {
  return {ec, "cannot " + what + ": " + ec.message() +
                  (ec == std::errc::device_or_resource_busy ? " (another process holds it)" : "")};
}

std::error_code set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return {errno, std::generic_category()};
  }
  return {};
}

LineResult open_line(const LineRequest& request) {
  switch (request.line.backend) {
    case Backend::gpiod:
      return open_gpiod_line(request);
    case Backend::sysfs:
      return open_sysfs_line(request);
    case Backend::automatic:
      break;
  }
  if (gpiod_api() != 0 && !list_chip_names(request.line.dev_dir).empty()) {
    return open_gpiod_line(request);
  }
  return open_sysfs_line(request);
}

}  // namespace fg::devices::gpio
