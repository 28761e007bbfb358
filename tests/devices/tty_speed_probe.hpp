#pragma once
// What a test needs of termios2 to check the port's speed from outside: the speed a tty runs at, read with
// TCGETS2 independently of the code under test, and the termios lock with which the kernel keeps a
// setting from changing (TIOCSLCKTRMIOS, CAP_SYS_ADMIN), which makes a pty refuse a speed as a driver
// would. Kept in its own .cpp because <asm/termbits.h> and <termios.h> cannot meet in one file.

#include <optional>

namespace fg::test {

struct TtySpeed {
  bool other = false;   // set with BOTHER rather than a standard code
  unsigned output = 0;  // c_ospeed
};

std::optional<TtySpeed> read_tty_speed(int fd);

// Locks (true) or unlocks (false) the speed code of the tty behind `fd`. Returns errno, 0 on success.
int lock_tty_speed(int fd, bool locked);

}  // namespace fg::test
