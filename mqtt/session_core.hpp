#pragma once
// Private to mqtt/: Session::Core, the session's state and machinery, shared by the files that
// implement it along its seams:
//   session.cpp           creation, the public face, the state machine (settle), subscriptions
//   session_connect.cpp   an attempt: resolving, address rotation, TCP, TLS, CONNACK; losses, backoff
//   session_publish.cpp   publishing from the PublishQueue, in-flight tracking, flow control
//   session_shutdown.cpp  the clean shutdown: final message, draining, DISCONNECT, closing handles
//   session_reconfigure.cpp  new options while running: draining, DISCONNECT, connecting with them
// Not included by any public header (it includes <mosquitto.h>).

#include <mosquitto.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "loop/poll.hpp"
#include "loop/timer.hpp"
#include "mqtt/backoff.hpp"
#include "mqtt/c_resources.hpp"
#include "mqtt/outbox.hpp"
#include "mqtt/publish_queue.hpp"
#include "mqtt/session.hpp"

namespace fg::mqtt {
namespace detail {

using namespace std::chrono_literals;

constexpr std::size_t kMaxPayload = 268'435'455;  // MQTT's largest remaining length
// How often mosquitto_loop_misc checks the keepalive while connected: a quarter of the keepalive (7.5 s at
// the default 30 s), at least a second, none when keepalive is off (the check does nothing else). The
// broker closes a silent client after 1.5 keepalives, and the check sends PINGREQ at most a quarter late;
// a broker gone silent is noticed within 1.25 keepalives of that PINGREQ (2.5 of the last packet). A check
// every second, as before, cost an idle gateway a wake-up a second for nothing (docs/benchmarks.md).
std::chrono::milliseconds misc_interval(std::chrono::seconds keepalive);

std::error_code invalid();
bool valid_mqtt_string(std::string_view s);
bool valid_qos(Qos qos);
std::error_code check_topic(std::string_view topic);
std::error_code check_filter(std::string_view filter);
std::error_code check_publication(const Publication& message);
// libmosquitto return values that say the connection is broken, not that the message is bad.
bool is_transport_error(int rc);

// Calls a user callback; an exception stops here, because the callers are C callbacks (DESIGN.md rule 3).
template <typename F, typename... Args>
void invoke_user(std::uint64_t& errors, const F& callback, Args&&... args) noexcept {
  if (!callback) {
    return;
  }
  try {
    callback(std::forward<Args>(args)...);
  } catch (...) {
    ++errors;
  }
}

}  // namespace detail

// The rule that keeps re-entrancy simple: libmosquitto callbacks only record facts (a CONNACK result,
// a lost connection) and deliver messages; the state machine acts on the facts in settle(), after the
// libmosquitto call has returned. Every entry from the loop (poll, timers, resolver) and every public
// call goes through enter(), which settles at the outermost level and reaps the Core if the Session was
// destroyed meanwhile.
class Session::Core {
 public:
  enum class Phase {
    idle,           // start() not called
    resolving,      // uv_getaddrinfo running
    connecting,     // libmosquitto connecting: TCP, TLS, CONNECT, waiting for CONNACK
    connected,      // CONNACK accepted
    waiting,        // between attempts (backoff timer, or the next address of this round)
    reconfiguring,  // reconfigure() while connected: new messages wait, acknowledgements are awaited
    reconnecting,   // reconfigure(): DISCONNECT sent; the new options apply when the socket closes
    draining,       // shutdown(): waiting for acknowledgements
    disconnecting,  // shutdown(): DISCONNECT sent, waiting for libmosquitto to close
    finishing,      // shutdown(): the final step is scheduled
    closed,         // everything closed
  };

  Core(loop::Loop& loop, Options options)
      : loop_(loop),
        options_(std::move(options)),
        backoff_(options_.reconnect.initial, options_.reconnect.max, options_.reconnect.jitter_seed),
        queue_(std::make_unique<Outbox>(options_.outbox_limit)),
        misc_timer_(loop),
        retry_timer_(loop),
        connect_timer_(loop),
        shutdown_timer_(loop),
        finish_timer_(loop) {}

  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  ~Core() {
    message_callback_ = nullptr;
    state_callback_ = nullptr;
    log_callback_ = nullptr;
    done_callback_ = nullptr;
    cancel_resolution();
    detach_poll();
    // Destroying the instance closes its socket without a DISCONNECT: the broker publishes the will.
    mosq_.reset();
  }

  std::error_code init(const std::string& password);

  // Runs `f` as an entry into the Core: settles afterwards at the outermost level, and deletes the
  // Core there if the Session was destroyed inside `f` (by a user callback).
  template <typename F>
  void enter(F&& f) {
    ++depth_;
    f();
    if (depth_ == 1 && !orphaned_) {
      settle();
    }
    if (--depth_ == 0 && orphaned_) {
      delete this;
    }
  }

