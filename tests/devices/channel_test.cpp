// Channel: conversion, filters and counters together.

#include "devices/serial/channel.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

namespace fg::devices::serial::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0{};

Value text(std::string_view s) {
  return Value(std::in_place_type<std::string>, s);
}

TEST(Channel, ConvertFilterAndCount) {
  ChannelSpec spec;
  spec.name = "t";
  spec.scale = 0.1;
  spec.unit = "°C";
  spec.filter = {.change_only = true, .deadband = 0.05, .min_interval = 2s};
  auto channel = Channel::create(spec);
  ASSERT_TRUE(channel.has_value());
  EXPECT_EQ(channel->spec().unit, "°C");

  const auto first = channel->process(text("215"), t0);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->has_value());
  EXPECT_DOUBLE_EQ(std::get<double>(**first), 21.5);

  const auto bad = channel->process(text("ERR"), t0 + 500ms);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), ConvertError::not_a_number);

  const auto same = channel->process(text("215"), t0 + 1s);
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(same->has_value());

  const auto soon = channel->process(text("230"), t0 + 1500ms);
  ASSERT_TRUE(soon.has_value());
  EXPECT_FALSE(soon->has_value());

  const auto later = channel->process(text("230"), t0 + 2s);
  ASSERT_TRUE(later.has_value());
  ASSERT_TRUE(later->has_value());
  EXPECT_DOUBLE_EQ(std::get<double>(**later), 23.0);

  const auto& c = channel->counters();
  EXPECT_EQ(c.received, 5u);
  EXPECT_EQ(c.published, 2u);
  EXPECT_EQ(c.invalid, 1u);
  EXPECT_EQ(c.unchanged, 1u);
  EXPECT_EQ(c.too_soon, 1u);
}

TEST(Channel, InvalidValuesDoNotDisturbTheFilter) {
  ChannelSpec spec;
  spec.name = "t";
  spec.filter.change_only = true;
  auto channel = Channel::create(spec);
  ASSERT_TRUE(channel.has_value());
  EXPECT_TRUE(channel->process(text("1"), t0)->has_value());
  EXPECT_FALSE(channel->process(text("x"), t0).has_value());
  EXPECT_FALSE(channel->process(text("1"), t0)->has_value());
  channel->reset_filter();
  EXPECT_TRUE(channel->process(text("1"), t0)->has_value());
}

TEST(Channel, ConfigErrors) {
  const auto make = [](auto edit) {
    ChannelSpec spec;
    spec.name = "t";
    edit(spec);
    return Channel::create(spec).has_value();
  };
  EXPECT_TRUE(make([](ChannelSpec&) {}));
  EXPECT_FALSE(make([](ChannelSpec& s) { s.name.clear(); }));
  EXPECT_FALSE(make([](ChannelSpec& s) { s.scale = std::numeric_limits<double>::quiet_NaN(); }));
  EXPECT_FALSE(make([](ChannelSpec& s) { s.offset = std::numeric_limits<double>::infinity(); }));
  EXPECT_FALSE(make([](ChannelSpec& s) { s.filter.deadband = -1; }));
  EXPECT_FALSE(make([](ChannelSpec& s) { s.filter.deadband = std::numeric_limits<double>::quiet_NaN(); }));
  EXPECT_FALSE(make([](ChannelSpec& s) { s.filter.min_interval = -1s; }));
}

}  // namespace
}  // namespace fg::devices::serial::test
