#include "mqtt/session.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mqtt_protocol.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "loop/error.hpp"
#include "loop/poll.hpp"
#include "loop/timer.hpp"
#include "loop/unique_fd.hpp"
#include "mqtt/backoff.hpp"
#include "mqtt/c_resources.hpp"
#include "mqtt/outbox.hpp"
#include "mqtt/secret_file.hpp"

namespace fg::mqtt {
namespace {

using namespace std::chrono_literals;
using loop::PollEvents;

constexpr std::size_t kMaxPayload = 268'435'455;  // MQTT's largest remaining length
constexpr auto kMiscInterval = 1000ms;

void init_library_once() {
  // mosquitto_lib_init must run once per process before any instance exists, and is not thread safe:
  // a function-local static is initialised exactly once. mosquitto_lib_cleanup is never called, since
  // other sessions may live until exit.
  static const int status = mosquitto_lib_init();
  (void)status;
}

bool is_numeric_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::error_code invalid() {
  return std::make_error_code(std::errc::invalid_argument);
}

// MQTT strings: UTF-8, no U+0000, at most 65535 bytes.
bool valid_mqtt_string(std::string_view s) {
  return s.size() <= 65535 && s.find('\0') == std::string_view::npos &&
         mosquitto_validate_utf8(s.data(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
}

bool valid_qos(Qos qos) {
  return static_cast<int>(qos) >= 0 && static_cast<int>(qos) <= 2;
}

std::error_code check_topic(std::string_view topic) {
  if (topic.empty() || !valid_mqtt_string(topic) ||
      mosquitto_pub_topic_check2(topic.data(), topic.size()) != MOSQ_ERR_SUCCESS) {
    return invalid();
  }
  return {};
}

std::error_code check_filter(std::string_view filter) {
  if (filter.empty() || !valid_mqtt_string(filter) ||
      mosquitto_sub_topic_check2(filter.data(), filter.size()) != MOSQ_ERR_SUCCESS) {
    return invalid();
  }
  return {};
}

std::error_code check_publication(const Publication& message) {
  if (auto ec = check_topic(message.topic)) {
    return ec;
  }
  if (!valid_qos(message.qos)) {
    return invalid();
  }
  if (message.payload.size() > kMaxPayload) {
    return std::make_error_code(std::errc::message_size);
  }
  return {};
}

// Opens a file only to learn whether it can be read, so a missing CA file is reported at create() as
// "No such file or directory" rather than as libmosquitto's bare MOSQ_ERR_INVAL.
std::error_code check_readable(const std::filesystem::path& path) {
  loop::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  return fd ? std::error_code() : loop::errno_error();
}

// libmosquitto return values that say the connection is broken, not that the message is bad. A QoS 1 / 2
// message that meets one of these is already queued inside libmosquitto (mosquitto_publish queues
// before it writes), and libmosquitto sends it again after the next connect.
bool is_transport_error(int rc) {
  switch (rc) {
    case MOSQ_ERR_NO_CONN:
    case MOSQ_ERR_CONN_LOST:
    case MOSQ_ERR_ERRNO:
    case MOSQ_ERR_TLS:
    case MOSQ_ERR_KEEPALIVE:
    case MOSQ_ERR_EAI:
      return true;
    default:
      return false;
  }
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

LogLevel log_level(int level) {
  switch (level) {
    case MOSQ_LOG_ERR:
      return LogLevel::error;
    case MOSQ_LOG_WARNING:
      return LogLevel::warning;
    case MOSQ_LOG_NOTICE:
      return LogLevel::notice;
    case MOSQ_LOG_INFO:
      return LogLevel::info;
    default:
      return LogLevel::debug;
  }
}

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

}  // namespace

const char* to_string(State state) noexcept {
  switch (state) {
    case State::idle:
      return "idle";
    case State::connecting:
      return "connecting";
    case State::connected:
      return "connected";
    case State::disconnected:
      return "disconnected";
    case State::closing:
      return "closing";
    case State::closed:
      return "closed";
  }
  return "?";
}

// The Session's state and machinery. It lives on the heap at a stable address, because libmosquitto,
// the Poll, the Timers and the resolver request all hold a pointer to it.
//
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
    draining,       // shutdown(): waiting for acknowledgements
    disconnecting,  // shutdown(): DISCONNECT sent, waiting for libmosquitto to close
    finishing,      // shutdown(): the final step is scheduled
    closed,         // everything closed
  };

  Core(loop::Loop& loop, Options options)
      : loop_(loop),
        options_(std::move(options)),
        backoff_(options_.reconnect.initial, options_.reconnect.max, options_.reconnect.jitter_seed),
        outbox_(options_.outbox_limit),
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

  State state() const noexcept;
  const Counters& counters() const noexcept { return counters_; }
  std::size_t outbox_size() const noexcept { return outbox_.size(); }
  std::size_t in_flight() const noexcept { return in_flight_.size(); }

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
    if (mosq_) {
      mosquitto_log_callback_set(mosq_.get(), log_callback_ ? &Core::on_log : nullptr);
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
  void on_poll(std::error_code status, PollEvents events);
  void on_connected();
  void handle_lost(std::error_code reason);
  void attempt_failed(std::error_code reason);
  void schedule_retry(std::error_code reason);
  void on_retry();
  void disconnect_now();
  void schedule_finish();
  void finish();
  void resubscribe();
  void flush_outbox();
  Sent send_now(const Publication& message, std::error_code* refusal = nullptr);
  void update_interest();
  void abandon_socket();
  void detach_poll() noexcept;
  void cancel_resolution() noexcept;
  bool socket_alive() const noexcept { return poll_ && mosquitto_socket(mosq_.get()) == poll_->fd(); }
  void notify(State state, std::error_code reason = {}, std::chrono::milliseconds retry_in = 0ms);

  template <typename Method>
  std::function<void()> entry(Method method) {
    return [this, method] { enter([&] { (this->*method)(); }); };
  }

  loop::Loop& loop_;
  Options options_;
  detail::MosquittoPtr mosq_;
  Backoff backoff_;
  Outbox outbox_;
  Counters counters_;
  Phase phase_ = Phase::idle;

  // Remembered subscriptions, in the order they were made.
  std::vector<std::pair<std::string, Qos>> subscriptions_;
  // Message ids of QoS 1 / 2 messages handed to libmosquitto and not yet acknowledged.
  std::unordered_set<int> in_flight_;

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

  // Facts recorded by libmosquitto callbacks for settle().
  std::optional<int> connack_;           // CONNACK result as an MQTT 5 reason code
  std::optional<std::error_code> lost_;  // the connection ended (empty code: our DISCONNECT)
  std::error_code refusal_;              // a refused CONNACK, the better reason for the loss after it
  int last_rc_ = MOSQ_ERR_SUCCESS;       // what the last libmosquitto call returned

  loop::Timer misc_timer_;      // mosquitto_loop_misc every second while connected (keepalive)
  loop::Timer retry_timer_;     // the next attempt
  loop::Timer connect_timer_;   // the limit of one attempt
  loop::Timer shutdown_timer_;  // the limit of shutdown()
  loop::Timer finish_timer_;    // runs the final step of shutdown() from the loop
  DoneCallback done_callback_;

  int depth_ = 0;
  bool orphaned_ = false;
};

// ---- creation -------------------------------------------------------------------------------------

std::error_code Session::Core::init(const std::string& password) {
  init_library_once();
  const char* id = options_.client_id.empty() ? nullptr : options_.client_id.c_str();
  errno = 0;
  mosq_.reset(mosquitto_new(id, options_.clean_session, this));
  if (!mosq_) {
    return errno == ENOMEM ? std::make_error_code(std::errc::not_enough_memory) : invalid();
  }
  mosquitto* m = mosq_.get();
  int version = options_.protocol == Protocol::v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
  // Readings are small and each should leave at once: without TCP_NODELAY, Nagle's algorithm holds a
  // small packet back while an earlier one is unacknowledged, and with the broker's delayed ACK that
  // adds tens of milliseconds to a reading now and then.
  if (int rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1)) {
    return mosquitto_error(rc);
  }
  if (int rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, version)) {
    return mosquitto_error(rc);
  }
  if (options_.tls) {
    const auto& tls = *options_.tls;
    const char* cert = tls.cert_file.empty() ? nullptr : tls.cert_file.c_str();
    const char* key = tls.key_file.empty() ? nullptr : tls.key_file.c_str();
    if (int rc = mosquitto_tls_set(m, tls.ca_file.c_str(), nullptr, cert, key, nullptr)) {
      return mosquitto_error(rc);
    }
    if (int rc = mosquitto_tls_insecure_set(m, tls.insecure)) {
      return mosquitto_error(rc);
    }
  }
  const char* user = options_.username.empty() ? nullptr : options_.username.c_str();
  const char* pass = password.empty() ? nullptr : password.c_str();
  if (int rc = mosquitto_username_pw_set(m, user, pass)) {
    return mosquitto_error(rc);
  }
  mosquitto_connect_v5_callback_set(m, &Core::on_connect);
  mosquitto_disconnect_v5_callback_set(m, &Core::on_disconnect);
  mosquitto_publish_v5_callback_set(m, &Core::on_publish);
  mosquitto_message_v5_callback_set(m, &Core::on_message);
  mosquitto_subscribe_v5_callback_set(m, &Core::on_subscribe);
  // The log callback is registered only when the user asks for the log (Session::on_log): with one
  // registered, libmosquitto formats and allocates a debug line for every packet it sends, a third of
  // the gateway's CPU time per reading at high rates.
  if (log_callback_) {
    mosquitto_log_callback_set(m, &Core::on_log);
  }
  return {};
}

namespace {

std::error_code validate(const Options& o) {
  if (o.host.empty() || o.port == 0) {
    return invalid();
  }
  if (o.keepalive.count() != 0 && (o.keepalive < 5s || o.keepalive.count() > 65535)) {
    return invalid();
  }
  if ((!o.clean_session && o.client_id.empty()) || !valid_mqtt_string(o.client_id) ||
      !valid_mqtt_string(o.username)) {
    return invalid();
  }
  // MQTT 3.1.1 forbids a password without a user name (3.1.2.9).
  if (!o.password_file.empty() && o.username.empty()) {
    return invalid();
  }
  const auto& r = o.reconnect;
  if (r.initial <= 0ms || r.max < r.initial || r.connect_timeout <= 0ms || r.stable_after < 0ms) {
    return invalid();
  }
  for (const auto* message : {o.will ? &*o.will : nullptr, o.birth ? &*o.birth : nullptr}) {
    if (message != nullptr) {
      if (auto ec = check_publication(*message)) {
        return ec;
      }
    }
  }
  if (o.tls) {
    const auto& tls = *o.tls;
    if (tls.ca_file.empty() || tls.cert_file.empty() != tls.key_file.empty()) {
      return invalid();
    }
    for (const auto* path : {&tls.ca_file, &tls.cert_file, &tls.key_file}) {
      if (!path->empty()) {
        if (auto ec = check_readable(*path)) {
          return ec;
        }
      }
    }
  }
  return {};
}

}  // namespace

std::expected<Session, std::error_code> Session::create(loop::Loop& loop, Options options) {
  if (auto ec = validate(options)) {
    return std::unexpected(ec);
  }
  std::string password;
  if (!options.password_file.empty()) {
    auto secret = read_secret_file(options.password_file);
    if (!secret) {
      return std::unexpected(secret.error());
    }
    password = std::move(*secret);
  }
  auto* core = new Core(loop, std::move(options));
  Session session(core);
  if (auto ec = core->init(password)) {
    return std::unexpected(ec);
  }
  return session;
}

// ---- the state machine ----------------------------------------------------------------------------

State Session::Core::state() const noexcept {
  switch (phase_) {
    case Phase::idle:
      return State::idle;
    case Phase::resolving:
    case Phase::connecting:
      return State::connecting;
    case Phase::connected:
      return State::connected;
    case Phase::waiting:
      return State::disconnected;
    case Phase::draining:
    case Phase::disconnecting:
    case Phase::finishing:
      return State::closing;
    case Phase::closed:
      return State::closed;
  }
  return State::closed;
}

void Session::Core::settle() {
  // Acting on one fact may call into libmosquitto (or the user) and record another, so repeat until
  // nothing is left. Each round consumes a fact or changes the phase, so this ends.
  while (!orphaned_) {
    if (connack_) {
      int reason = *std::exchange(connack_, std::nullopt);
      if (reason != 0) {
        // libmosquitto follows a refused CONNACK with on_disconnect; keep the broker's reason for it.
        refusal_ = reason_error(reason);
        if (phase_ == Phase::connecting && !lost_ && socket_alive()) {
          attempt_failed(refusal_);
        }
      } else if (phase_ == Phase::connecting && !lost_) {
        on_connected();
      }
      continue;
    }
    if (lost_) {
      auto reason = *std::exchange(lost_, std::nullopt);
      handle_lost(refusal_ ? refusal_ : reason);
      continue;
    }
    if (poll_ && !socket_alive()) {
      // libmosquitto closed its socket without reporting a disconnect (older 2.0 releases do so for a
      // failed TLS handshake): the last return value says why.
      handle_lost(last_rc_ == MOSQ_ERR_SUCCESS ? make_error_code(MosquittoErrc::conn_lost)
                                               : mosquitto_error(last_rc_));
      continue;
    }
    if (phase_ == Phase::draining && in_flight_.empty()) {
      disconnect_now();
      continue;
    }
    if (std::exchange(drained_, false) && drain_callback_) {
      auto callback = drain_callback_;  // the callback may replace itself
      invoke_user(counters_.callback_errors, callback);
      continue;
    }
    update_interest();  // may record a loss if the poll cannot be changed
    if (lost_) {
      continue;
    }
    break;
  }
}

std::error_code Session::Core::start() {
  if (phase_ != Phase::idle) {
    return std::make_error_code(phase_ >= Phase::draining ? std::errc::operation_canceled
                                                          : std::errc::operation_in_progress);
  }
  // The first attempt starts from the loop, so no state callback runs inside start().
  phase_ = Phase::waiting;
  retry_timer_.start(0ms, entry(&Core::on_retry));
  return {};
}

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
  connected_since_ = loop_.now();
  write_suspended_ = false;
  addresses_.clear();
  next_address_ = 0;
  ++counters_.connects;
  if (ever_connected_) {
    ++counters_.reconnects;
  }
  ever_connected_ = true;
  misc_timer_.start(
      kMiscInterval,
      [this] {
        enter([&] {
          if ((phase_ == Phase::connected || phase_ == Phase::draining) && socket_alive()) {
            // Sends PINGREQ when due, and closes the connection (on_disconnect with MOSQ_ERR_KEEPALIVE)
            // when the broker has not answered within the keepalive.
            last_rc_ = mosquitto_loop_misc(mosq_.get());
          }
        });
      },
      kMiscInterval);
  // Order on the wire after a connect: the subscriptions (sent from on_connect), libmosquitto's
  // retransmissions of unacknowledged QoS 1 / 2 messages, the birth message, then the outbox.
  if (options_.birth && send_now(*options_.birth) == Sent::rejected) {
    ++counters_.rejected;
  }
  flush_outbox();
  notify(State::connected);
}

