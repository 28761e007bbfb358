#include "gateway/systemd_notify.hpp"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "loop/unique_fd.hpp"

namespace fg::gateway {
namespace {

// Parses a whole decimal number; anything else (empty, sign, trailing characters, overflow) is nullopt.
template <typename Number>
std::optional<Number> parse_decimal(const char* text) {
  if (text == nullptr) {
    return std::nullopt;
  }
  std::string_view s(text);
  Number value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return value;
}

struct NotifyAddress {
  sockaddr_un addr{};
  socklen_t length = 0;
};

// NOTIFY_SOCKET as a socket address, the way libsystemd reads it: an absolute path (sent with its
// terminating NUL), or '@' and a name in the abstract namespace (the '@' becomes the leading NUL, and the
// length counts the name exactly, since abstract names are not NUL-terminated and trailing bytes matter).
std::optional<NotifyAddress> notify_address(std::string_view value) {
  NotifyAddress a;
  a.addr.sun_family = AF_UNIX;
  bool abstract = value.starts_with('@');
  if (value.size() < 2 || (!abstract && !value.starts_with('/'))) {
    return std::nullopt;
  }
  // A path needs room for its NUL; an abstract name may use the whole of sun_path.
  if (value.size() > sizeof a.addr.sun_path - (abstract ? 0 : 1)) {
    return std::nullopt;
  }
  std::memcpy(a.addr.sun_path, value.data(), value.size());
  if (abstract) {
    a.addr.sun_path[0] = '\0';
  }
  a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + value.size() + (abstract ? 0 : 1));
  return a;
}

}  // namespace

std::expected<bool, std::error_code> sd_notify_message(std::string_view message) {
  const char* socket_name = ::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr) {
    return false;
  }
  auto address = notify_address(socket_name);
  if (!address) {
    return std::unexpected(std::make_error_code(std::errc::invalid_argument));
  }
  // A fresh socket per message, as libsystemd does: notifications are rare (a watchdog ping every few
  // seconds), and no descriptor stays open for the loop and the tests to account for. It blocks like
  // libsystemd's: the send waits only if the service manager has 512 datagrams unread.
  loop::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return std::unexpected(std::error_code(errno, std::system_category()));
  }
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address->addr), address->length);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    return std::unexpected(std::error_code(errno, std::system_category()));
  }
  return true;
}

std::optional<std::chrono::microseconds> sd_watchdog_interval() {
  auto usec = parse_decimal<std::uint64_t>(::getenv("WATCHDOG_USEC"));
  // 0 is not an interval, and UINT64_MAX is systemd's "infinity".
  if (!usec || *usec == 0 || *usec == std::numeric_limits<std::uint64_t>::max() ||
      *usec > static_cast<std::uint64_t>(std::chrono::microseconds::max().count())) {
    return std::nullopt;
  }
  if (const char* pid_text = ::getenv("WATCHDOG_PID")) {
    auto pid = parse_decimal<pid_t>(pid_text);
    if (!pid || *pid != ::getpid()) {
      return std::nullopt;
    }
  }
  return std::chrono::microseconds(*usec);
}

SystemdNotify::SystemdNotify(loop::Loop& loop) {
  if (auto interval = sd_watchdog_interval()) {
    // Half the interval, as systemd recommends, and at least the loop timer's 1 ms resolution (a repeat
    // of 0 would make the timer fire only once).
    auto half = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2),
                         std::chrono::milliseconds(1));
    watchdog_.emplace(loop);
    // The ping comes from a loop timer on purpose: if the loop stalls, the pings stop. A ping that
    // cannot be sent is not the gateway's to handle: systemd notices the missing pings itself.
    watchdog_->start(
        half, [] { (void)sd_notify_message("WATCHDOG=1"); }, half);
  }
}

// Failures to notify are ignored, as with libsystemd: outside a working service manager there is no one
// to tell, and under one a missing READY=1 ends in the unit's start timeout, which systemd reports.
void SystemdNotify::ready() {
  (void)sd_notify_message("READY=1");
}

void SystemdNotify::reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
  (void)sd_notify_message("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void SystemdNotify::status(const std::string& line) {
  if (line != last_status_) {
    last_status_ = line;
    (void)sd_notify_message("STATUS=" + line);
  }
}

void SystemdNotify::stopping() {
  (void)sd_notify_message("STOPPING=1");
}

void SystemdNotify::close() {
  watchdog_.reset();
}

}  // namespace fg::gateway
