#include <arpa/inet.h>
#include <mqtt_protocol.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loop/error.hpp"
#include "mqtt/session_core.hpp"

// Session::Core, connecting: one attempt is resolve the host (libuv's thread pool), try its addresses in
// turn, TCP connect, TLS handshake, CONNECT, CONNACK; a loss or a failed round backs off and tries
// again. docs/mqtt.md ("Connecting", "Reconnecting") tells the decisions.

namespace fg::mqtt {
namespace {

using namespace detail;
using loop::PollEvents;

bool is_numeric_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// The pending error of a socket (SO_ERROR), which also clears it.
int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return errno;
  }
  return err;
}

// libmosquitto's error lines of a failed attempt, shortened to their reasons and joined:
// "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed" says "certificate verify
// failed", "Error: host name verification failed." says "host name verification failed".
std::string explain_failure(const std::vector<std::string>& lines) {
  std::vector<std::string> reasons;
  for (std::string_view line : lines) {
    if (line.starts_with("OpenSSL Error")) {
      line.remove_prefix(std::min(line.size(), line.rfind(':') + 1));
    } else if (line.starts_with("Error: ")) {
      line.remove_prefix(7);
    }
    while (!line.empty() && (line.back() == '.' || line.back() == ' ' || line.back() == '\n')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && line.front() == ' ') {
      line.remove_prefix(1);
    }
    if (!line.empty() && std::find(reasons.begin(), reasons.end(), line) == reasons.end()) {
      reasons.emplace_back(line);
    }
  }
  std::string text;
  for (const auto& reason : reasons) {
    text += (text.empty() ? "" : "; ") + reason;
  }
  return text;
}

// How many connections in a row the broker may end early before the disconnection names the likely
// cause: one or two are a broker restart or a network hiccup.
constexpr int kTakeoverSuspicion = 3;

// Whether the broker ended the connection: it closed the socket (MQTT 3.1.1 says no more), reset it
// (closed with our last packet still unread: a gateway publishes its birth message right after
// CONNACK), or said DISCONNECT with "session taken over" (MQTT 5).
bool ended_by_broker(std::error_code reason) {
  return reason == make_error_code(MosquittoErrc::conn_lost) || reason == std::errc::connection_reset ||
         reason == std::errc::broken_pipe || reason == make_error_code(ReasonCode::session_taken_over);
}

std::string takeover_hint(int times, std::chrono::milliseconds stable_after, const std::string& client_id) {
  const std::string within = stable_after.count() % 1000 == 0
                                 ? std::to_string(stable_after.count() / 1000) + " s"
                                 : std::to_string(stable_after.count()) + " ms";
  return "the broker ended the connection " + std::to_string(times) + " times in a row, each within " +
         within + " of accepting it: is another client connected as \"" + client_id +
         "\"? Two gateways with one [gateway] id (a copy of this SD card has the same host name) take "
         "the connection from each other; give each its own id or [mqtt] client_id";
}

}  // namespace

void Session::Core::on_retry() {
  if (phase_ != Phase::waiting) {
    return;
  }
  if (next_address_ < addresses_.size()) {
    connect_next();
  } else {
    begin_attempt();
  }
}

void Session::Core::begin_attempt() {
  addresses_.clear();
  next_address_ = 0;
  if (!mosq_) {
    // reconfigure() could not make its new instance (out of memory): try again with each attempt.
    if (auto ec = init(password_)) {
      phase_ = Phase::connecting;
      attempt_failed(ec);
      return;
    }
  }
  if (is_numeric_address(options_.host)) {
    addresses_.push_back(options_.host);
    connect_next();
    return;
  }
  // mosquitto_connect would resolve the name with a blocking getaddrinfo on the loop thread; libuv's
  // resolver runs it on the thread pool instead.
  auto* req = new uv_getaddrinfo_t{};
  req->data = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: glibc ignores loopback addresses for it, so on a board whose only configured
  // interface is lo (no network yet, or a broker on the same host) it would make "localhost" unknown.
  int status = uv_getaddrinfo(loop_.raw(), req, &Core::on_resolved, options_.host.c_str(), nullptr, &hints);
  if (status < 0) {
    delete req;
    phase_ = Phase::connecting;  // so attempt_failed counts it as a failed attempt
    attempt_failed(loop::uv_error(status));
    return;
  }
  resolving_ = req;
  phase_ = Phase::resolving;
}

void Session::Core::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) noexcept {
  detail::AddrInfoPtr owned(result);
  auto* self = static_cast<Core*>(req->data);
  delete req;
  if (self == nullptr) {
    return;  // abandoned by cancel_resolution()
  }
  self->resolving_ = nullptr;
  self->enter([&] { self->resolved(status, result); });
}

