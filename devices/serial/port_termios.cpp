#include "devices/serial/port_termios.hpp"

// Only the kernel's definitions here, never <termios.h>: see port_termios.hpp.
#include <asm/termbits.h>
#include <sys/ioctl.h>

#include <array>
#include <type_traits>
#include <utility>

#include "loop/error.hpp"

namespace fg::devices::serial {
namespace {

// The standard rates and their codes. A standard rate is set by its code, as cfsetospeed() did, so a
// driver that predates BOTHER sees what it always saw; any other rate is set with BOTHER and c_ospeed.
constexpr std::array<std::pair<unsigned, tcflag_t>, 30> kStandardRates = {{
    {50, B50},           {75, B75},           {110, B110},         {134, B134},         {150, B150},
    {200, B200},         {300, B300},         {600, B600},         {1200, B1200},       {1800, B1800},
    {2400, B2400},       {4800, B4800},       {9600, B9600},       {19200, B19200},     {38400, B38400},
    {57600, B57600},     {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000},
    {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000}, {3500000, B3500000}, {4000000, B4000000},
}};

tcflag_t code_of(unsigned baud) noexcept {
  for (const auto& [rate, code] : kStandardRates) {
    if (rate == baud) {
      return code;
    }
  }
  return BOTHER;
}

// The output speed a termios2 says the port runs at. The code in c_cflag decides, as in the kernel's
// tty_termios_baud_rate(): c_ospeed counts only with BOTHER (a locked or driver-rewritten code can leave a
// stale c_ospeed beside it). The legacy struct termios has no c_ospeed: only codes.
template <class Termios>
unsigned speed_of(const Termios& t) noexcept {
  const tcflag_t code = t.c_cflag & CBAUD;
  if constexpr (std::is_same_v<Termios, termios2>) {
    if (code == BOTHER) {
      return t.c_ospeed;
    }
  }
  for (const auto& [rate, standard] : kStandardRates) {
    if (standard == code) {
      return rate;
    }
  }
  return 0;  // B0, BOTHER in a legacy struct, or a code this table does not know
}

// A driver may set the nearest rate its clock divides to and report that (tty_encode_baud_rate). Within
// 2% is the same rate: the kernel itself calls a rate within 2% of a standard one by that one's code, and
// a UART receiver samples mid-bit, so both ends together tolerate a few percent.
bool close_enough(unsigned got, unsigned wanted) noexcept {
  const unsigned long long difference = got > wanted ? got - wanted : wanted - got;
  return difference * 50 <= wanted;
}

// Input that is waiting when the port opens is what the device sent just before: a boot banner, the first
// reading, or what it sent while the gateway restarted. It is kept when it arrived at the speed and
// character format the port has now. If the line ran at another speed or format (a new tty starts at
// 9600 or 38400, another program had it), the UART decoded those bytes at the wrong rate: they are noise at
// best and a wrong reading that happens to parse at worst (the raw parser publishes any text), so they are
// flushed, and the count goes to the port's counters. Known limit: the count is a lower bound. TIOCINQ
// counts what the line discipline holds; bytes still on their way from the driver (the tty's flip buffer)
// or arriving between the count and the flush are discarded too, uncounted.
template <class Termios>
std::size_t flush_if_stale(int fd, const Termios& before, const Termios& now) noexcept {
  constexpr tcflag_t kFormat = CSIZE | PARENB | PARODD | CMSPAR | CSTOPB;
  if (speed_of(before) == speed_of(now) && (before.c_cflag & kFormat) == (now.c_cflag & kFormat)) {
    return 0;
  }
  int waiting = 0;
  if (::ioctl(fd, TIOCINQ, &waiting) < 0) {
    waiting = 0;
  }
  ::ioctl(fd, TCFLSH, TCIFLUSH);
  return static_cast<std::size_t>(waiting);
}

class PortCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "serial port"; }
  std::string message(int value) const override {
    switch (static_cast<PortError>(value)) {
      case PortError::speed_not_taken:
        return "the port does not run at the configured baud rate (the driver refused or changed it)";
      case PortError::node_in_use:
        return "the same device node is already open for another device (through another path)";
    }
    return "unknown serial port error";
  }
};

}  // namespace

