// Session::backlog() and on_drain(): a publisher faster than the broker can see libmosquitto's queue
// grow and hold back until it drains.

#include <chrono>

#include <thread>

#include "tests/mqtt/mqtt_test_support.hpp"

namespace fg::mqtt::test {
namespace {

using namespace std::chrono_literals;

class MqttFlowControl : public MqttTest {};

TEST_F(MqttFlowControl, BacklogGrowsWhileTheBrokerStallsAndDrainIsReported) {
  fg::test::MosquittoBroker broker({"max_queued_messages 0"});
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto session = make_session(local_options(broker.port(), "fast-publisher"));
  Recorder rec;
  connect(session, rec);
  int drains = 0;
  session.on_drain([&] { ++drains; });
  EXPECT_EQ(session.backlog(), 0u);

  // A stopped broker reads nothing: once the socket buffers are full, messages wait in libmosquitto.
  ASSERT_TRUE(broker.pause());
  const std::string payload(16 * 1024, 'x');
  for (int i = 0; i < 2000 && session.backlog() < 100; ++i) {
    ASSERT_FALSE(session.publish("bulk", payload, Qos::at_most_once));
  }
  EXPECT_GE(session.backlog(), 100u) << "16 KiB messages to a stopped broker must back up";
  // Full is not at once: the kernel grows the send buffer as the loopback connection speeds up (to
  // tcp_wmem's maximum), and a publish that finds the new room writes libmosquitto's whole queue, a true
  // drain (a slow publisher, as under ASan, sees one after about 250 messages). Only drains after the
  // resume count.
  const int drains_while_stopped = drains;

  ASSERT_TRUE(broker.resume());
  EXPECT_TRUE(run_until([&] { return drains > drains_while_stopped; }, 10s)) << "the queue never drained";
  EXPECT_EQ(session.backlog(), 0u);
  close(session);
}

TEST_F(MqttFlowControl, APublishThatFlushesTheQueueReportsTheDrainToo) {
  fg::test::MosquittoBroker broker({"max_queued_messages 0"});
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto session = make_session(local_options(broker.port(), "fast-publisher"));
  Recorder rec;
  connect(session, rec);
  int drains = 0;
  session.on_drain([&] { ++drains; });

  ASSERT_TRUE(broker.pause());
  const std::string payload(16 * 1024, 'x');
  for (int i = 0; i < 2000 && session.backlog() < 20; ++i) {
    ASSERT_FALSE(session.publish("bulk", payload, Qos::at_most_once));
  }
  ASSERT_GE(session.backlog(), 20u);
  const int drains_while_stopped = drains;  // the send buffer's growth can make one (see above)
  ASSERT_TRUE(broker.resume());
  // Without running the loop (so the poll callback cannot drain the queue first), let the broker empty
  // the socket; then a publish writes libmosquitto's whole queue itself. The backlog ends, and so must
  // the wait of whoever held back for it: once the regression made the gateway pause its ports forever.
  // (A sleep between the attempts, since the loop must not run; the deadline is a loaded machine's.)
  bool flushed = false;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       !flushed && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(50ms);
    ASSERT_FALSE(session.publish("small", std::string_view("x"), Qos::at_most_once));
    flushed = session.backlog() == 0;
  }
  ASSERT_TRUE(flushed) << "the broker never took the queue";
  EXPECT_EQ(drains - drains_while_stopped, 1);
  close(session);
}

// At QoS 1 the socket takes every message, but libmosquitto sends only 20 unacknowledged at a time and
// keeps the rest in its memory without limit: a publisher must see those as backlog, or a broker slower
// than the devices grows the gateway without bound (1.7 GiB in the benchmark at the user's defaults).
TEST_F(MqttFlowControl, UnacknowledgedQos1MessagesCountAsBacklogUntilTheBrokerAcknowledgesThem) {
  fg::test::MosquittoBroker broker;
  ASSERT_TRUE(broker.start()) << broker.last_error();
  auto session = make_session(local_options(broker.port(), "qos1-publisher"));
  Recorder rec;
  connect(session, rec);
  int drains = 0;
  session.on_drain([&] { ++drains; });

  for (int i = 0; i < 2000; ++i) {
    ASSERT_FALSE(session.publish("bulk", std::string_view("reading"), Qos::at_least_once));
  }
  EXPECT_GE(session.backlog(), 1900u) << "2,000 messages were published and none acknowledged yet";
  EXPECT_TRUE(run_until([&] { return drains > 0 && session.backlog() == 0; }, 10s))
      << "backlog " << session.backlog() << ", drains " << drains;
  EXPECT_EQ(session.counters().acknowledged, 2000u);
  close(session);
}

}  // namespace
}  // namespace fg::mqtt::test
