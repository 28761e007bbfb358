#include "gateway/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <chrono>

namespace fg::gateway {

SystemdNotify::SystemdNotify(loop::Loop& loop) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    auto half = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(usec / 2));
    watchdog_.emplace(loop);
    // The ping comes from a loop timer on purpose: if the loop stalls, the pings stop.
    watchdog_->start(
        half, [] { sd_notify(0, "WATCHDOG=1"); }, half);
  }
}

void SystemdNotify::ready() {
  sd_notify(0, "READY=1");
}

void SystemdNotify::status(const std::string& line) {
  if (line != last_status_) {
    last_status_ = line;
    sd_notify(0, ("STATUS=" + line).c_str());
  }
}

void SystemdNotify::stopping() {
  sd_notify(0, "STOPPING=1");
}

void SystemdNotify::close() {
  watchdog_.reset();
}

}  // namespace fg::gateway