const std::error_category& port_category() noexcept {
  static const PortCategory category;
  return category;
}

namespace {

// The ioctls of each generation of the interface: termios2 (any rate) and the legacy struct termios
// (B-constants only).
struct Termios2Calls {
  using Type = termios2;
  static constexpr unsigned long kGet = TCGETS2;
  static constexpr unsigned long kSet = TCSETS2;
};
struct LegacyCalls {
  using Type = struct termios;
  static constexpr unsigned long kGet = TCGETS;
  static constexpr unsigned long kSet = TCSETS;
};

template <class Calls>
std::expected<std::size_t, std::error_code> configure_with(int fd, const PortSettings& s) {
  using Termios = typename Calls::Type;
  Termios before{};
  if (::ioctl(fd, Calls::kGet, &before) < 0) {
    return std::unexpected(loop::errno_error());
  }
  Termios tio = before;
  // Raw mode, what cfmakeraw() does: no input translation, no output processing, no echo, no line
  // editing or signals, 8 bits. CMSPAR (mark or space parity) is cleared too: it is not a setting here.
  tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY);
  tio.c_oflag &= ~OPOST;
  tio.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  tio.c_cflag &= ~(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS | CBAUD | CIBAUD);
  static constexpr tcflag_t kSizes[] = {CS5, CS6, CS7, CS8};
  tio.c_cflag |= kSizes[s.data_bits - 5] | CLOCAL | CREAD;
  if (s.parity != Parity::none) {
    tio.c_cflag |= PARENB | (s.parity == Parity::odd ? PARODD : 0);
  }
  if (s.stop_bits == 2) {
    tio.c_cflag |= CSTOPB;
  }
  if (s.flow_control == FlowControl::rtscts) {
    tio.c_cflag |= CRTSCTS;
  } else if (s.flow_control == FlowControl::xonxoff) {
    tio.c_iflag |= IXON | IXOFF;
  }
  // CIBAUD left 0 means the input speed follows the output speed.
  tio.c_cflag |= code_of(s.baud);
  if constexpr (std::is_same_v<Termios, termios2>) {
    tio.c_ospeed = s.baud;
    tio.c_ispeed = s.baud;
  }
  // VMIN 1 with O_NONBLOCK: an empty read fails with EAGAIN. With VMIN 0 it would return 0, the same as a
  // hang-up, and an idle port would look unplugged.
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  if (::ioctl(fd, Calls::kSet, &tio) < 0) {
    return std::unexpected(loop::errno_error());
  }
  Termios check{};
  if (::ioctl(fd, Calls::kGet, &check) < 0) {
    return std::unexpected(loop::errno_error());
  }
  if (!close_enough(speed_of(check), s.baud)) {
    return std::unexpected(make_error_code(PortError::speed_not_taken));
  }
  return flush_if_stale(fd, before, check);
}

}  // namespace

std::expected<std::size_t, std::error_code> configure_port(int fd, const PortSettings& s) {
  auto configured = configure_with<Termios2Calls>(fd, s);
  // Every Linux tty takes termios2 since 2.6.20, but an emulator may not: qemu-user (the cross builds'
  // tests) answers TCGETS2 with ENOSYS. A standard rate is then set through the legacy ioctls; any other
  // rate stays refused with the emulator's error.
  if (!configured &&
      (configured.error() == std::errc::function_not_supported ||
       configured.error() == std::errc::inappropriate_io_control_operation) &&
      code_of(s.baud) != BOTHER) {
    return configure_with<LegacyCalls>(fd, s);
  }
  return configured;
}

}  // namespace fg::devices::serial
