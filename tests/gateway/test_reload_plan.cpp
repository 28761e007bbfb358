// ReloadPlan: which devices a reload leaves alone, closes, opens and reopens, and which settings it refuses.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/reload_plan.hpp"
#include "tests/gateway/config_test_support.hpp"

namespace fg::gateway {
namespace {

using test_support::parse;
using Names = std::vector<std::string>;

std::string serial(const std::string& name, const std::string& extra = {}) {
  return "[[serial]]\nname = \"" + name + "\"\npath = \"/dev/tty" + name + "\"\n" + extra;
}

Names refused_keys(const ReloadPlan& plan) {
  Names keys;
  for (const auto& refusal : plan.refused) {
    keys.push_back(refusal.key);
  }
  return keys;
}

TEST(ReloadPlan, SameConfigChangesNothing) {
  const std::string text = "[mqtt]\nhost = \"broker\"\n" + serial("a") + serial("b", "parser = \"json\"\n");
  const auto plan = plan_reload(parse(text), parse(text));
  EXPECT_TRUE(plan.refused.empty());
  EXPECT_EQ(plan.unchanged, (Names{"a", "b"}));
  EXPECT_FALSE(plan.devices_changed());
  EXPECT_FALSE(plan.mqtt_session_changed);
  EXPECT_FALSE(plan.log_level_changed);
  EXPECT_EQ(plan.summary(), "devices: 2 unchanged");
}

TEST(ReloadPlan, DevicesAreComparedByNameAndWholeSettings) {
  const auto running = parse(serial("keep") + serial("gone") + serial("baud", "baud = 9600\n") +
                             serial("chan", "[serial.channels.t]\nunit = \"°C\"\n"));
  const auto next = parse(serial("new") + serial("chan", "[serial.channels.t]\nunit = \"K\"\n") +
                          serial("baud", "baud = 115200\n") + serial("keep"));
  const auto plan = plan_reload(running, next);
  EXPECT_TRUE(plan.refused.empty());
  EXPECT_EQ(plan.order, (Names{"new", "chan", "baud", "keep"}));
  EXPECT_EQ(plan.unchanged, (Names{"keep"}));
  EXPECT_EQ(plan.added, (Names{"new"}));
  EXPECT_EQ(plan.removed, (Names{"gone"}));
  EXPECT_EQ(plan.changed, (Names{"chan", "baud"}));
  EXPECT_EQ(plan.summary(), "devices: 1 unchanged, 1 added (new), 1 removed (gone), 2 reopened (chan, baud)");
}

// The payload form is the gateway's business: the device keeps its port.
TEST(ReloadPlan, PayloadFormAloneDoesNotReopenTheDevice) {
  const auto plan = plan_reload(parse(serial("a")), parse(serial("a", "payload = \"raw\"\n")));
  EXPECT_EQ(plan.unchanged, (Names{"a"}));
  EXPECT_EQ(plan.payload_changed, (Names{"a"}));
  EXPECT_FALSE(plan.devices_changed());
}

TEST(ReloadPlan, MqttConnectionSettingsAndPublishingAreToldApart) {
  const auto running = parse("[mqtt]\nhost = \"a\"\n");
  EXPECT_TRUE(plan_reload(running, parse("[mqtt]\nhost = \"b\"\n")).mqtt_session_changed);
  EXPECT_TRUE(plan_reload(running, parse("[mqtt]\nhost = \"a\"\nkeepalive = \"60s\"\n")).mqtt_session_changed);
  const auto qos = plan_reload(running, parse("[mqtt]\nhost = \"a\"\nqos = 0\n"));
  EXPECT_FALSE(qos.mqtt_session_changed);
  EXPECT_TRUE(qos.mqtt_publishing_changed);
  EXPECT_TRUE(qos.refused.empty());
}

TEST(ReloadPlan, LogLevelApplies) {
  const auto plan = plan_reload(parse("[gateway]\nlog_level = \"info\"\n"), parse("[gateway]\nlog_level = \"debug\"\n"));
  EXPECT_TRUE(plan.refused.empty());
  EXPECT_TRUE(plan.log_level_changed);
}

TEST(ReloadPlan, TopicsOutboxAndControlSocketCannotChangeLive) {
  const auto plan = plan_reload(
      parse("[gateway]\nid = \"a\"\n[mqtt]\nprefix = \"p\"\noutbox = 10\n[control]\nsocket = \"/run/a\"\n"),
      parse("[gateway]\nid = \"b\"\n[mqtt]\nprefix = \"q\"\noutbox = 20\n[control]\nsocket = \"/run/b\"\n"));
  EXPECT_EQ(refused_keys(plan), (Names{"gateway.id", "mqtt.prefix", "mqtt.outbox", "control.socket"}));
  EXPECT_NE(plan.refused.front().message.find("restart fieldgate to apply it"), std::string::npos)
      << plan.refused.front().message;
}

TEST(ReloadPlan, GpioDevicesAreComparedByTheirWholeSettingsToo) {
  const auto running = parse("[[gpio]]\nname = \"door\"\nline = \"GPIO17\"\n"
                             "[[gpio]]\nname = \"bell\"\nline = \"GPIO22\"\n"
                             "[[gpio]]\nname = \"gone\"\nline = \"GPIO23\"\n");
  const auto next = parse("[[gpio]]\nname = \"door\"\nline = \"GPIO17\"\n"
                          "[[gpio]]\nname = \"bell\"\nline = \"GPIO22\"\nedge = \"falling\"\n" +
                          serial("gone"));
  const auto plan = plan_reload(running, next);
  EXPECT_TRUE(plan.refused.empty());
  EXPECT_EQ(plan.unchanged, (Names{"door"}));
  EXPECT_EQ(plan.changed, (Names{"bell", "gone"}));  // "gone" moved from [[gpio]] to [[serial]]
  EXPECT_TRUE(plan.added.empty());
  EXPECT_TRUE(plan.removed.empty());
}

TEST(ReloadPlan, HomeAssistantSetupIsRefusedAndTheMetricsIntervalApplies) {
  const auto running = parse("[mqtt]\nmetrics_interval = \"60s\"\n");
  const auto interval = plan_reload(running, parse("[mqtt]\nmetrics_interval = \"30s\"\n"));
  EXPECT_TRUE(interval.refused.empty());
  EXPECT_TRUE(interval.metrics_interval_changed);
  EXPECT_EQ(refused_keys(plan_reload(running, parse("[mqtt]\nmetrics_interval = \"0s\"\n"))),
            (Names{"mqtt.metrics_interval"}));
  EXPECT_EQ(refused_keys(plan_reload(running, parse("[homeassistant]\nenabled = false\nprefix = \"ha\"\n"))),
            (Names{"homeassistant.enabled", "homeassistant.prefix"}));
}

ReplicationSection replication() {
  ReplicationSection r;
  r.node = 1;
  r.listen = "127.0.0.1:7001";
  r.peers = {{2, "127.0.0.1:7002"}, {3, "127.0.0.1:7003"}};
  r.key_file = "/etc/fieldgate/site.key";
  return r;
}

TEST(ReloadPlan, ReplicationMembershipAndStateAreRefusedByKey) {
  Config running;
  running.replication = replication();
  Config next = running;
  next.replication->node = 4;
  next.replication->state_dir = "/srv/quorum";
  next.replication->peers[1].address = "127.0.0.1:7004";
  EXPECT_EQ(refused_keys(plan_reload(running, next)),
            (Names{"replication.node", "replication.peers", "replication.state_dir"}));

  Config timing = running;
  timing.replication->restore_timeout = std::chrono::seconds(30);  // used at start only: allowed
  EXPECT_TRUE(plan_reload(running, timing).refused.empty());
  timing.replication->timeout = std::chrono::seconds(5);
  EXPECT_EQ(refused_keys(plan_reload(running, timing)), (Names{"replication.timeout"}));
}

TEST(ReloadPlan, ReplicationCannotBeAddedOrRemovedLive) {
  Config without;
  Config with;
  with.replication = replication();
  EXPECT_EQ(refused_keys(plan_reload(without, with)), (Names{"replication"}));
  EXPECT_EQ(refused_keys(plan_reload(with, without)), (Names{"replication"}));
}

}  // namespace
}  // namespace fg::gateway
