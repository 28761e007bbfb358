#pragma once
// PtyDevice: a simulated serial device for tests. It holds the master side of a pty pair and publishes
// the slave under a stable path (a symlink, like /dev/serial/by-id/...), which is what the gateway opens.
// unplug() closes the master (the gateway's reads fail with EIO, as with a USB adapter pulled out) and
// removes the link, as udev does.

#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "loop/unique_fd.hpp"

namespace fg::test {

class PtyDevice {
 public:
  explicit PtyDevice(std::filesystem::path link) : link_(std::move(link)) { plug(); }
  PtyDevice(const PtyDevice&) = delete;
  PtyDevice& operator=(const PtyDevice&) = delete;
  ~PtyDevice() { unplug(); }

  void plug() {
    int master = -1, slave = -1;
    char name[256];
    if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) {
      return;
    }
    termios raw{};
    ::tcgetattr(slave, &raw);
    ::cfmakeraw(&raw);
    ::tcsetattr(slave, TCSANOW, &raw);
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    master_.reset(master);
    // The slave must stay open until the gateway opens it, or the pty's line settings reset; keep it
    // and close it once the gateway holds its own descriptor (see release_slave()).
    slave_.reset(slave);
    std::error_code ignored;
    std::filesystem::remove(link_, ignored);
    std::filesystem::create_symlink(name, link_);
  }

  void unplug() {
    std::error_code ignored;
    std::filesystem::remove(link_, ignored);
    slave_.reset();
    master_.reset();
  }

  // Drops the test's own reference to the slave side, so a close by the gateway is a real hang-up.
  void release_slave() { slave_.reset(); }

  bool send(std::string_view bytes) const {
    return ::write(master_.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }

  // Whatever the gateway wrote so far (non-blocking; empty if nothing).
  std::string receive() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(master_.get(), buf, sizeof buf)) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  int master_fd() const { return master_.get(); }
  const std::filesystem::path& path() const { return link_; }

 private:
  std::filesystem::path link_;
  loop::UniqueFd master_;
  loop::UniqueFd slave_;
};

}  // namespace fg::test