void Session::Core::handle_lost(std::error_code reason) {
  detach_poll();
  // Whatever libmosquitto still held for the socket is not being written any more; from now on
  // publishing goes to the bounded outbox, so whoever held back may go on.
  if (backlog_ > 0) {
    backlog_ = 0;
    drained_ = true;
  }
  misc_timer_.stop();
  switch (phase_) {
    case Phase::connecting:
      attempt_failed(reason);
      break;
    case Phase::connected:
      if (loop_.now() - connected_since_ >= options_.reconnect.stable_after) {
        backoff_.reset();
      }
      schedule_retry(reason ? reason : make_error_code(MosquittoErrc::conn_lost));
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
  notify(State::disconnected, reason, delay);
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

void Session::Core::notify(State state, std::error_code reason, std::chrono::milliseconds retry_in) {
  if (state_callback_) {
    auto callback = state_callback_;  // the callback may replace itself
    invoke_user(counters_.callback_errors, callback, StateChange{state, reason, retry_in});
  }
}

// ---- publishing and subscribing -------------------------------------------------------------------

Session::Core::Sent Session::Core::send_now(const Publication& message, std::error_code* refusal) {
  int mid = 0;
  int rc =
      mosquitto_publish(mosq_.get(), &mid, message.topic.c_str(), static_cast<int>(message.payload.size()),
                        message.payload.data(), static_cast<int>(message.qos), message.retain);
  last_rc_ = rc;
  if (rc == MOSQ_ERR_SUCCESS || (is_transport_error(rc) && message.qos != Qos::at_most_once && mid != 0)) {
    ++counters_.published;
    // libmosquitto writes a packet at once when it can; if it could not, the packet waits in its
    // unbounded queue, and the caller should hold back (Session::backlog()).
    if (mosquitto_want_write(mosq_.get())) {
      ++backlog_;
    } else if (backlog_ > 0) {
      // This publish flushed libmosquitto's whole queue (it writes what is queued first): that is a
      // drain like one in the poll callback, and must be reported, or a caller holding back for it
      // (the gateway pauses its ports) would wait forever.
      backlog_ = 0;
      drained_ = true;
    }
    if (message.qos != Qos::at_most_once) {
      in_flight_.insert(mid);
    }
    return Sent::ok;
  }
  if (is_transport_error(rc)) {
    return Sent::transport_error;
  }
  if (refusal != nullptr) {
    *refusal = mosquitto_error(rc);
  }
  return Sent::rejected;
}

void Session::Core::flush_outbox() {
  while (phase_ == Phase::connected && !outbox_.empty()) {
    auto message = *outbox_.pop();
    switch (send_now(message)) {
      case Sent::ok:
        break;
      case Sent::rejected:
        ++counters_.rejected;
        break;
      case Sent::transport_error:
        // The connection broke under us (the poll reports it next): keep the message first in line.
        counters_.dropped += outbox_.push_front(std::move(message));
        return;
    }
  }
}

std::error_code Session::Core::publish(Publication message) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  if (auto ec = check_publication(message)) {
    return ec;
  }
  // Straight to libmosquitto only when connected and nothing older waits in the outbox, so messages
  // always leave in publish order.
  if (phase_ == Phase::connected && outbox_.empty()) {
    std::error_code refusal;
    switch (send_now(message, &refusal)) {
      case Sent::ok:
        return {};
      case Sent::rejected:
        return refusal;
      case Sent::transport_error:
        break;
    }
  }
  counters_.dropped += outbox_.push(std::move(message));
  return {};
}

void Session::Core::resubscribe() {
  for (const auto& [filter, qos] : subscriptions_) {
    // Inside on_connect libmosquitto only queues the packet; errors mean the connection is already
    // gone, and the next connect subscribes again.
    (void)mosquitto_subscribe(mosq_.get(), nullptr, filter.c_str(), static_cast<int>(qos));
  }
}

std::error_code Session::Core::subscribe(std::string_view filter, Qos qos) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  if (auto ec = check_filter(filter); ec || !valid_qos(qos)) {
    return invalid();
  }
  auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                         [&](const auto& s) { return s.first == filter; });
  if (it != subscriptions_.end()) {
    it->second = qos;
  } else {
    subscriptions_.emplace_back(std::string(filter), qos);
  }
  if (phase_ == Phase::connected) {
    int rc = mosquitto_subscribe(mosq_.get(), nullptr, std::string(filter).c_str(), static_cast<int>(qos));
    last_rc_ = rc;
    if (rc != MOSQ_ERR_SUCCESS && !is_transport_error(rc)) {
      return mosquitto_error(rc);
    }
  }
  return {};
}

