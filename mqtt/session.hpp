#pragma once
// Session: one MQTT client connection to one broker, kept alive on the loop for as long as the Session
// lives. It connects, reconnects after any loss with a jittered exponential backoff, restores its
// subscriptions, registers a will and publishes a birth message on every connect, keeps what is
// published while disconnected in a bounded outbox, and shuts down cleanly on request.
//
//   auto session = mqtt::Session::create(loop, options);   // validates options, reads the password
//   session->on_message([](const mqtt::Message& m) { ... });
//   session->on_state([](const mqtt::StateChange& s) { ... });
//   session->subscribe("site/+/set", mqtt::Qos::at_least_once);
//   session->start();
//   session->publish("site/gw1/t", "21.5", mqtt::Qos::at_least_once);
//   ...
//   session->shutdown(2s, mqtt::Publication{"site/gw1/status", "offline", Qos::at_least_once, true},
//                     [&] { /* every handle is closed; the loop can end */ });
//
// libmosquitto runs in its non-threaded mode on our loop: a Poll on its socket, mosquitto_loop_read /
// loop_write when the socket is ready, mosquitto_loop_misc (keepalive) from a 1 s timer. The library
// never starts a thread of its own (no loop_start, no loop_forever). docs/mqtt.md describes the
// behaviour in full; the comments in session.cpp explain the libmosquitto details.
//
// Message and state callbacks run from the loop, never inside a call the user made to the Session
// (on_log may). From any callback the user may publish, subscribe, shut down, or destroy the Session: a
// Session destroyed inside its own callback is reaped when that callback returns (DESIGN.md rule 4). A
// user callback must not throw; if one does, the exception stops at the C boundary and is counted in
// Counters::callback_errors. The Loop must outlive the Session.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "loop/loop.hpp"
#include "mqtt/error.hpp"
#include "mqtt/message.hpp"
#include "mqtt/options.hpp"
#include "mqtt/publish_queue.hpp"

namespace fg::mqtt {

enum class State {
  idle,          // created, start() not called yet
  connecting,    // resolving the host, connecting, TLS handshake, waiting for CONNACK
  connected,     // CONNACK received; publishing goes straight to the broker
  disconnected,  // lost or refused; waiting for the next attempt (publishing goes to the outbox)
  closing,       // shutdown() called; final message, waiting for acknowledgements, DISCONNECT
  closed,        // shut down; every handle is closed
};

const char* to_string(State state) noexcept;

struct StateChange {
  State state = State::idle;
  // Why the session is disconnected: an errno (connection refused, host unreachable, ...), a libuv
  // resolver error (unknown host), a mosquitto error (TLS, protocol, lost connection, keepalive) or an
  // MQTT reason code from the broker (bad user name or password, not authorised, session taken over).
  // Empty when connected.
  std::error_code reason;
  // When disconnected: the delay until the next attempt.
  std::chrono::milliseconds retry_in{0};
  // Words for humans beside `reason`, when there are any: for a failed TLS handshake libmosquitto's
  // explanation ("certificate verify failed", "host name verification failed"), which the error code
  // alone (MosquittoErrc::tls) cannot carry. Empty otherwise.
  std::string detail;
};

// Plain counters since the Session was created; read them any time.
struct Counters {
  std::uint64_t published = 0;         // messages handed to libmosquitto (any QoS)
  std::uint64_t acknowledged = 0;      // QoS 1 / 2 messages the broker acknowledged (PUBACK / PUBCOMP)
  std::uint64_t dropped = 0;           // outbox overflow, plus what was left unsent at shutdown
  std::uint64_t rejected = 0;          // outbox / birth / final messages libmosquitto refused (e.g. too big)
  std::uint64_t received = 0;          // messages delivered to the message callback
  std::uint64_t connects = 0;          // successful connections (CONNACK accepted)
  std::uint64_t reconnects = 0;        // successful connections after the first
  std::uint64_t connect_failures = 0;  // attempts that ended before a successful CONNACK
  std::uint64_t subscriptions_refused = 0;  // SUBACK entries the broker refused (0x80 and above)
  std::uint64_t callback_errors = 0;        // exceptions thrown by user callbacks and swallowed
};

enum class LogLevel { debug, info, notice, warning, error };

class Session {
 public:
  using MessageCallback = std::function<void(const Message&)>;
  using StateCallback = std::function<void(const StateChange&)>;
  using LogCallback = std::function<void(LogLevel, std::string_view)>;
  using DoneCallback = std::function<void()>;

  // Validates `options` (std::errc::invalid_argument), reads the password file and checks the TLS
  // files (their errno), and prepares libmosquitto. Nothing touches the network before start().
  static std::expected<Session, std::error_code> create(loop::Loop& loop, Options options);

  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // Without shutdown() this drops the connection without a DISCONNECT, so the broker publishes the
  // will: the same as a crash, by design. Every handle is closed either way.
  ~Session();