void Session::Core::resolved(int status, addrinfo* result) {
  if (phase_ != Phase::resolving) {
    return;
  }
  phase_ = Phase::connecting;
  if (status < 0) {
    attempt_failed(loop::uv_error(status));
    return;
  }
  if (options_.tls && !options_.tls->insecure) {
    // libmosquitto checks the broker's certificate against the string given to mosquitto_connect (and
    // sends it as the TLS SNI name), so a numeric address would fail for a certificate that names the
    // host. Give it the name: it then repeats the lookup itself, synchronously. Our lookup has just
    // succeeded, so that second one is normally answered from the resolver's cache; docs/mqtt.md
    // states the limit.
    addresses_.push_back(options_.host);
  } else {
    for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      int rc = ai->ai_family == AF_INET
                   ? uv_ip4_name(reinterpret_cast<const sockaddr_in*>(ai->ai_addr), text, sizeof text)
               : ai->ai_family == AF_INET6
                   ? uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(ai->ai_addr), text, sizeof text)
                   : UV_EAFNOSUPPORT;
      if (rc == 0 && std::find(addresses_.begin(), addresses_.end(), text) == addresses_.end()) {
        addresses_.emplace_back(text);
      }
    }
  }
  if (addresses_.empty()) {
    attempt_failed(loop::uv_error(UV_EAI_NONAME));
    return;
  }
  connect_next();
}

void Session::Core::connect_next() {
  const std::string& address = addresses_[next_address_++];
  mosquitto* m = mosq_.get();
  detach_poll();  // libmosquitto closes the previous socket in mosquitto_connect_async
  phase_ = Phase::connecting;
  attempt_errors_.clear();
  update_log_callback();
  tcp_established_ = false;
  write_suspended_ = false;
  connack_.reset();
  lost_.reset();
  refusal_.clear();
  // The will is part of the CONNECT packet, so it is (re)set before every connect.
  int rc = options_.will ? mosquitto_will_set(m, options_.will->topic.c_str(),
                                              static_cast<int>(options_.will->payload.size()),
                                              options_.will->payload.data(),
                                              static_cast<int>(options_.will->qos), options_.will->retain)
                         : mosquitto_will_clear(m);
  if (rc != MOSQ_ERR_SUCCESS) {
    attempt_failed(mosquitto_error(rc));
    return;
  }
  // mosquitto_connect_async makes a non-blocking socket and connect()s it; "in progress" counts as
  // success and the CONNECT packet waits in libmosquitto's queue until the socket is writable. A
  // previous socket (an abandoned attempt) is closed here by libmosquitto. A connection refused at
  // once (loopback) comes back as MOSQ_ERR_ERRNO with errno set.
  errno = 0;
  rc = mosquitto_connect_async(m, address.c_str(), options_.port,
                               static_cast<int>(options_.keepalive.count()));
  int err = errno;
  last_rc_ = rc;
  if (rc != MOSQ_ERR_SUCCESS) {
    attempt_failed(rc == MOSQ_ERR_ERRNO && err != 0 ? loop::errno_error(err) : mosquitto_error(rc));
    return;
  }
  // The descriptor is new after every connect: a new Poll for it.
  auto poll = loop::Poll::create(loop_, mosquitto_socket(m));
  if (!poll) {
    attempt_failed(poll.error());
    return;
  }
  poll_.emplace(std::move(*poll));
  auto callback = [this](std::error_code status, PollEvents events) {
    enter([&] { on_poll(status, events); });
  };
  if (auto ec =
          poll_->start(PollEvents::readable | PollEvents::writable | PollEvents::disconnect, callback)) {
    attempt_failed(ec);
    return;
  }
  connect_timer_.start(options_.reconnect.connect_timeout, [this] {
    enter([&] {
      if (phase_ == Phase::connecting) {
        attempt_failed(std::make_error_code(std::errc::timed_out));
      }
    });
  });
}

