#include "devices/serial/port.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "loop/error.hpp"
#include "loop/path_watch.hpp"
#include "loop/poll.hpp"
#include "loop/timer.hpp"
#include "loop/unique_fd.hpp"

namespace fg::devices::serial {
namespace {

using loop::PollEvents;

constexpr std::size_t kReadChunk = 4096;
// Reading at most this much per wake-up keeps one chatty port from starving the others.
constexpr std::size_t kMaxReadPerWakeup = 64 * 1024;

std::error_code configure_termios(int fd, const PortSettings& s) {
  termios tio{};
  if (::tcgetattr(fd, &tio) < 0) {
    return loop::errno_error();
  }
  ::cfmakeraw(&tio);
  tio.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
  static constexpr tcflag_t kSizes[] = {CS5, CS6, CS7, CS8};
  tio.c_cflag |= kSizes[s.data_bits - 5] | CLOCAL | CREAD;
  if (s.parity != Parity::none) {
    tio.c_cflag |= PARENB | (s.parity == Parity::odd ? PARODD : 0);
  }
  if (s.stop_bits == 2) {
    tio.c_cflag |= CSTOPB;
  }
  tio.c_iflag &= ~(IXON | IXOFF | IXANY);
  if (s.flow_control == FlowControl::rtscts) {
    tio.c_cflag |= CRTSCTS;
  } else if (s.flow_control == FlowControl::xonxoff) {
    tio.c_iflag |= IXON | IXOFF;
  }
  // VMIN 1 with O_NONBLOCK: an empty read fails with EAGAIN. With VMIN 0 it would return 0, the same as a
  // hang-up, and an idle port would look unplugged.
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  speed_t speed = speed_constant(s.baud);
  if (speed == 0 || ::cfsetispeed(&tio, speed) < 0 || ::cfsetospeed(&tio, speed) < 0) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (::tcsetattr(fd, TCSANOW, &tio) < 0) {
    return loop::errno_error();
  }
  // tcsetattr succeeds if any one setting took; read back the speed, the one a driver may refuse.
  termios check{};
  if (::tcgetattr(fd, &check) < 0 || ::cfgetospeed(&check) != speed) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  ::tcflush(fd, TCIFLUSH);  // what the device sent before we were listening is stale
  return {};
}

}  // namespace

unsigned speed_constant(unsigned baud) noexcept {
  switch (baud) {
    case 1200:
      return B1200;
    case 1800:
      return B1800;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 500000:
      return B500000;
    case 576000:
      return B576000;
    case 921600:
      return B921600;
    case 1000000:
      return B1000000;
    case 1152000:
      return B1152000;
    case 1500000:
      return B1500000;
    case 2000000:
      return B2000000;
    case 2500000:
      return B2500000;
    case 3000000:
      return B3000000;
    case 3500000:
      return B3500000;
    case 4000000:
      return B4000000;
    default:
      return 0;
  }
}

struct SerialPort::State {
  loop::Loop& loop;
  PortSettings settings;
  Callbacks callbacks;
  PortCounters counters;
  loop::UniqueFd fd;
  std::optional<loop::Poll> poll;  // declared after fd: destroyed first, leaving epoll before fd closes
  std::optional<loop::PathWatch> watch;
  loop::Timer retry;
  std::string queue;  // bytes not yet written; queue_head of them already went out
  std::size_t queue_head = 0;
  std::error_code last_open_error;  // reported once per distinct failure, not on every retry
  bool reading_paused = false;

  // What the poll must watch: input unless paused, output while bytes wait.
  std::error_code update_events() {
    auto events = reading_paused ? PollEvents::none : PollEvents::readable;
    if (queue_head < queue.size()) {
      events = events | PollEvents::writable;
    }
    return poll->set_events(events);
  }

  State(loop::Loop& l, PortSettings s, Callbacks c)
      : loop(l), settings(std::move(s)), callbacks(std::move(c)), retry(l) {}

  void report(bool open, std::error_code ec) {
    if (callbacks.on_state) {
      auto run = callbacks.on_state;
      run(open, ec);
    }
  }

  void try_open() {
    if (fd) {
      return;
    }
    auto ec = open_now();
    if (!ec) {
      retry.stop();
      last_open_error = {};
      ++counters.opens;
      report(true, {});
      return;
    }
    close_now();
    if (ec != last_open_error) {
      last_open_error = ec;
      report(false, ec);
    }
    // A bad speed will not get better by retrying; anything else (missing, busy, permission) might.
    if (ec != std::errc::invalid_argument) {
      retry.start(settings.reopen_interval, [this] { try_open(); });
    }
  }

