#include "gateway/payload.hpp"

#include <fmt/chrono.h>
#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include <nlohmann/json.hpp>

#include "loop/clock_watch.hpp"

namespace fg::gateway {
namespace {

// A JSON string literal for device or config text; invalid UTF-8 is replaced rather than refused (the
// parsers already count it).
void append_json_string(std::string& out, const std::string& text) {
  // Units and most text values are plain printable ASCII, which needs no escaping: copied as they are,
  // without the DOM's allocations. Anything else goes through nlohmann's escaping.
  const bool plain = std::all_of(text.begin(), text.end(),
                                 [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (!plain) {
    out += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

void append_integer(std::string& out, auto value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

void append_json_value(std::string& out, const ReadingValue& value) {
  if (const double* number = std::get_if<double>(&value)) {
    // Shortest text that reads back as the same double; JSON has no NaN or infinity, and the channel
    // conversion refuses them, but a text value converted elsewhere must not produce invalid JSON.
    if (std::isfinite(*number)) {
      fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}"), *number);
    } else {
      out += "null";
    }
  } else if (const bool* flag = std::get_if<bool>(&value)) {
    out += *flag ? "true" : "false";
  } else if (const std::int64_t* integer = std::get_if<std::int64_t>(&value)) {
    append_integer(out, *integer);
  } else {
    append_json_string(out, std::get<std::string>(value));
  }
}

void append_rfc3339(std::string& out, std::chrono::system_clock::time_point time) {
  // Readings come in bursts within the same second: format the date and time once per second.
  thread_local std::int64_t cached_second = -1;
  thread_local std::string cached_prefix;  // "2026-11-23T19:43:23."
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(ms);
  if (seconds.count() != cached_second) {
    std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    cached_prefix = fmt::format("{:%Y-%m-%dT%H:%M:%S}.", utc);
    cached_second = seconds.count();
  }
  const auto millis = static_cast<int>((ms - seconds).count());
  const char digits[] = {static_cast<char>('0' + millis / 100), static_cast<char>('0' + millis / 10 % 10),
                         static_cast<char>('0' + millis % 10), 'Z'};
  out += cached_prefix;
  out.append(digits, sizeof digits);
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point time) {
  std::string out;
  append_rfc3339(out, time);
  return out;
}

// Written by hand rather than through a JSON DOM: this runs for every reading, and building and
// dumping an object costs several allocations each time.
std::string json_payload(const Reading& reading, std::uint64_t epoch) {
  std::string out;
  out.reserve(96);
  out += "{\"value\":";
  append_json_value(out, reading.value);
  if (!reading.unit.empty()) {
    out += ",\"unit\":";
    append_json_string(out, reading.unit);
  }
  // A time before the floor is a clock not set yet (a Pi without an RTC before NTP): no time beats a
  // wrong one, and seq still orders the readings.
  if (reading.time >= loop::wall_clock_floor()) {
    out += ",\"time\":\"";
    append_rfc3339(out, reading.time);
    out += '"';
  }
  out += ",\"seq\":";
  append_integer(out, reading.seq);
  if (epoch != 0) {
    out += ",\"epoch\":";
    append_integer(out, epoch);
  }
  out += '}';
  return out;
}

std::string raw_payload(const ReadingValue& value) {
  struct Format {
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(std::int64_t v) const { return fmt::format("{}", v); }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Format{}, value);
}

std::string reply_payload(const devices::Reply& reply) {
  nlohmann::json json{
      {"request", reply.request}, {"ok", reply.ok}, {reply.ok ? "reply" : "error", reply.text}};
  json["time"] = format_rfc3339(reply.time);
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace fg::gateway
