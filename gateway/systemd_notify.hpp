#pragma once
// SystemdNotify: the service manager protocol (sd_notify) for Type=notify units: READY=1 once the
// gateway serves, STATUS= with a one-line summary, STOPPING=1 on shutdown, and WATCHDOG=1 from a loop
// timer at half the WatchdogSec interval, so a stalled loop (not only a dead process) gets the service
// restarted. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
//
// The protocol is spoken here rather than through libsystemd: it is one datagram on an AF_UNIX socket
// (systemd's "Notify socket" interface, stable since 2010), and libsystemd with what it pulls in (libgcrypt,
// libgpg-error, liblzma, libzstd, liblz4, libcap) was about 1 MiB of the gateway's resident memory.
// Known limit: only the unix socket addresses of systemd <= 252 ("/path" and "@abstract"); systemd 253's
// "vsock:" addresses (for virtual machines) are not supported, nor passing descriptors (FDSTORE=1).

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "loop/loop.hpp"
#include "loop/timer.hpp"

namespace fg::gateway {

class SystemdNotify {
 public:
  explicit SystemdNotify(loop::Loop& loop);

  void ready();
  // A reload begins: RELOADING=1 with the time (MONOTONIC_USEC, which systemd 253's Type=notify-reload
  // requires and systemd 252 ignores); ready() says it ended, applied or refused.
  void reloading();
  void status(const std::string& line);
  void stopping();
  // Stops the watchdog timer so the loop can end.
  void close();

  bool watchdog_enabled() const noexcept { return watchdog_.has_value(); }

 private:
  std::optional<loop::Timer> watchdog_;
  std::string last_status_;
};

// Sends `message` ("READY=1", "STATUS=...", several assignments separated by newlines) as one datagram to
// the socket in NOTIFY_SOCKET: a path, or an abstract socket name when it starts with '@'. Returns true if
// it was sent, false if NOTIFY_SOCKET is unset (not run by systemd), or why it could not be sent.
std::expected<bool, std::error_code> sd_notify_message(std::string_view message);

// The watchdog interval systemd expects pings within (WATCHDOG_USEC), if the watchdog is on for this
// process: WATCHDOG_USEC is a positive number and WATCHDOG_PID is unset or this process's pid (a
// supervisor that forks passes it on only to the process meant to ping).
std::optional<std::chrono::microseconds> sd_watchdog_interval();

}  // namespace fg::gateway