  std::error_code open_now() {
    fd.reset(::open(settings.path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
      return loop::errno_error();
    }
    if (::ioctl(fd.get(), TIOCEXCL) < 0) {
      return loop::errno_error();
    }
    if (auto ec = configure_termios(fd.get(), settings)) {
      return ec;
    }
    auto p = loop::Poll::create(loop, fd.get());
    if (!p) {
      return p.error();
    }
    poll.emplace(std::move(*p));
    if (auto ec = poll->start(PollEvents::readable,
                              [this](std::error_code ec, PollEvents ev) { on_ready(ec, ev); })) {
      return ec;
    }
    return update_events();
  }

  void close_now() {
    poll.reset();
    fd.reset();
    counters.bytes_dropped += queue.size() - queue_head;
    queue.clear();
    queue_head = 0;
  }

  void lost(std::error_code why) {
    ++counters.disconnects;
    close_now();
    last_open_error = why;
    report(false, why);
    retry.start(settings.reopen_interval, [this] { try_open(); });
  }

  void on_ready(std::error_code ec, PollEvents events) {
    if (ec) {
      // libuv reports POLLERR as EBADF; reading says what really happened (and delivers what the device
      // sent before it went away).
      read_available();
      if (fd) {
        lost(ec);
      }
      return;
    }
    if (loop::has(events, PollEvents::writable) && !flush()) {
      return;
    }
    if (loop::has(events, PollEvents::readable) && !reading_paused) {
      read_available();
    }
  }

  void read_available() {
    std::uint8_t buffer[kReadChunk];
    for (std::size_t total = 0; total < kMaxReadPerWakeup;) {
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n > 0) {
        total += static_cast<std::size_t>(n);
        counters.bytes_read += static_cast<std::uint64_t>(n);
        if (callbacks.on_data) {
          callbacks.on_data(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(n)));
        }
        if (!fd || reading_paused) {
          return;  // the data callback closed the port or asked for a pause
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
      }
      // 0 (hang-up) or EIO: the device is gone (USB adapter unplugged, the pty's other end closed), which
      // is what the user should read in the log rather than "Input/output error".
      lost(n == 0 || errno == EIO ? std::make_error_code(std::errc::no_such_device) : loop::errno_error());
      return;
    }
  }

  // Writes queued bytes; returns false if the port was lost on the way.
  bool flush() {
    while (queue_head < queue.size()) {
      ssize_t n = ::write(fd.get(), queue.data() + queue_head, queue.size() - queue_head);
      if (n > 0) {
        queue_head += static_cast<std::size_t>(n);
        counters.bytes_written += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        update_events();  // watch for room
        return true;
      }
      lost(loop::errno_error());
      return false;
    }
    queue.clear();
    queue_head = 0;
    update_events();
    return true;
  }
};

SerialPort::SerialPort(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
SerialPort::SerialPort(SerialPort&&) noexcept = default;
SerialPort& SerialPort::operator=(SerialPort&&) noexcept = default;
SerialPort::~SerialPort() = default;

std::expected<SerialPort, std::error_code> SerialPort::create(loop::Loop& loop, PortSettings settings,
                                                              Callbacks callbacks) {
  if (settings.path.empty() || settings.data_bits < 5 || settings.data_bits > 8 ||
      (settings.stop_bits != 1 && settings.stop_bits != 2) || settings.write_queue_limit == 0) {
    return std::unexpected(std::make_error_code(std::errc::invalid_argument));
  }
  auto state = std::make_unique<State>(loop, std::move(settings), std::move(callbacks));
  auto* s = state.get();
  auto watch = loop::PathWatch::create(
      loop, s->settings.path,
      [s](loop::PathChange change) {
        if (change == loop::PathChange::appeared || change == loop::PathChange::replaced) {
          s->try_open();
        }
      },
      loop::PathWatch::Scope::existence);
  if (!watch) {
    return std::unexpected(watch.error());
  }
  s->watch.emplace(std::move(*watch));
  s->try_open();
  return SerialPort(std::move(state));
}

std::error_code SerialPort::write(std::span<const std::uint8_t> bytes) {
  State& s = *state_;
  if (!s.fd) {
    ++s.counters.writes_refused;
    return std::make_error_code(std::errc::not_connected);
  }
  if (s.queue.size() - s.queue_head + bytes.size() > s.settings.write_queue_limit) {
    ++s.counters.writes_refused;
    return std::make_error_code(std::errc::no_buffer_space);
  }
  bool idle = s.queue_head == s.queue.size();
  s.queue.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (idle) {
    s.flush();  // try at once; the poll finishes what the port did not take
  }
  return {};
}

void SerialPort::pause_reading(bool paused) {
  State& s = *state_;
  s.reading_paused = paused;
  if (s.poll) {
    s.update_events();
  }
}

bool SerialPort::is_open() const noexcept {
  return static_cast<bool>(state_->fd);
}
std::size_t SerialPort::queued_bytes() const noexcept {
  return state_->queue.size() - state_->queue_head;
}
const PortCounters& SerialPort::counters() const noexcept {
  return state_->counters;
}
const PortSettings& SerialPort::settings() const noexcept {
  return state_->settings;
}
int SerialPort::fd() const noexcept {
  return state_->fd.get();
}

}  // namespace fg::devices::serial
