// mqtt_session_child PORT CLIENT_ID STATUS_TOPIC: runs one Session with will "offline" and birth
// "online" (both retained, QoS 1) on STATUS_TOPIC until it is killed. The will test kills it with
// SIGKILL, which is how a gateway crash or power loss looks to the broker.

#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "loop/loop.hpp"
#include "mqtt/session.hpp"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc != 4) {
    (void)std::fprintf(stderr, "usage: %s PORT CLIENT_ID STATUS_TOPIC\n", argv[0]);
    return 2;
  }
  // Never outlive the test that started us.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  fg::loop::Loop loop;
  fg::mqtt::Options options;
  options.host = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  options.client_id = argv[2];
  options.keepalive = 10s;
  options.will = fg::mqtt::Publication{argv[3], "offline", fg::mqtt::Qos::at_least_once, true};
  options.birth = fg::mqtt::Publication{argv[3], "online", fg::mqtt::Qos::at_least_once, true};
  options.reconnect.initial = 50ms;
  options.reconnect.max = 200ms;
  auto session = fg::mqtt::Session::create(loop, options);
  if (!session) {
    (void)std::fprintf(stderr, "session: %s\n", session.error().message().c_str());
    return 1;
  }
  session->on_state([](const fg::mqtt::StateChange& change) {
    (void)std::fprintf(stderr, "state %s %s\n", fg::mqtt::to_string(change.state),
                       change.reason.message().c_str());
  });
  session->start();
  loop.run();
  return 0;
}
