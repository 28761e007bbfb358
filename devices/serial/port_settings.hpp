#pragma once
// The settings of a serial port and the errors of the port's own making. Apart from port.hpp so that
// port_termios.cpp, which must not see glibc's <termios.h> (libuv's header includes it), can use them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace fg::devices::serial {

enum class Parity : std::uint8_t { none, even, odd };
enum class FlowControl : std::uint8_t { none, rtscts, xonxoff };

struct PortSettings {
  std::string path;
  unsigned baud = 9600;
  unsigned data_bits = 8;  // 5..8
  Parity parity = Parity::none;
  unsigned stop_bits = 1;  // 1 or 2
  FlowControl flow_control = FlowControl::none;
  std::size_t write_queue_limit = 64 * 1024;
  std::chrono::milliseconds reopen_interval{2000};

  bool operator==(const PortSettings&) const = default;
};

// Errors of the port's own making, in their own category; everything else is an errno value.
enum class PortError : int {
  speed_not_taken = 1,  // the port reads back another speed than the one set
  node_in_use = 2,      // another port of this process has the same device node open (through another path)
};
const std::error_category& port_category() noexcept;
inline std::error_code make_error_code(PortError error) noexcept {
  return {static_cast<int>(error), port_category()};
}

}  // namespace fg::devices::serial

template <>
struct std::is_error_code_enum<fg::devices::serial::PortError> : std::true_type {};
