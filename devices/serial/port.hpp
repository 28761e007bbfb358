#pragma once
// SerialPort: one serial device on the loop, opened by path (a /dev/serial/by-id link is fine), kept
// open through unplugs.
//
// Opening: O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC, TIOCEXCL so no second process silently shares the port
// (root can still open an exclusive tty: the kernel lets CAP_SYS_ADMIN through), raw mode with the
// configured speed, character size, parity, stop bits and flow control. Input the device sent before
// the port opened is kept, unless it arrived at another speed or character format: then it is flushed
// and counted (stale_bytes_flushed), because it was decoded at the wrong rate. Any baud rate
// can be asked for (termios2, port_termios.hpp); the speed is read back, and a port that does not run at
// it (within 2%) fails to open with PortError::speed_not_taken. One device node is open in at most one
// port of the process: a port whose path leads to a node another port holds (a by-id link and the
// ttyUSB0 it points to; compared by st_rdev) fails with PortError::node_in_use and is retried like any
// failure, so it opens once the other port lets the node go.
//
// Failing to open, for any reason (missing, busy, permission, a setting refused), is reported through the
// state callback once per distinct error, and the port is tried again on the retry timer, as a missing one
// is. Known limit: each attempt opens the tty again, and a board that resets when DTR rises (an Arduino)
// resets once per retry interval for as long as its setting is refused; the report says why.
//
// Unplugging: a read error (EIO, the tty hung up) or end of stream closes the port; it is reopened when
// its path appears again (inotify, through PathWatch) and, as a fallback for a node that exists but
// cannot be opened yet (udev still setting its group), on a retry timer.
//
// Writing: write() queues bytes in a bounded buffer and writes as much as the port takes without
// blocking; the rest goes out when the port is writable again. Bytes that do not fit are refused
// (ENOBUFS), never silently dropped; bytes queued when the port goes away are dropped and counted.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <system_error>

#include "devices/serial/port_settings.hpp"
#include "loop/loop.hpp"

namespace fg::devices::serial {

struct PortCounters {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t writes_refused = 0;  // write() calls refused: port closed or queue full
  std::uint64_t bytes_dropped = 0;   // queued bytes lost because the port went away
  std::uint64_t opens = 0;
  std::uint64_t disconnects = 0;  // unplugs and read errors
  // Input flushed when the port opened because it arrived at another speed or character format (see
  // port_termios.cpp); a lower bound: bytes still on their way from the driver are not counted.
  std::uint64_t stale_bytes_flushed = 0;
};

class SerialPort {
 public:
  struct Callbacks {
    // Bytes read from the device; the span is valid only during the call.
    std::function<void(std::span<const std::uint8_t>)> on_data;
    // The port opened (error empty) or closed (error says why: unplugged, cannot open, bad setting).
    std::function<void(bool open, std::error_code error)> on_state;
    // Either callback may destroy the SerialPort (DESIGN.md rule 4): the device is let go of at once, so a
    // port for the same path can be created in the same callback, nothing is called back afterwards,
    // and the memory goes when the callback returns.
  };

  // Validates the settings (baud not 0, data bits, stop bits) and starts trying to open the port; a missing
  // device is not an error here: the port opens when it appears. Callbacks may run from inside this call.
  static std::expected<SerialPort, std::error_code> create(loop::Loop& loop, PortSettings settings,
                                                           Callbacks callbacks);

  SerialPort(SerialPort&&) noexcept;
  SerialPort& operator=(SerialPort&&) noexcept;
  ~SerialPort();

  // Queues bytes for the device. ENOTCONN while the port is closed, ENOBUFS if the queue is full. If the
  // port turns out to be gone when the bytes are first written (unplugged, and the loop has not noticed
  // yet), the port closes as for any loss (the state callback runs inside this call), the unwritten bytes
  // are counted dropped, and the reason is returned: ENODEV for a device that went away, else the errno.
  std::error_code write(std::span<const std::uint8_t> bytes);

  // Stops (true) or resumes (false) reading, for flow control when what the port produces cannot be
  // passed on fast enough. While paused the kernel's buffer fills, then the device's flow control (if
  // configured) holds it back, or the UART overruns. Writing goes on. It lasts across reopens.
  void pause_reading(bool paused);

  bool is_open() const noexcept;
  std::size_t queued_bytes() const noexcept;
  const PortCounters& counters() const noexcept;
  const PortSettings& settings() const noexcept;
  // The open descriptor, or -1 (for tests: TIOCGEXCL, tcgetattr).
  int fd() const noexcept;

 private:
  struct State;
  explicit SerialPort(State* state) noexcept;
  void release() noexcept;
  State* state_ = nullptr;  // owned; freed by release(), or by the entry running when release() orphans it
};

}  // namespace fg::devices::serial
