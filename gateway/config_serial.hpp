#pragma once
// Reading one [[serial]] entry of the config. Private to gateway/config*.cpp.

#include "gateway/config.hpp"
#include "gateway/config_reader.hpp"

namespace fg::gateway::config_detail {

// Reads every key of one [[serial]] table into out, reporting each problem to the table's sink. The framer,
// parser and channels are checked by creating them with devices/serial, whose ConfigError lands on the key
// that caused it. Does not call table.finish(): the caller does.
void read_serial_device(TableReader& table, SerialSection& out);

}  // namespace fg::gateway::config_detail
