// End to end: request/response mode ([serial.request]). A command on "<...>/request" (and, in this mode,
// on "<...>/write") is written to the port; the first line matching reply_pattern is its reply, published
// on "<...>/reply" as {"request", "ok", "reply" | "error", "time"}; a request nobody answers within the
// timeout is answered {"ok": false, "error": "timeout"}. Other lines stay readings meanwhile.

#include <string>

#include "tests/e2e/e2e_support.hpp"

namespace fg::e2e {
namespace {

class E2eRequests : public E2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(E2eTest::SetUp());
    add_device("dev");
    std::string config = config_head() + serial_head("dev") +
                         "parser = \"kv\"\n"
                         "[serial.request]\nreply_pattern = '^(PONG|OK|ERR)'\ntimeout = \"300ms\"\n"
                         "[serial.channels.t]\nunit = \"°C\"\n";
    ASSERT_NO_FATAL_FAILURE(start_gateway(config, {"dev"}));
  }

  // Waits for reply number `n` (1-based) on "fg/t1/dev/reply" and returns it parsed.
  Json reply(std::size_t n) {
    auto replies = wait_readings(topic("dev/reply"), n);
    if (replies.size() < n) {
      ADD_FAILURE() << "no reply " << n << diagnostics();
      return Json::object();
    }
    return replies[n - 1];
  }

  int master() { return device("dev").master_fd(); }
};

TEST_F(E2eRequests, AnsweredRequestIsPublishedWithItsReplyAndReadingsKeepFlowing) {
  ASSERT_TRUE(sub_->publish(topic("dev/request"), "PING"));
  ASSERT_EQ(escaped(read_exactly(master(), "PING\n")), "PING\\n") << diagnostics();
  // A reading line while the request waits is a reading, not the reply; the reply follows.
  ASSERT_TRUE(write_all(master(), "t=5\nPONG\n"));

  Json r = reply(1);
  EXPECT_EQ(r.value("request", ""), "PING") << r.dump();
  EXPECT_EQ(r.value("ok", false), true) << r.dump();
  EXPECT_EQ(r.value("reply", ""), "PONG") << r.dump();
  EXPECT_FALSE(r.contains("error")) << r.dump();
  ASSERT_TRUE(r.contains("time")) << r.dump();
  EXPECT_TRUE(IsRfc3339UtcNow(r.value("time", "")));

  auto readings = wait_readings(topic("dev/t"), 1);
  ASSERT_EQ(readings.size(), 1u);
  EXPECT_EQ(readings[0].value("value", 0.0), 5.0);
}

TEST_F(E2eRequests, UnansweredRequestTimesOutWhileReadingsKeepFlowing) {
  ASSERT_TRUE(sub_->publish(topic("dev/request"), "PING"));
  ASSERT_EQ(escaped(read_exactly(master(), "PING\n")), "PING\\n") << diagnostics();
  ASSERT_TRUE(write_all(master(), "t=6\n"));  // not a reply

  Json r = reply(1);
  EXPECT_EQ(r.value("request", ""), "PING") << r.dump();
  EXPECT_EQ(r.value("ok", true), false) << r.dump();
  EXPECT_EQ(r.value("error", ""), "timeout") << r.dump();
  EXPECT_FALSE(r.contains("reply")) << r.dump();

  auto readings = wait_readings(topic("dev/t"), 1);
  ASSERT_EQ(readings.size(), 1u);
  EXPECT_EQ(readings[0].value("value", 0.0), 6.0);

  // After the timeout the device is asked again, and an answer counts.
  ASSERT_TRUE(sub_->publish(topic("dev/request"), "PING"));
  ASSERT_EQ(escaped(read_exactly(master(), "PING\n")), "PING\\n") << diagnostics();
  ASSERT_TRUE(write_all(master(), "PONG\n"));
  Json again = reply(2);
  EXPECT_EQ(again.value("ok", false), true) << again.dump();
  EXPECT_EQ(again.value("reply", ""), "PONG") << again.dump();
}

TEST_F(E2eRequests, QueuedRequestsAreWrittenOneAtATimeAndAnsweredInOrder) {
  // /write is a request too in this mode.
  ASSERT_TRUE(sub_->publish(topic("dev/request"), "SET A=1"));
  ASSERT_TRUE(sub_->publish(topic("dev/write"), "SET B=2"));
  // Once the gateway has received both (its SIGUSR1 counters say so), whatever it was going to write
  // at once is on the pty: the first command only, the second waits for the first's reply.
  ASSERT_TRUE(wait_counters("mqtt: ", " published, ", [](const std::string& line) {
    return counter(line, " received") >= 2;
  })) << diagnostics();
  ASSERT_EQ(escaped(read_exactly(master(), "SET A=1\n")), "SET A=1\\n") << diagnostics();
  EXPECT_EQ(counter(counters_line("dev"), " commands"), 1) << diagnostics();
  ASSERT_TRUE(write_all(master(), "OK A\n"));
  ASSERT_EQ(escaped(read_exactly(master(), "SET B=2\n")), "SET B=2\\n") << diagnostics();
  ASSERT_TRUE(write_all(master(), "ERR B\n"));

  Json first = reply(1);
  Json second = reply(2);
  EXPECT_EQ(first.value("request", ""), "SET A=1") << first.dump();
  EXPECT_EQ(first.value("reply", ""), "OK A") << first.dump();
  EXPECT_EQ(second.value("request", ""), "SET B=2") << second.dump();
  EXPECT_EQ(second.value("reply", ""), "ERR B") << second.dump();
  EXPECT_EQ(second.value("ok", false), true) << "a matching reply is ok, whatever it says: " << second.dump();
}

}  // namespace
}  // namespace fg::e2e