std::error_code Session::Core::unsubscribe(std::string_view filter) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                         [&](const auto& s) { return s.first == filter; });
  if (it == subscriptions_.end()) {
    return invalid();
  }
  subscriptions_.erase(it);
  if (phase_ == Phase::connected) {
    int rc = mosquitto_unsubscribe(mosq_.get(), nullptr, std::string(filter).c_str());
    last_rc_ = rc;
    if (rc != MOSQ_ERR_SUCCESS && !is_transport_error(rc)) {
      return mosquitto_error(rc);
    }
  }
  return {};
}

// ---- shutdown -------------------------------------------------------------------------------------

std::error_code Session::Core::shutdown(std::chrono::milliseconds timeout,
                                        std::optional<Publication> final_message, DoneCallback done) {
  if (phase_ >= Phase::draining) {
    return std::make_error_code(std::errc::operation_in_progress);
  }
  if (final_message) {
    if (auto ec = check_publication(*final_message)) {
      return ec;
    }
  }
  done_callback_ = std::move(done);
  retry_timer_.stop();
  connect_timer_.stop();
  cancel_resolution();
  if (phase_ != Phase::connected) {
    // Nothing to say goodbye to; the broker has published (or will publish) the will already.
    counters_.dropped += final_message ? 1 : 0;
    abandon_socket();
    schedule_finish();
    return {};
  }
  if (final_message && send_now(*final_message) != Sent::ok) {
    ++counters_.dropped;
  }
  phase_ = Phase::draining;
  shutdown_timer_.start(timeout, [this] {
    enter([&] {
      if (phase_ == Phase::draining) {
        disconnect_now();
      }
      // Out of time: whatever has not happened will not be waited for.
      if (phase_ < Phase::finishing) {
        schedule_finish();
      }
    });
  });
  // settle() sends DISCONNECT as soon as nothing is in flight (perhaps at once).
  return {};
}

