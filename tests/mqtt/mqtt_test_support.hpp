#pragma once
// Shared by the MQTT tests: a fixture with a real loop (LoopTest), a recorder of what a Session
// reports, and run_until(), which runs the loop until a condition holds instead of sleeping.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "loop/poll.hpp"
#include "loop/timer.hpp"
#include "loop/unique_fd.hpp"
#include "mqtt/session.hpp"
#include "tests/support/loop_fixture.hpp"
#include "tests/support/mosquitto_broker.hpp"

namespace fg::mqtt::test {

using namespace std::chrono_literals;

struct Received {
  std::string topic;
  std::string payload;
  Qos qos = Qos::at_most_once;
  bool retain = false;
};

// Records every message and state change of one Session.
struct Recorder {
  std::vector<Received> messages;
  std::vector<StateChange> states;

  void attach(Session& session) {
    session.on_message([this](const Message& m) {
      messages.push_back({std::string(m.topic), std::string(m.text()), m.qos, m.retain});
    });
    session.on_state([this](const StateChange& change) { states.push_back(change); });
  }

  bool connected() const { return !states.empty() && states.back().state == State::connected; }
  bool disconnected() const { return !states.empty() && states.back().state == State::disconnected; }
  int count(State state) const {
    int n = 0;
    for (const auto& s : states) {
      n += s.state == state ? 1 : 0;
    }
    return n;
  }
  // Payloads received on `topic`, in order.
  std::vector<std::string> payloads(const std::string& topic) const {
    std::vector<std::string> out;
    for (const auto& m : messages) {
      if (m.topic == topic) {
        out.push_back(m.payload);
      }
    }
    return out;
  }
  const Received* last(const std::string& topic) const {
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      if (it->topic == topic) {
        return &*it;
      }
    }
    return nullptr;
  }
};

// ScriptedBroker: a listening socket on 127.0.0.1 that answers every connection it accepts with fixed
// bytes, then keeps the connection open and never says anything else: a broker that misbehaves in a
// known way. With an empty reply it is a broker that accepts and stays silent.
class ScriptedBroker {
 public:
  ScriptedBroker(loop::Loop& loop, std::string reply) : reply_(std::move(reply)) {
    listener_ = loop::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_.get(), 8), 0);
    EXPECT_EQ(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    auto poll = loop::Poll::create(loop, listener_.get());
    EXPECT_TRUE(poll);
    poll_.emplace(std::move(*poll));
    poll_->start(loop::PollEvents::readable, [this](std::error_code, loop::PollEvents) {
      int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        if (!reply_.empty()) {
          EXPECT_EQ(::write(fd, reply_.data(), reply_.size()), static_cast<ssize_t>(reply_.size()));
        }
        accepted_.emplace_back(fd);
      }
    });
  }

  std::uint16_t port() const noexcept { return port_; }
  std::size_t accepted() const noexcept { return accepted_.size(); }

 private:
  std::string reply_;
  std::uint16_t port_ = 0;
  loop::UniqueFd listener_;
  std::vector<loop::UniqueFd> accepted_;
  std::optional<loop::Poll> poll_;  // declared last: leaves epoll before the descriptors close
};