void Session::Core::on_poll(std::error_code status, PollEvents events) {
  if (!socket_alive()) {
    return;  // settle() deals with a socket libmosquitto closed
  }
  mosquitto* m = mosq_.get();
  const bool connecting = phase_ == Phase::connecting;
  if (connecting) {
    // A failed connect shows as POLLERR (libuv then reports EBADF and stops the poll) or as readiness;
    // SO_ERROR says which error it was. libmosquitto would not notice during a TLS handshake: OpenSSL
    // reports the failed read as SSL_ERROR_SYSCALL, which libmosquitto treats as "try again".
    if (int err = socket_error(poll_->fd())) {
      attempt_failed(loop::errno_error(err));
      return;
    }
    if (status) {
      attempt_failed(status);
      return;
    }
    tcp_established_ = true;
  } else if (status) {
    // POLLERR on an established connection (reset): let libmosquitto read the error, so it closes the
    // socket and reports the loss itself; make sure the loss is noticed if it does not.
    last_rc_ = mosquitto_loop_read(m, 1);
    if (!lost_ && socket_alive()) {
      int err = socket_error(poll_->fd());
      lost_ = err != 0 ? loop::errno_error(err) : status;
    }
    return;
  }
  const bool readable = has(events, PollEvents::readable | PollEvents::disconnect);
  const bool writable = has(events, PollEvents::writable);
  // During the TLS handshake libmosquitto advances it from mosquitto_loop_read only (its own select()
  // loop does the same when the socket turns writable), so call it for writability too.
  if (readable || (connecting && writable)) {
    last_rc_ = mosquitto_loop_read(m, 1);
    if (readable) {
      write_suspended_ = false;
    }
    if (readable && !connecting && !in_flight_.empty() && socket_alive()) {
      // A broker without TCP_NODELAY (mosquitto's default) holds each small PUBACK back until we have
      // acknowledged its previous segment at the TCP level, and Linux delays that ACK (up to 40 ms) when
      // we have nothing to send, as when the window of unacknowledged messages is full: QoS 1 then
      // arrives in batches. TCP_QUICKACK (which the kernel clears again by itself) sends it at once.
      int one = 1;
      (void)::setsockopt(poll_->fd(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
  }
  if (writable && socket_alive()) {
    last_rc_ = mosquitto_loop_write(m, 1);
    if (backlog_ > 0 && !mosquitto_want_write(m)) {
      backlog_ = 0;
      drained_ = true;  // reported after libmosquitto's calls, like every other event
    }
    // libmosquitto keeps its "TLS wants to write" flag after the handshake has moved on to reading,
    // so before CONNACK a writable socket could wake us again and again with nothing to write. If a
    // write opportunity left the wish unchanged, wait for the broker's next bytes before asking again.
    if (connecting && mosquitto_want_write(m)) {
      write_suspended_ = true;
    }
  }
  if (connecting && has(events, PollEvents::disconnect) && socket_alive() && !connack_ && !lost_) {
    // The broker closed the connection during the handshake; libmosquitto may not report it (see above).
    attempt_failed(make_error_code(MosquittoErrc::conn_lost));
  }
}

void Session::Core::update_interest() {
  if (!socket_alive()) {
    return;
  }
  // Writability is wanted while the TCP connect is in progress (it completes with writability), and
  // afterwards when libmosquitto has something to write (see on_poll for the suspension).
  const bool connecting = phase_ == Phase::connecting;
  const bool writable = (connecting && !tcp_established_) ||
                        (mosquitto_want_write(mosq_.get()) && !(connecting && write_suspended_));
  auto wanted = PollEvents::readable | PollEvents::disconnect;
  if (writable) {
    wanted = wanted | PollEvents::writable;
  }
  if (wanted != poll_->events()) {
    if (auto ec = poll_->set_events(wanted)) {
      lost_ = ec;
    }
  }
}

void Session::Core::on_connected() {
  connect_timer_.stop();
  phase_ = Phase::connected;
  failure_detail_.clear();
  connected_since_ = loop_.now();
  write_suspended_ = false;
  addresses_.clear();
  next_address_ = 0;
  ++counters_.connects;
  if (ever_connected_) {
    ++counters_.reconnects;
  }
  ever_connected_ = true;
  if (const auto interval = misc_interval(options_.keepalive); interval.count() != 0) {
    misc_timer_.start(
        interval,
        [this] {
          enter([&] {
            if ((phase_ == Phase::connected || phase_ == Phase::draining || phase_ == Phase::reconfiguring) &&
                socket_alive()) {
              // Sends PINGREQ when due, and closes the connection (on_disconnect with MOSQ_ERR_KEEPALIVE)
              // when the broker has not answered within the keepalive.
              last_rc_ = mosquitto_loop_misc(mosq_.get());
            }
          });
        },
        interval);
  }
  // Order on the wire after a connect: the subscriptions (sent from on_connect), libmosquitto's
  // retransmissions of unacknowledged QoS 1 / 2 messages, the birth message, then the queue.
  if (options_.birth && send_now(*options_.birth) == Sent::rejected) {
    ++counters_.rejected;
  }
  flush_queue();
  notify(State::connected);
}

void Session::Core::handle_lost(std::error_code reason) {
  detach_poll();
  queue_->connection_lost();
  // Whatever libmosquitto still held for the socket is not being written any more; from now on
  // publishing goes to the bounded outbox, so whoever held back may go on.
  if (backlog_ > 0 || !in_flight_.empty() || spool_waiting() > 0) {  // counted only while connected
    backlog_ = 0;
    drained_ = true;
  }
  misc_timer_.stop();
  switch (phase_) {
    case Phase::connecting:
      attempt_failed(reason);
      break;
    case Phase::connected: {
      const auto why = reason ? reason : make_error_code(MosquittoErrc::conn_lost);
      if (loop_.now() - connected_since_ >= options_.reconnect.stable_after) {
        backoff_.reset();
        ended_early_in_a_row_ = 0;
      } else if (ended_by_broker(why) && ++ended_early_in_a_row_ >= kTakeoverSuspicion) {
        failure_detail_ =
            takeover_hint(ended_early_in_a_row_, options_.reconnect.stable_after, options_.client_id);
      }
      schedule_retry(why);
      break;
    }
    case Phase::reconfiguring:
    case Phase::reconnecting:
      // Our DISCONNECT for reconfigure(), or a loss while waiting for it: either way, on with the new
      // options at once.
      reconnect_reconfigured();
      break;
    case Phase::draining:
    case Phase::disconnecting:
      // Lost before the acknowledgements came (the broker will publish the will), or the end of our
      // own DISCONNECT (it will not).
      schedule_finish();
      break;
    default:
      break;  // a late report about a socket already given up
  }
}

void Session::Core::attempt_failed(std::error_code reason) {
  abandon_socket();
  failure_detail_ = explain_failure(attempt_errors_);
  connect_timer_.stop();
  ++counters_.connect_failures;
  if (next_address_ < addresses_.size()) {
    // Another address of this round (a name with IPv6 and IPv4 addresses): try it at once.
    phase_ = Phase::waiting;
    retry_timer_.start(0ms, entry(&Core::on_retry));
    return;
  }
  schedule_retry(reason);
}

void Session::Core::schedule_retry(std::error_code reason) {
  addresses_.clear();
  next_address_ = 0;
  phase_ = Phase::waiting;
  auto delay = backoff_.next();
  retry_timer_.start(delay, entry(&Core::on_retry));
  notify(State::disconnected, reason, delay, std::exchange(failure_detail_, {}));
}

void Session::Core::abandon_socket() {
  int fd = mosquitto_socket(mosq_.get());
  detach_poll();
  if (fd >= 0) {
    // libmosquitto still owns the descriptor (it closes it on the next connect or on destroy);
    // shutdown() ends the TCP connection now so the broker does not wait for it.
    ::shutdown(fd, SHUT_RDWR);
  }
}

void Session::Core::detach_poll() noexcept {
  if (poll_) {
    poll_->detach();
    poll_.reset();
  }
}

void Session::Core::cancel_resolution() noexcept {
  if (resolving_ != nullptr) {
    // The request stays libuv's until its callback, which then finds no owner and only frees it.
    resolving_->data = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(resolving_));
    resolving_ = nullptr;
  }
}

// ---- libmosquitto callbacks of the connection: record facts, act no further than closing the Poll ---

void Session::Core::on_connect(mosquitto*, void* self, int rc, int, const mosquitto_property*) noexcept {
  auto* core = static_cast<Core*>(self);
  int reason = core->options_.protocol == Protocol::v5 ? rc : reason_from_connack_v311(rc);
  core->connack_ = reason;
  if (reason == 0) {
    // Subscribing here puts the SUBSCRIBE packets before libmosquitto's retransmissions, which it
    // queues right after this callback returns.
    core->resubscribe();
  }
}

void Session::Core::on_disconnect(mosquitto*, void* self, int rc, const mosquitto_property*) noexcept {
  int err = errno;  // meaningful for MOSQ_ERR_ERRNO
  auto* core = static_cast<Core*>(self);
  // libmosquitto has closed the socket already (or is about to, right after this callback): the Poll
  // goes now, before anything can open a descriptor with the same number.
  core->detach_poll();
  if (core->lost_) {
    // One read can report a loss twice: an MQTT 5 DISCONNECT from the broker (with its reason code),
    // then the closed socket (MOSQ_ERR_CONN_LOST). The first report names the cause.
    return;
  }
  if (rc == MOSQ_ERR_ERRNO) {
    core->lost_ = err != 0 ? loop::errno_error(err) : mosquitto_error(rc);
  } else if (rc >= 0x80) {
    core->lost_ = reason_error(rc);  // MQTT 5: the broker's DISCONNECT reason code
  } else {
    core->lost_ = mosquitto_error(rc);
  }
}

}  // namespace fg::mqtt