void Session::Core::disconnect_now() {
  phase_ = Phase::disconnecting;
  misc_timer_.stop();
  // Outside a libmosquitto callback this writes DISCONNECT at once and libmosquitto reports
  // on_disconnect(0), which settles into schedule_finish(); inside one, the packet waits for the
  // socket to be writable. A broker that received DISCONNECT discards the will.
  int rc = mosquitto_disconnect(mosq_.get());
  last_rc_ = rc;
  if (rc != MOSQ_ERR_SUCCESS) {
    schedule_finish();
  }
}

void Session::Core::schedule_finish() {
  phase_ = Phase::finishing;
  detach_poll();
  misc_timer_.stop();
  shutdown_timer_.stop();
  finish_timer_.start(0ms, entry(&Core::finish));
}

void Session::Core::finish() {
  phase_ = Phase::closed;
  detach_poll();
  cancel_resolution();
  misc_timer_.close();
  retry_timer_.close();
  connect_timer_.close();
  shutdown_timer_.close();
  finish_timer_.close();  // inside its own callback: allowed, see loop/uv_handle.hpp
  counters_.dropped += outbox_.clear();
  // Not inside a libmosquitto callback (this runs from a timer), so destroying the instance is safe.
  // It closes the socket and libmosquitto's internal socket pair; unacknowledged messages are lost.
  mosq_.reset();
  auto done = std::exchange(done_callback_, nullptr);
  invoke_user(counters_.callback_errors, done);
}

