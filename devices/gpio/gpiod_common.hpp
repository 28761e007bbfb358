#pragma once
// What the libgpiod v1 and v2 backends share: finding a chip (Open(path) gives a chip or null,
// Label(chip) its label) and draining a request's events. Private to devices/gpio.

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <system_error>

#include "devices/gpio/chip_spec.hpp"
#include "devices/gpio/gpio_error.hpp"
#include "devices/gpio/line.hpp"

namespace fg::devices::gpio {

template <typename ChipPtr, typename Open, typename Label>
std::expected<std::pair<ChipPtr, std::string>, LineError> find_gpiod_chip(const LineSettings& line, Open open,
                                                                          Label label) {
  const ChipSpec spec = parse_chip_spec(line.chip);
  if (spec.kind == ChipSpec::Kind::path || spec.kind == ChipSpec::Kind::name) {
    const std::string path = spec.kind == ChipSpec::Kind::path ? spec.text : line.dev_dir + "/" + spec.text;
    ChipPtr chip = open(path);
    if (!chip) {
      const std::error_code ec(errno, std::generic_category());
      return std::unexpected(LineError{ec, "cannot open " + path + ": " + ec.message()});
    }
    return std::pair{std::move(chip), path};
  }
  // A label, or the best of the header labels: every chip is opened and asked.
  const std::vector<std::string> names = list_chip_names(line.dev_dir);
  std::size_t best_rank = SIZE_MAX;
  std::pair<ChipPtr, std::string> best;
  for (const std::string& name : names) {
    const std::string path = line.dev_dir + "/" + name;
    ChipPtr chip = open(path);
    if (!chip) {
      continue;  // not ours to read (permissions), or gone meanwhile
    }
    const std::string chip_label = label(chip.get());
    std::size_t rank = SIZE_MAX;
    if (spec.kind == ChipSpec::Kind::label) {
      rank = chip_label == spec.text ? 0 : SIZE_MAX;
    } else {
      for (std::size_t i = 0; i < line.auto_labels.size(); ++i) {
        if (line.auto_labels[i] == chip_label) {
          rank = i;
          break;
        }
      }
    }
    if (rank < best_rank) {
      best_rank = rank;
      best = {std::move(chip), path};
    }
  }
  if (best_rank == SIZE_MAX) {
    return std::unexpected(LineError{make_error_code(GpioError::chip_not_found),
                                     "cannot find " + chip_wanted(line) + " among " + std::to_string(names.size()) +
                                         " GPIO chip(s) in " + line.dev_dir});
  }
  return best;
}

// Reads batches of events until the (non-blocking) descriptor has none left: read() returns how many it
// read into its batch of `batch`, or -1 with errno; take(i) appends event i of that batch.
template <typename Read, typename Take>
std::error_code drain_events(int batch, Read read, Take take) {
  for (;;) {
    const int got = read();
    if (got < 0) {
      if (errno == EAGAIN) {
        return {};
      }
      if (errno == EINTR) {
        continue;
      }
      return {errno, std::generic_category()};
    }
    for (int i = 0; i < got; ++i) {
      take(i);
    }
    if (got < batch) {
      return {};
    }
  }
}

}  // namespace fg::devices::gpio