  // The Session was destroyed while an entry is running: stop calling the user, let enter() reap.
  void orphan() noexcept {
    orphaned_ = true;
    message_callback_ = nullptr;
    state_callback_ = nullptr;
    log_callback_ = nullptr;
    done_callback_ = nullptr;
    drain_callback_ = nullptr;
  }
  bool busy() const noexcept { return depth_ > 0; }

  // Public operations (called inside enter()).
  std::error_code start();
  std::error_code publish(Publication message);
  std::error_code subscribe(std::string_view filter, Qos qos);
  std::error_code unsubscribe(std::string_view filter);
  std::error_code shutdown(std::chrono::milliseconds timeout, std::optional<Publication> final_message,
                           DoneCallback done);
  // Options validated and the password read by Session::reconfigure.
  std::expected<bool, std::error_code> reconfigure(Options options, std::string password);

  State state() const noexcept;
  const Counters& counters() const noexcept { return counters_; }
  std::size_t outbox_size() const noexcept { return queue_->size(); }
  const QosCounts& discarded() const noexcept { return discarded_; }
  std::size_t in_flight() const noexcept { return in_flight_.size(); }
  // QoS 1 / 2 messages beyond the in-flight window (SpoolSettings::window unacknowledged) wait in its memory
  // without wanting the socket, so a broker slower than the publisher shows up in the unacknowledged
  // count, not in backlog_. Only while connected: without a connection, publishing goes to the bounded
  // queue instead.
  std::size_t backlog() const noexcept {
    return phase_ == Phase::connected ? std::max({backlog_, in_flight_.size(), spool_waiting()}) : backlog_;
  }
  std::size_t spool_waiting() const noexcept { return spool_ != nullptr ? spool_->size() : 0; }
  void use_spool(PublishQueue& spool) { spool_ = &spool; }

  MessageCallback message_callback_;
  StateCallback state_callback_;
  LogCallback log_callback_;
  DoneCallback drain_callback_;
  // Messages handed to libmosquitto while its output was backed up (the socket full); 0 once it drained.
  std::size_t backlog_ = 0;
  bool drained_ = false;  // the backlog went back to 0: report it from settle()

  // Sets the log callback and (un)registers libmosquitto's, which costs a formatted line per packet.
  void set_log_callback(LogCallback callback) {
    log_callback_ = std::move(callback);
    update_log_callback();
  }
  // libmosquitto's log is listened to when the user asks for it, and while an attempt is under way
  // (its few lines then explain a failed TLS handshake).
  // Cheap when nothing changes, so settle() calls it after every entry.
  void update_log_callback() {
    const bool wanted = log_callback_ || phase_ == Phase::connecting;
    if (mosq_ && wanted != log_registered_) {
      mosquitto_log_callback_set(mosq_.get(), wanted ? &Core::on_log : nullptr);
      log_registered_ = wanted;
    }
  }

 private:
  enum class Sent { ok, transport_error, rejected };