// SlowProxy: a TCP proxy to a broker whose accept queue is full when the session connects, so the
// session's connect() stays in progress (its SYN is dropped) until the proxy makes room after
// `hold` and the kernel's SYN retransmission (about 1 s) gets through. Then it relays bytes both ways.
// This is what a broker across a real network looks like to the session: the socket becomes writable
// some time after connect(), and a TLS handshake starts on a socket that cannot be written yet.
class SlowProxy {
 public:
  SlowProxy(loop::Loop& loop, std::uint16_t upstream_port, std::chrono::milliseconds hold)
      : loop_(loop), upstream_port_(upstream_port), release_(loop) {
    listener_ = loop::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_.get(), 0), 0);  // room for one connection: the filler's
    EXPECT_EQ(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    filler_ = loop::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::connect(filler_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    release_.start(hold, [this] {
      // Accept and drop the filler: the next SYN retransmission of the session finds room.
      loop::UniqueFd dropped(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      filler_.reset();
      auto poll = loop::Poll::create(loop_, listener_.get());
      EXPECT_TRUE(poll);
      listen_poll_.emplace(std::move(*poll));
      listen_poll_->start(loop::PollEvents::readable,
                          [this](std::error_code, loop::PollEvents) { accept_one(); });
    });
  }
  SlowProxy(const SlowProxy&) = delete;
  SlowProxy& operator=(const SlowProxy&) = delete;
  ~SlowProxy() = default;

  std::uint16_t port() const noexcept { return port_; }
  bool relayed() const noexcept { return !links_.empty(); }

 private:
  struct Link {
    loop::UniqueFd client, upstream;
    std::optional<loop::Poll> client_poll, upstream_poll;  // after the descriptors: destroyed first
  };

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
  }

  void accept_one() {
    loop::UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) {
      return;
    }
    loop::UniqueFd upstream(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr = loopback(upstream_port_);
    EXPECT_EQ(::connect(upstream.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    auto& link = *links_.emplace_back(std::make_unique<Link>());
    link.client = std::move(client);
    link.upstream = std::move(upstream);
    link.client_poll.emplace(std::move(*loop::Poll::create(loop_, link.client.get())));
    link.upstream_poll.emplace(std::move(*loop::Poll::create(loop_, link.upstream.get())));
    auto relay = [&link](int from, int to) {
      char buf[16384];
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n <= 0) {
        link.client_poll->detach();
        link.upstream_poll->detach();
        ::shutdown(link.client.get(), SHUT_RDWR);
        ::shutdown(link.upstream.get(), SHUT_RDWR);
        return;
      }
      // Small packets on loopback: a blocking send never waits long.
      EXPECT_EQ(::send(to, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL), n);
    };
    link.client_poll->start(loop::PollEvents::readable, [&link, relay](std::error_code, loop::PollEvents) {
      relay(link.client.get(), link.upstream.get());
    });
    link.upstream_poll->start(loop::PollEvents::readable, [&link, relay](std::error_code, loop::PollEvents) {
      relay(link.upstream.get(), link.client.get());
    });
  }

  loop::Loop& loop_;
  std::uint16_t upstream_port_;
  std::uint16_t port_ = 0;
  loop::UniqueFd listener_;
  loop::UniqueFd filler_;
  std::vector<std::unique_ptr<Link>> links_;
  loop::Timer release_;
  std::optional<loop::Poll> listen_poll_;
};

// Counts loop iterations (a uv_prepare handle), to show that waiting does not spin.
class IterationCounter {
 public:
  explicit IterationCounter(loop::Loop& loop) : handle_(new uv_prepare_t{}) {
    uv_prepare_init(loop.raw(), handle_);
    handle_->data = &count_;
    uv_prepare_start(handle_, [](uv_prepare_t* h) { ++*static_cast<std::uint64_t*>(h->data); });
    uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
  }
  IterationCounter(const IterationCounter&) = delete;
  IterationCounter& operator=(const IterationCounter&) = delete;
  ~IterationCounter() {
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
  }
  std::uint64_t count() const noexcept { return count_; }

 private:
  uv_prepare_t* handle_;
  std::uint64_t count_ = 0;
};

class MqttTest : public fg::test::LoopTest {
 protected:
  // Runs the loop until `condition` holds, checked after every loop iteration (a uv_check handle), or
  // until `limit`. Returns the condition's final value.
  bool run_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5s) {
    if (condition()) {
      return true;
    }
    struct Check {
      uv_check_t handle;
      const std::function<bool()>* condition;
    };
    auto* check = new Check{};
    check->condition = &condition;
    uv_check_init(loop.raw(), &check->handle);
    check->handle.data = check;
    uv_check_start(&check->handle, [](uv_check_t* h) {
      auto* c = static_cast<Check*>(h->data);
      if ((*c->condition)()) {
        uv_stop(h->loop);
      }
    });
    uv_unref(reinterpret_cast<uv_handle_t*>(&check->handle));
    loop.run_for(limit);
    uv_close(reinterpret_cast<uv_handle_t*>(&check->handle),
             [](uv_handle_t* h) { delete static_cast<Check*>(h->data); });
    return condition();
  }

  // Options for a session of the test broker with fast reconnects.
  static Options local_options(std::uint16_t port, std::string client_id) {
    Options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.client_id = std::move(client_id);
    o.keepalive = 10s;
    o.reconnect.initial = 50ms;
    o.reconnect.max = 400ms;
    o.reconnect.connect_timeout = 3s;
    return o;
  }

  Session make_session(const Options& options) {
    auto session = Session::create(loop, options);
    EXPECT_TRUE(session) << session.error().message();
    if (!session) {
      throw std::runtime_error("Session::create failed");
    }
    return std::move(*session);
  }

  // A session that is connected and subscribed to `filter` (SUBACK is not awaited: a round trip of
  // a message through the broker is, which proves it).
  void connect(Session& session, Recorder& recorder) {
    recorder.attach(session);
    ASSERT_FALSE(session.start());
    ASSERT_TRUE(run_until([&] { return recorder.connected(); })) << "never connected";
  }

  // Shuts the session down cleanly and runs the loop until done.
  void close(Session& session, std::chrono::milliseconds timeout = 2s,
             std::optional<Publication> final_message = std::nullopt) {
    bool done = false;
    auto ec = session.shutdown(timeout, std::move(final_message), [&] { done = true; });
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(run_until([&] { return done; }, timeout + 3s)) << "shutdown never finished";
    EXPECT_EQ(session.state(), State::closed);
  }
};

}  // namespace fg::mqtt::test
