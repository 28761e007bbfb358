#pragma once
// SystemdNotify: the service manager protocol (sd_notify) for Type=notify units: READY=1 once the
// gateway serves, STATUS= with a one-line summary, STOPPING=1 on shutdown, and WATCHDOG=1 from a loop
// timer at half the WatchdogSec interval, so a stalled loop (not only a dead process) gets the service
// restarted. Outside systemd (no NOTIFY_SOCKET) every call does nothing.

#include <optional>
#include <string>

#include "loop/loop.hpp"
#include "loop/timer.hpp"

namespace fg::gateway {

class SystemdNotify {
 public:
  explicit SystemdNotify(loop::Loop& loop);

  void ready();
  void status(const std::string& line);
  void stopping();
  // Stops the watchdog timer so the loop can end.
  void close();

  bool watchdog_enabled() const noexcept { return watchdog_.has_value(); }

 private:
  std::optional<loop::Timer> watchdog_;
  std::string last_status_;
};

}  // namespace fg::gateway