// ---- libmosquitto callbacks: record, deliver, act no further than closing the Poll ------------------

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

void Session::Core::on_publish(mosquitto*, void* self, int mid, int reason,
                               const mosquitto_property*) noexcept {
  auto* core = static_cast<Core*>(self);
  // QoS 0 messages are reported too, once written; only tracked QoS 1 / 2 ids count.
  if (core->in_flight_.erase(mid) != 0) {
    // MQTT 5 brokers may refuse a message in its PUBACK / PUBREC (for example not authorised).
    ++(reason >= 0x80 ? core->counters_.rejected : core->counters_.acknowledged);
  }
}

void Session::Core::on_message(mosquitto*, void* self, const mosquitto_message* msg,
                               const mosquitto_property*) noexcept {
  auto* core = static_cast<Core*>(self);
  ++core->counters_.received;
  if (!core->message_callback_) {
    return;
  }
  Message message;
  message.topic = msg->topic != nullptr ? std::string_view(msg->topic) : std::string_view();
  message.payload = {static_cast<const std::byte*>(msg->payload),
                     msg->payload != nullptr ? static_cast<std::size_t>(msg->payloadlen) : 0};
  message.qos = static_cast<Qos>(msg->qos);
  message.retain = msg->retain;
  auto callback = core->message_callback_;  // the callback may replace itself
  invoke_user(core->counters_.callback_errors, callback, message);
}

