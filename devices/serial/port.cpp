#include "devices/serial/port.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <compare>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "devices/serial/port_termios.hpp"
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

// Why a read or write failed. EIO (the tty hung up) and end of stream mean the device is gone (USB
// adapter unplugged, the pty's other end closed), which is what the user should read in the log rather
// than "Input/output error".
std::error_code failure_of(ssize_t n, int err) noexcept {
  return n == 0 || err == EIO ? std::make_error_code(std::errc::no_such_device) : loop::errno_error(err);
}

// A device node, whatever path leads to it: a character device by its st_rdev (so any node file for it
// matches), anything else (a FIFO, a regular file) by st_dev and st_ino.
struct NodeId {
  dev_t device = 0;
  ino_t inode = 0;
  auto operator<=>(const NodeId&) const = default;
};

NodeId node_of(const struct stat& st) noexcept {
  return S_ISCHR(st.st_mode) ? NodeId{st.st_rdev, 0} : NodeId{st.st_dev, st.st_ino};
}

// The device nodes the ports of this process hold open. Two devices must never open one node through
// different paths (a /dev/serial/by-id link and /dev/ttyUSB0): as root TIOCEXCL does not stop the second
// open, and both would read the node and split its lines between them. Process-wide and unguarded, as
// every port runs on the one loop thread (DESIGN.md).
std::set<NodeId>& open_nodes() {
  static std::set<NodeId> nodes;
  return nodes;
}

}  // namespace

// The port's machinery, on the heap at a stable address: the Poll, the Timer and the PathWatch hold a
// pointer to it. Every entry from the loop (poll, retry timer, path watch) and write() go through enter(),
// so a SerialPort destroyed inside a callback only orphans the State, and the outermost entry frees it
// when it returns (DESIGN.md rule 4): the code after a callback may still touch the State, never freed
// memory.
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
  std::optional<NodeId> node;       // while open: this port's entry in open_nodes()
  bool reading_paused = false;
  int depth = 0;          // entries running now (a callback may write, so they nest)
  bool orphaned = false;  // the SerialPort went during an entry: no more callbacks, freed when it ends

  template <typename F>
  void enter(F&& f) {
    ++depth;
    f();
    if (--depth == 0 && orphaned) {
      delete this;
    }
  }

  // The SerialPort was destroyed inside a callback. The device is let go of at once, so that a port for
  // the same path created right away (a reload) can open it; the callbacks stay alive, since one is
  // running, but are not called again.
  void orphan() noexcept {
    orphaned = true;
    watch.reset();
    retry.stop();
    close_now();
  }

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
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { forget_node(); }

  void forget_node() noexcept {
    if (node) {
      open_nodes().erase(*node);
      node.reset();
    }
  }

  // Calls the state callback; the callers do nothing after it that an orphaned State must not do.
  void report(bool open, std::error_code ec) {
    if (callbacks.on_state && !orphaned) {
      callbacks.on_state(open, ec);
    }
  }

  void start_retry() {
    retry.start(settings.reopen_interval, [this] { enter([this] { try_open(); }); });
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
    // Every failure is tried again: a missing node appears, a busy one is freed, udev fixes a group, and a
    // speed the driver refused may be taken by the next adapter plugged in at the same path.
    start_retry();
    if (ec != last_open_error) {
      last_open_error = ec;
      report(false, ec);
    }
  }

  std::error_code open_now() {
    // A node another port holds is refused before it is opened, so that the other port's device does not
    // even see a second open (no DTR or settings touched); fstat below settles a link changed meanwhile.
    struct stat st {};
    if (::stat(settings.path.c_str(), &st) == 0 && open_nodes().contains(node_of(st))) {
      return make_error_code(PortError::node_in_use);
    }
    fd.reset(::open(settings.path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
      return loop::errno_error();
    }
    if (::fstat(fd.get(), &st) < 0) {
      return loop::errno_error();
    }
    if (!open_nodes().insert(node_of(st)).second) {
      return make_error_code(PortError::node_in_use);
    }
    node = node_of(st);
    if (::ioctl(fd.get(), TIOCEXCL) < 0) {
      return loop::errno_error();
    }
    auto flushed = configure_port(fd.get(), settings);
    if (!flushed) {
      return flushed.error();
    }
    counters.stale_bytes_flushed += *flushed;
    auto p = loop::Poll::create(loop, fd.get());
    if (!p) {
      return p.error();
    }
    poll.emplace(std::move(*p));
    if (auto ec = poll->start(PollEvents::readable, [this](std::error_code ec, PollEvents ev) {
          enter([&] { on_ready(ec, ev); });
        })) {
      return ec;
    }
    return update_events();
  }

  void close_now() {
    poll.reset();
    fd.reset();
    forget_node();
    counters.bytes_dropped += queue.size() - queue_head;
    queue.clear();
    queue_head = 0;
  }

  void lost(std::error_code why) {
    ++counters.disconnects;
    close_now();
    last_open_error = why;
    start_retry();
    report(false, why);
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
    if (loop::has(events, PollEvents::writable) && flush()) {
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
        if (callbacks.on_data && !orphaned) {
          callbacks.on_data(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(n)));
        }
        if (!fd || reading_paused) {
          return;  // the data callback closed or destroyed the port, or asked for a pause
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
      }
      lost(failure_of(n, errno));
      return;
    }
  }

  // Writes queued bytes; returns why the port was lost on the way, or nothing.
  std::error_code flush() {
    while (queue_head < queue.size()) {
      ssize_t n = ::write(fd.get(), queue.data() + queue_head, queue.size() - queue_head);
      if (n > 0) {
        queue_head += static_cast<std::size_t>(n);
        counters.bytes_written += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        update_events();  // watch for room
        return {};
      }
      const std::error_code why = failure_of(n, errno);
      lost(why);
      return why;
    }
    queue.clear();
    queue_head = 0;
    update_events();
    return {};
  }

  std::error_code write(std::span<const std::uint8_t> bytes) {
    if (!fd) {
      ++counters.writes_refused;
      return std::make_error_code(std::errc::not_connected);
    }
    if (queue.size() - queue_head + bytes.size() > settings.write_queue_limit) {
      ++counters.writes_refused;
      return std::make_error_code(std::errc::no_buffer_space);
    }
    const bool idle = queue_head == queue.size();
    queue.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (idle) {
      // Try at once; the poll finishes what the port did not take. The port may turn out to be gone
      // before the loop noticed: the bytes are then dropped (and counted), and the caller is told.
      return flush();
    }
    return {};
  }
};