  void on_message(MessageCallback callback);
  void on_state(StateCallback callback);
  // libmosquitto's own log lines (TLS failures are explained only there). Called synchronously.
  void on_log(LogCallback callback);

  // Starts connecting. Fails with std::errc::operation_in_progress if already started.
  std::error_code start();

  // Publishes now if connected, otherwise appends to the outbox (dropping its oldest message when it is
  // full). Fails only for an invalid topic, payload or QoS (std::errc::invalid_argument,
  // std::errc::message_size), a message libmosquitto refuses (MosquittoErrc), or after shutdown()
  // (std::errc::operation_canceled).
  std::error_code publish(std::string_view topic, std::span<const std::byte> payload,
                          Qos qos = Qos::at_most_once, bool retain = false);
  std::error_code publish(std::string_view topic, std::string_view payload, Qos qos = Qos::at_most_once,
                          bool retain = false);
  std::error_code publish(Publication message);

  // Remembers the subscription (a second call for the same filter replaces its QoS) and subscribes now
  // if connected; every later connect subscribes again.
  std::error_code subscribe(std::string_view filter, Qos qos = Qos::at_least_once);
  std::error_code unsubscribe(std::string_view filter);

  // New options while running: a site moves its broker, rotates its password, changes TLS files. Checked
  // and the password read as by create() (the same errors); nothing changes on an error. When a setting
  // the broker sees changed (host, port, client id, keepalive, user name, password, TLS, protocol, clean
  // session, will) the session reconnects with them at once and returns true; false when none did (new
  // reconnect timings or birth message apply all the same). Nothing queued is lost: while connected, new
  // messages wait in the outbox until the broker has acknowledged every QoS 1 / 2 message in flight (at
  // most reconnect.connect_timeout), then DISCONNECT (the broker discards the will: subscribers never see
  // the session offline) and a new attempt starts without backoff; subscriptions are restored and the
  // outbox sent after it, as after any reconnect. The next state change reported is the new connect (or
  // its failure). outbox_limit cannot change (std::errc::operation_not_supported); after shutdown():
  // std::errc::operation_canceled. Known limit: a new client id, clean session or TLS settings need a new
  // libmosquitto instance, so QoS 1 / 2 messages still unacknowledged when the wait ends are counted as
  // dropped rather than sent again.
  std::expected<bool, std::error_code> reconfigure(Options options);

  // Clean shutdown: publishes `final_message` if connected (the retained "offline" that the will would
  // otherwise carry), waits until the broker has acknowledged every QoS 1 / 2 message in flight or
  // `timeout` has passed, sends DISCONNECT (so the broker discards the will), closes every handle and
  // then calls `done` from the loop. If not connected, nothing can be sent: the outbox and the final
  // message are counted as dropped and `done` comes at once. Fails with
  // std::errc::operation_in_progress when called twice, std::errc::invalid_argument for an invalid
  // final message.
  std::error_code shutdown(std::chrono::milliseconds timeout, std::optional<Publication> final_message,
                           DoneCallback done);

  State state() const noexcept;
  const Counters& counters() const noexcept;
  std::size_t outbox_size() const noexcept;
  // QoS 1 / 2 messages handed to libmosquitto and not yet acknowledged (they survive reconnects).
  std::size_t in_flight() const noexcept;
  // What shutdown() gave up, by QoS: messages still waiting (no broker to send them to, or the timeout
  // passed) and QoS 1 / 2 messages handed to libmosquitto and never acknowledged. The final message is
  // not among them. Complete when `done` of shutdown() is called; zero before.
  QosCounts discarded() const noexcept;

  // Flow control. libmosquitto writes a message at once when the socket takes it and otherwise queues
  // it without limit; QoS 1 / 2 messages beyond its in-flight window wait in its memory too, also
  // without limit. backlog() counts, while connected, the larger of the messages queued since the socket
  // last drained and the QoS 1 / 2 messages not yet acknowledged (0 when both are empty); a publisher
  // faster than the broker holds back while it is high and goes on when on_drain() is called (after the
  // queue emptied and everything was acknowledged, or the connection was lost, from when on publishing
  // goes to the bounded outbox).
  std::size_t backlog() const noexcept;
  void on_drain(DoneCallback callback);

  // From now on QoS 1 / 2 messages go through `spool` (a durable PublishQueue, mqtt/spool.hpp) as
  // Options::spool says: appended before they are published (mode "always"; "outage": only while they
  // cannot be handed out at once), at most Options::spool.window of them handed to libmosquitto and
  // unacknowledged, released when acknowledged. QoS 0 messages keep the memory outbox. backlog() counts
  // the spool's unsent messages while connected. A clean stop keeps what the spool holds. The spool must
  // outlive the session (or the `done` of shutdown()). Call before start().
  void use_spool(PublishQueue& spool);

 private:
  class Core;
  explicit Session(Core* core) noexcept : core_(core) {}
  void release() noexcept;

  // Owned; see ~Session for why this is not a unique_ptr.
  Core* core_ = nullptr;
};

}  // namespace fg::mqtt
