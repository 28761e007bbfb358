#include "tty_speed_probe.hpp"

#include <asm/termbits.h>
#include <sys/ioctl.h>

#include <cerrno>

namespace fg::test {

std::optional<TtySpeed> read_tty_speed(int fd) {
  termios2 t{};
  if (::ioctl(fd, TCGETS2, &t) < 0) {
    return std::nullopt;
  }
  return TtySpeed{(t.c_cflag & CBAUD) == BOTHER, t.c_ospeed};
}

int lock_tty_speed(int fd, bool locked) {
  // The lock is a struct termios whose set bits are the ones no later TCSETS* may change.
  termios lock{};
  if (locked) {
    lock.c_cflag = CBAUD;
  }
  return ::ioctl(fd, TIOCSLCKTRMIOS, &lock) < 0 ? errno : 0;
}

}  // namespace fg::test