  // libmosquitto callbacks (userdata is the Core).
  static void on_connect(mosquitto*, void* self, int rc, int flags, const mosquitto_property*) noexcept;
  static void on_disconnect(mosquitto*, void* self, int rc, const mosquitto_property*) noexcept;
  static void on_publish(mosquitto*, void* self, int mid, int reason, const mosquitto_property*) noexcept;
  static void on_message(mosquitto*, void* self, const mosquitto_message* msg,
                         const mosquitto_property*) noexcept;
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                           const mosquitto_property*) noexcept;
  static void on_log(mosquitto*, void* self, int level, const char* text) noexcept;
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) noexcept;

  void settle();
  void begin_attempt();
  void resolved(int status, addrinfo* result);
  void connect_next();
  void on_poll(std::error_code status, loop::PollEvents events);
  void on_connected();
  void handle_lost(std::error_code reason);
  void attempt_failed(std::error_code reason);
  void schedule_retry(std::error_code reason);
  void on_retry();
  void disconnect_now();
  void schedule_finish();
  void finish();
  void resubscribe();
  // session_reconfigure.cpp
  void disconnect_to_reconfigure();
  void reconnect_reconfigured();
  std::error_code take_pending_options();
  // The protocol version, user name and password of options_ / password_, into the instance.
  std::error_code apply_settings();
  void flush_queue();
  // Hands spooled messages to libmosquitto while the window has room (session_publish.cpp).
  void flush_spool();
  bool window_open() const noexcept { return in_flight_.size() < options_.spool.window; }
  // Whether a message of `qos` may go out now: the window has room and, for QoS 2, fewer than
  // kQos2Window QoS 2 messages wait for their PUBCOMP.
  bool window_open_for(Qos qos) const noexcept {
    return window_open() && (qos != Qos::exactly_once || qos2_in_flight_ < kQos2Window);
  }
  // A broker counts QoS 2 messages it has received and not yet released (PUBREL) against its receive
  // quota: mosquitto's is max_inflight_messages, 20 by default, and a 3.1.1 client beyond it is
  // disconnected (PUBREC "quota exceeded" cannot be said in 3.1.1). Seen when a spooled backlog of QoS 2
  // readings drained after an outage with the window at 200. QoS 1 messages leave the broker's count at
  // once, so the larger window stays for them. But a QoS 1 message takes a slot of that quota too, for
  // the moment until its PUBACK: with 20 QoS 2 messages unreleased, mosquitto 2.0.11 refused the birth
  // message after a reconnect (PUBACK 151) and dropped the client, and since the same 20 were resent
  // first at every connect, the gateway never got through (seen in the QoS 2 e2e test, ~1 run in 40
  // under load). So one slot stays free for QoS 1 messages.
  static constexpr std::size_t kQos2Window = 19;
  // Hands `message` to libmosquitto; `sent_mid` receives its message id when it is QoS 1 / 2 (else 0).
  Sent send_now(const Publication& message, std::error_code* refusal = nullptr, int* sent_mid = nullptr);
  void update_interest();
  void abandon_socket();
  void detach_poll() noexcept;
  void cancel_resolution() noexcept;
  bool socket_alive() const noexcept { return poll_ && mosquitto_socket(mosq_.get()) == poll_->fd(); }
  void notify(State state, std::error_code reason = {},
              std::chrono::milliseconds retry_in = std::chrono::milliseconds(0), std::string detail = {});

  template <typename Method>
  std::function<void()> entry(Method method) {
    return [this, method] { enter([&] { (this->*method)(); }); };
  }

  loop::Loop& loop_;
  Options options_;
  std::string password_;  // read from options_.password_file when the options were given
  // reconfigure(): the options (and their password) that take over when the connection has closed.
  std::optional<std::pair<Options, std::string>> pending_options_;
  detail::MosquittoPtr mosq_;
  Backoff backoff_;
  // Where messages wait for the broker; the session publishes from it in order (mqtt/publish_queue.hpp).
  std::unique_ptr<PublishQueue> queue_;
  // The durable queue of QoS 1 / 2 messages (use_spool()), or nullptr: then they use queue_ too.
  PublishQueue* spool_ = nullptr;
  // What shutdown gave up (waiting, or handed to libmosquitto and not acknowledged), by QoS.
  QosCounts discarded_;
  int final_mid_ = 0;  // shutdown()'s final message, which is not counted in discarded_
  Counters counters_;
  Phase phase_ = Phase::idle;

  // Remembered subscriptions, in the order they were made.
  std::vector<std::pair<std::string, Qos>> subscriptions_;
  // Message ids (and QoS) of QoS 1 / 2 messages handed to libmosquitto and not yet acknowledged.
  std::unordered_map<int, Qos> in_flight_;
  std::size_t qos2_in_flight_ = 0;  // of in_flight_

  // The current round of attempts: the addresses to try, one after the other, before backing off.
  std::vector<std::string> addresses_;
  std::size_t next_address_ = 0;
  // Owned by libuv from uv_getaddrinfo until its callback, which frees it; nullptr when none runs.
  uv_getaddrinfo_t* resolving_ = nullptr;
  std::optional<loop::Poll> poll_;
  bool tcp_established_ = false;
  bool write_suspended_ = false;
  bool ever_connected_ = false;
  std::chrono::milliseconds connected_since_{0};
  // Connections in a row that the broker ended before they had lasted reconnect.stable_after. Two
  // clients with one client id (a second gateway booted from a copy of this SD card has our host name,
  // so our id) take the connection from each other again and again; from the third such loss on, each
  // disconnection says so (takeover_hint in session_connect.cpp).
  int ended_early_in_a_row_ = 0;

  // Facts recorded by libmosquitto callbacks for settle().
  std::optional<int> connack_;           // CONNACK result as an MQTT 5 reason code
  std::optional<std::error_code> lost_;  // the connection ended (empty code: our DISCONNECT)
  std::error_code refusal_;              // a refused CONNACK, the better reason for the loss after it
  int last_rc_ = MOSQ_ERR_SUCCESS;       // what the last libmosquitto call returned
  // libmosquitto's error lines of the current attempt: the only place a TLS failure is explained
  // ("certificate verify failed", "host name verification failed"). Collected while connecting even
  // when nobody asked for the log, and made the detail of the failure (StateChange::detail).
  std::vector<std::string> attempt_errors_;
  std::string failure_detail_;
  bool log_registered_ = false;

  loop::Timer misc_timer_;   // mosquitto_loop_misc every misc_interval() while connected (keepalive)
  loop::Timer retry_timer_;  // the next attempt
  loop::Timer
      connect_timer_;  // the limit of one attempt, or of the wait for acknowledgements of reconfigure()
  loop::Timer shutdown_timer_;  // the limit of shutdown()
  loop::Timer finish_timer_;    // runs the final step of shutdown() from the loop
  DoneCallback done_callback_;

  int depth_ = 0;
  bool orphaned_ = false;
};

}  // namespace fg::mqtt
