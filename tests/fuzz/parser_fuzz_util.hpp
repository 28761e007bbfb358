#pragma once

// Checks shared by the line parser fuzz targets.

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

#include "devices/serial/channel.hpp"
#include "devices/serial/channel_spec.hpp"
#include "devices/serial/field.hpp"
#include "devices/serial/parse_error.hpp"
#include "devices/serial/text.hpp"
#include "fuzz_util.hpp"

namespace fg::devices::serial::fuzz {

// What must hold for any parse result: a rejected line is rejected for the text policy exactly when the line
// breaks it; fields have non-empty, valid names and valid text; and every value goes through every kind of
// conversion and a channel with filters without trouble.
template <class Result>
void check_result(std::string_view line, const Result& result) {
  const auto bad_text = check_text(line);
  if (bad_text) {
    FG_FUZZ_CHECK(!result.has_value());
    FG_FUZZ_CHECK(result.error() == *bad_text);
    return;
  }
  if (!result.has_value()) {
    FG_FUZZ_CHECK(result.error().kind != ParseErrorKind::nul_byte);
    FG_FUZZ_CHECK(result.error().kind != ParseErrorKind::invalid_utf8);
    FG_FUZZ_CHECK(!to_string(result.error().kind).empty());
    return;
  }
  FG_FUZZ_CHECK(!result->fields.empty());
  for (const Field& field : result->fields) {
    FG_FUZZ_CHECK(!field.channel.empty());
    FG_FUZZ_CHECK(!check_text(field.channel));
    if (const auto* text = std::get_if<std::string>(&field.value)) {
      FG_FUZZ_CHECK(!check_text(*text));
    }
    for (const ValueKind kind : {ValueKind::number, ValueKind::boolean, ValueKind::text}) {
      ChannelSpec spec;
      spec.name = "c";
      spec.kind = kind;
      spec.scale = 0.1;
      spec.offset = -40;
      spec.filter = {.change_only = true, .deadband = 0.5, .min_interval = std::chrono::seconds(1)};
      const auto converted = convert(spec, field.value);
      if (converted && kind == ValueKind::number) {
        FG_FUZZ_CHECK(std::isfinite(std::get<double>(*converted)));
      }
      if (!converted) {
        FG_FUZZ_CHECK(!to_string(converted.error()).empty());
      }
      auto channel = Channel::create(spec);
      FG_FUZZ_CHECK(channel.has_value());
      const std::chrono::steady_clock::time_point t0{};
      (void)channel->process(field.value, t0);
      (void)channel->process(field.value, t0 + std::chrono::seconds(2));
      const auto& c = channel->counters();
      FG_FUZZ_CHECK(c.received == 2 && c.published + c.invalid + c.unchanged + c.too_soon == 2);
    }
  }
}

}  // namespace fg::devices::serial::fuzz
