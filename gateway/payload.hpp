#pragma once
// The MQTT payloads of readings and replies (docs/topics.md). Devices produce devices::Reading and
// devices::Reply; only the gateway knows how they look on the wire.

#include <chrono>
#include <string>

#include "devices/command.hpp"
#include "devices/reading.hpp"

namespace fg::gateway {

using devices::Reading;
using devices::ReadingValue;

// RFC 3339 UTC with milliseconds: 2026-11-23T19:43:23.123Z.
std::string format_rfc3339(std::chrono::system_clock::time_point time);

// {"value":21.5,"unit":"°C","time":"...","seq":17,"epoch":3}; "unit" is left out when empty, "time" when
// the reading's time is before loop::wall_clock_floor() (the clock was not set yet), "epoch" when it is 0.
// The epoch is the gateway's boot count (gateway/seq_checkpoint.hpp): (epoch, seq) names a reading, and
// a repeated pair is a resent reading, never a new one.
std::string json_payload(const Reading& reading, std::uint64_t epoch = 0);
// The value alone: 21.5, true, or the text.
std::string raw_payload(const ReadingValue& value);

// {"error"|"reply":...,"ok":...,"request":...,"time":...}: the answer to a request.
std::string reply_payload(const devices::Reply& reply);

}  // namespace fg::gateway