void Session::Core::on_subscribe(mosquitto*, void* self, int, int count, const int* granted,
                                 const mosquitto_property*) noexcept {
  auto* core = static_cast<Core*>(self);
  for (int i = 0; i < count; ++i) {
    if (granted[i] >= 0x80) {
      ++core->counters_.subscriptions_refused;
    }
  }
}

void Session::Core::on_log(mosquitto*, void* self, int level, const char* text) noexcept {
  auto* core = static_cast<Core*>(self);
  if (core->log_callback_ && text != nullptr) {
    auto callback = core->log_callback_;
    invoke_user(core->counters_.callback_errors, callback, log_level(level), std::string_view(text));
  }
}

// ---- Session: the public face ---------------------------------------------------------------------

Session::Session(Session&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    release();
    core_ = std::exchange(other.core_, nullptr);
  }
  return *this;
}

Session::~Session() {
  release();
}

void Session::release() noexcept {
  if (core_ == nullptr) {
    return;
  }
  // Inside one of its own callbacks the Core is still on the stack: the entry running reaps it when
  // it returns. Otherwise it goes now.
  if (core_->busy()) {
    core_->orphan();
  } else {
    delete core_;
  }
  core_ = nullptr;
}

void Session::on_message(MessageCallback callback) {
  if (core_ != nullptr) {
    core_->message_callback_ = std::move(callback);
  }
}

