#include "gateway/topics.hpp"

#include <gtest/gtest.h>

namespace fg::gateway {
namespace {

const Topics kTopics("fieldgate", "shed-pi");

TEST(Topics, Layout) {
  EXPECT_EQ(kTopics.gateway_status(), "fieldgate/shed-pi/status");
  EXPECT_EQ(kTopics.device_status("weather"), "fieldgate/shed-pi/weather/status");
  EXPECT_EQ(kTopics.reading("weather", "t"), "fieldgate/shed-pi/weather/t");
  EXPECT_EQ(kTopics.reply("weather"), "fieldgate/shed-pi/weather/reply");
}

TEST(Topics, SubscribesToCommandsOnlyNotItsOwnReadings) {
  for (const auto& filter : kTopics.command_filters()) {
    EXPECT_EQ(filter.find('#'), std::string::npos) << filter;
  }
  EXPECT_EQ(kTopics.command_filters().size(), 4u);
}

TEST(Topics, ParsesCommands) {
  auto write = kTopics.parse_command("fieldgate/shed-pi/weather/write");
  ASSERT_TRUE(write);
  EXPECT_EQ(write->kind, Topics::CommandKind::write);
  EXPECT_EQ(write->device, "weather");
  auto set = kTopics.parse_command("fieldgate/shed-pi/weather/led/set");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->kind, Topics::CommandKind::set);
  EXPECT_EQ(set->channel, "led");
  auto request = kTopics.parse_command("fieldgate/shed-pi/weather/request");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->kind, Topics::CommandKind::request);
  auto pulse = kTopics.parse_command("fieldgate/shed-pi/relay/state/pulse");
  ASSERT_TRUE(pulse);
  EXPECT_EQ(pulse->kind, Topics::CommandKind::pulse);
  EXPECT_EQ(pulse->device, "relay");
  EXPECT_EQ(pulse->channel, "state");
}

TEST(Topics, IgnoresEverythingElse) {
  EXPECT_FALSE(kTopics.parse_command("fieldgate/shed-pi/weather/t"));
  EXPECT_FALSE(kTopics.parse_command("fieldgate/other-pi/weather/write"));
  EXPECT_FALSE(kTopics.parse_command("fieldgate/shed-pi/weather/reply"));
  EXPECT_FALSE(kTopics.parse_command("fieldgate/shed-pi/a/b/c/set"));
  EXPECT_FALSE(kTopics.parse_command("fieldgate/shed-pi/status"));
}

}  // namespace
}  // namespace fg::gateway

namespace fg::gateway {
namespace {

TEST(Topics, ChannelNamesAreSingleUnreservedLevels) {
  for (const char* good : {"t", "bme.t", "v.0", "temperature_2", "set", "Status"}) {
    EXPECT_TRUE(Topics::is_channel_name(good)) << good;
  }
  for (const char* bad : {"", "a/b", "x/set", "+", "c#", "status", "write", "request", "reply"}) {
    EXPECT_FALSE(Topics::is_channel_name(bad)) << bad;
  }
  EXPECT_FALSE(Topics::is_channel_name(std::string_view("a\0b", 3)));
}

TEST(Topics, RegisterRequestsNameAKeyOfAnyGateway) {
  Topics t("fieldgate", "gw-b");
  EXPECT_EQ(t.register_get_filter(), "fieldgate/gw-b/register/get/#");
  EXPECT_EQ(t.parse_register_get("fieldgate/gw-b/register/get/gw-a/boiler/t"), "gw-a/boiler/t");
  EXPECT_EQ(t.parse_register_get("fieldgate/gw-b/register/get/"), std::nullopt);
  EXPECT_EQ(t.parse_register_get("fieldgate/gw-a/register/get/x"), std::nullopt);
  EXPECT_EQ(t.parse_register_get("fieldgate/gw-b/boiler/t"), std::nullopt);
  EXPECT_EQ(t.register_value("gw-a/boiler/t"), "fieldgate/gw-b/register/value/gw-a/boiler/t");
}

}  // namespace
}  // namespace fg::gateway
