#include "devices/gpio/counter_store.hpp"

#include <fmt/format.h>

#include <charconv>

#include "storage/crc32.hpp"
#include "devices/gpio/gpio_error.hpp"

namespace fg::devices::gpio {

CounterStore::CounterStore(std::unique_ptr<storage::Disk> disk, std::string device)
    : disk_(std::move(disk)), file_(std::move(device) + ".count") {}

std::string CounterStore::encode(std::uint64_t count) {
  const std::string head = fmt::format("fgcount 1 {}", count);
  return fmt::format("{} {:08x}\n", head, storage::crc32(head));
}

std::expected<std::uint64_t, std::error_code> CounterStore::decode(std::string_view text) {
  const auto corrupt = std::unexpected(make_error_code(GpioError::bad_count_file));
  if (!text.ends_with('\n')) {
    return corrupt;
  }
  text.remove_suffix(1);
  const std::size_t space = text.rfind(' ');
  if (space == std::string_view::npos || !text.starts_with("fgcount 1 ")) {
    return corrupt;
  }
  const std::string_view head = text.substr(0, space);
  const std::string_view crc_text = text.substr(space + 1);
  std::uint32_t crc = 0;
  auto [end, ec] = std::from_chars(crc_text.data(), crc_text.data() + crc_text.size(), crc, 16);
  if (ec != std::errc{} || end != crc_text.data() + crc_text.size() || crc != storage::crc32(head)) {
    return corrupt;
  }
  const std::string_view number = head.substr(10);
  std::uint64_t count = 0;
  auto [end2, ec2] = std::from_chars(number.data(), number.data() + number.size(), count);
  if (ec2 != std::errc{} || end2 != number.data() + number.size()) {
    return corrupt;
  }
  return count;
}

std::expected<std::uint64_t, std::error_code> CounterStore::load() {
  auto text = disk_->read(file_);
  if (!text) {
    if (text.error() == std::errc::no_such_file_or_directory) {
      return 0;
    }
    return std::unexpected(text.error());
  }
  return decode(*text);
}

std::error_code CounterStore::save(std::uint64_t count) {
  return disk_->replace(file_, encode(count));
}

}  // namespace fg::devices::gpio