void Session::on_state(StateCallback callback) {
  if (core_ != nullptr) {
    core_->state_callback_ = std::move(callback);
  }
}

void Session::on_drain(DoneCallback callback) {
  if (core_ != nullptr) {
    core_->drain_callback_ = std::move(callback);
  }
}

std::size_t Session::backlog() const noexcept {
  return core_ == nullptr ? 0 : core_->backlog_;
}

void Session::on_log(LogCallback callback) {
  if (core_ != nullptr) {
    core_->set_log_callback(std::move(callback));
  }
}

namespace {
std::error_code moved_from() {
  return std::make_error_code(std::errc::bad_file_descriptor);
}
}  // namespace

std::error_code Session::start() {
  if (core_ == nullptr) {
    return moved_from();
  }
  std::error_code ec;
  auto* core = core_;
  core->enter([&] { ec = core->start(); });
  return ec;
}

std::error_code Session::publish(std::string_view topic, std::span<const std::byte> payload, Qos qos,
                                 bool retain) {
  return publish(Publication{std::string(topic),
                             std::string(reinterpret_cast<const char*>(payload.data()), payload.size()), qos,
                             retain});
}

std::error_code Session::publish(std::string_view topic, std::string_view payload, Qos qos, bool retain) {
  return publish(Publication{std::string(topic), std::string(payload), qos, retain});
}

std::error_code Session::publish(Publication message) {
  if (core_ == nullptr) {
    return moved_from();
  }
  std::error_code ec;
  auto* core = core_;  // `this` may be destroyed by a callback inside enter(); the core outlives it
  core->enter([&] { ec = core->publish(std::move(message)); });
  return ec;
}

std::error_code Session::subscribe(std::string_view filter, Qos qos) {
  if (core_ == nullptr) {
    return moved_from();
  }
  std::error_code ec;
  auto* core = core_;
  core->enter([&] { ec = core->subscribe(filter, qos); });
  return ec;
}

std::error_code Session::unsubscribe(std::string_view filter) {
  if (core_ == nullptr) {
    return moved_from();
  }
  std::error_code ec;
  auto* core = core_;
  core->enter([&] { ec = core->unsubscribe(filter); });
  return ec;
}

std::error_code Session::shutdown(std::chrono::milliseconds timeout, std::optional<Publication> final_message,
                                  DoneCallback done) {
  if (core_ == nullptr) {
    return moved_from();
  }
  std::error_code ec;
  auto* core = core_;
  core->enter([&] { ec = core->shutdown(timeout, std::move(final_message), std::move(done)); });
  return ec;
}

State Session::state() const noexcept {
  return core_ != nullptr ? core_->state() : State::closed;
}

const Counters& Session::counters() const noexcept {
  static const Counters none;
  return core_ != nullptr ? core_->counters() : none;
}

std::size_t Session::outbox_size() const noexcept {
  return core_ != nullptr ? core_->outbox_size() : 0;
}

std::size_t Session::in_flight() const noexcept {
  return core_ != nullptr ? core_->in_flight() : 0;
}

}  // namespace fg::mqtt
