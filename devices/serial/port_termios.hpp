#pragma once
// The line settings of an open serial port, set through termios2 (TCGETS2 / TCSETS2) so that any baud
// rate can be set, not only the ones with a B-constant: 250000 for 3D printers and DMX, 31250 for MIDI.
//
// <asm/termbits.h>, which defines termios2, and glibc's <termios.h> define the same names (struct
// termios, NCCS, the flags) differently and cannot meet in one file; port_termios.cpp is the only file of
// the port that includes either, and this header includes neither.

#include <cstddef>
#include <expected>
#include <system_error>

#include "devices/serial/port_settings.hpp"

namespace fg::devices::serial {

// Puts the open tty `fd` in raw mode with the speed, character format and flow control of `settings`,
// and reads the speed back: a driver may refuse a rate or round it, and tcsetattr-style calls succeed
// if any one setting took. Input already waiting is flushed only if it arrived at another speed or
// character format than the one set now. Returns how many bytes that flush discarded, or the error: an
// errno value, or PortError::speed_not_taken when the port runs at another speed.
std::expected<std::size_t, std::error_code> configure_port(int fd, const PortSettings& settings);

}  // namespace fg::devices::serial