SerialPort::SerialPort(State* state) noexcept : state_(state) {}
SerialPort::SerialPort(SerialPort&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
SerialPort& SerialPort::operator=(SerialPort&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}
SerialPort::~SerialPort() {
  release();
}

void SerialPort::release() noexcept {
  if (state_ == nullptr) {
    return;
  }
  // Inside one of the port's own entries the State is still on the stack: that entry frees it when it
  // returns. Otherwise it goes now.
  if (state_->depth > 0) {
    state_->orphan();
  } else {
    delete state_;
  }
  state_ = nullptr;
}

std::expected<SerialPort, std::error_code> SerialPort::create(loop::Loop& loop, PortSettings settings,
                                                              Callbacks callbacks) {
  if (settings.path.empty() || settings.baud == 0 || settings.data_bits < 5 || settings.data_bits > 8 ||
      (settings.stop_bits != 1 && settings.stop_bits != 2) || settings.write_queue_limit == 0) {
    return std::unexpected(std::make_error_code(std::errc::invalid_argument));
  }
  auto state = std::make_unique<State>(loop, std::move(settings), std::move(callbacks));
  auto* s = state.get();
  auto watch = loop::PathWatch::create(
      loop, s->settings.path,
      [s](loop::PathChange change) {
        if (change == loop::PathChange::appeared || change == loop::PathChange::replaced) {
          s->enter([s] { s->try_open(); });
        }
      },
      loop::PathWatch::Scope::existence);
  if (!watch) {
    return std::unexpected(watch.error());
  }
  s->watch.emplace(std::move(*watch));
  s->try_open();
  return SerialPort(state.release());
}

std::error_code SerialPort::write(std::span<const std::uint8_t> bytes) {
  // The state callback may destroy *this during the write: only locals are touched after it.
  State* s = state_;
  std::error_code result;
  s->enter([&] { result = s->write(bytes); });
  return result;
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
