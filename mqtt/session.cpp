#include "mqtt/session.hpp"

#include <fcntl.h>
#include <mqtt_protocol.h>

#include <cerrno>
#include <string>
#include <utility>

#include "loop/error.hpp"
#include "loop/unique_fd.hpp"
#include "mqtt/secret_file.hpp"
#include "mqtt/session_core.hpp"

// Creation, the checks every entry shares, and the public face. The Core's machinery lives beside it:
// session_core.cpp (the state machine and subscriptions), session_connect.cpp, session_publish.cpp and
// session_shutdown.cpp.

namespace fg::mqtt {
namespace detail {

std::error_code invalid() {
  return std::make_error_code(std::errc::invalid_argument);
}

// MQTT strings: UTF-8, no U+0000, at most 65535 bytes.
bool valid_mqtt_string(std::string_view s) {
  return s.size() <= 65535 && s.find('\0') == std::string_view::npos &&
         mosquitto_validate_utf8(s.data(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
}

std::chrono::milliseconds misc_interval(std::chrono::seconds keepalive) {
  if (keepalive.count() == 0) {
    return {};
  }
  return std::max<std::chrono::milliseconds>(1s, std::chrono::milliseconds(keepalive) / 4);
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

}  // namespace detail

namespace {

using namespace detail;

void init_library_once() {
  // mosquitto_lib_init must run once per process before any instance exists, and is not thread safe:
  // a function-local static is initialised exactly once. mosquitto_lib_cleanup is never called, since
  // other sessions may live until exit.
  static const int status = mosquitto_lib_init();
  (void)status;
}

// Opens a file only to learn whether it can be read, so a missing CA file is reported at create() as
// "No such file or directory" rather than as libmosquitto's bare MOSQ_ERR_INVAL.
std::error_code check_readable(const std::filesystem::path& path) {
  loop::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  return fd ? std::error_code() : loop::errno_error();
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

// ---- creation -------------------------------------------------------------------------------------

std::error_code Session::Core::init(const std::string& password) {
  init_library_once();
  password_ = password;
  const char* id = options_.client_id.empty() ? nullptr : options_.client_id.c_str();
  errno = 0;
  mosq_.reset(mosquitto_new(id, options_.clean_session, this));
  if (!mosq_) {
    return errno == ENOMEM ? std::make_error_code(std::errc::not_enough_memory) : invalid();
  }
  log_registered_ = false;  // a new instance (reconfigure()) has no callback yet
  mosquitto* m = mosq_.get();
  // Readings are small and each should leave at once: without TCP_NODELAY, Nagle's algorithm holds a
  // small packet back while an earlier one is unacknowledged, and with the broker's delayed ACK that
  // adds tens of milliseconds to a reading now and then.
  if (int rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1)) {
    return mosquitto_error(rc);
  }
  // The window of unacknowledged messages is the spool's (SpoolSettings::window); libmosquitto's own
  // limit follows it so that neither holds back what the other allows.
  if (int rc = mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, static_cast<int>(options_.spool.window))) {
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
  if (auto ec = apply_settings()) {
    return ec;
  }
  mosquitto_connect_v5_callback_set(m, &Core::on_connect);
  mosquitto_disconnect_v5_callback_set(m, &Core::on_disconnect);
  mosquitto_publish_v5_callback_set(m, &Core::on_publish);
  mosquitto_message_v5_callback_set(m, &Core::on_message);
  mosquitto_subscribe_v5_callback_set(m, &Core::on_subscribe);
  // The log callback is registered only when the user asks for the log (Session::on_log): with one
  // registered, libmosquitto formats and allocates a debug line for every packet it sends, a third of
  // the gateway's CPU time per reading at high rates.
  update_log_callback();
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

std::error_code moved_from() {
  return std::make_error_code(std::errc::bad_file_descriptor);
}

// The options checked and their password read, for create() and reconfigure().
std::expected<std::string, std::error_code> checked_password(const Options& options) {
  if (auto ec = validate(options)) {
    return std::unexpected(ec);
  }
  if (options.password_file.empty()) {
    return std::string();
  }
  return read_secret_file(options.password_file);
}

}  // namespace

std::expected<Session, std::error_code> Session::create(loop::Loop& loop, Options options) {
  auto password = checked_password(options);
  if (!password) {
    return std::unexpected(password.error());
  }
  auto* core = new Core(loop, std::move(options));
  Session session(core);
  if (auto ec = core->init(*password)) {
    return std::unexpected(ec);
  }
  return session;
}

std::expected<bool, std::error_code> Session::reconfigure(Options options) {
  if (core_ == nullptr) {
    return std::unexpected(moved_from());
  }
  auto password = checked_password(options);
  if (!password) {
    return std::unexpected(password.error());
  }
  std::expected<bool, std::error_code> result;
  auto* core = core_;
  core->enter([&] { result = core->reconfigure(std::move(options), std::move(*password)); });
  return result;
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

void Session::use_spool(PublishQueue& spool) {
  if (core_ != nullptr) {
    core_->use_spool(spool);
  }
}

std::size_t Session::backlog() const noexcept {
  return core_ == nullptr ? 0 : core_->backlog();
}

void Session::on_log(LogCallback callback) {
  if (core_ != nullptr) {
    core_->set_log_callback(std::move(callback));
  }
}


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

QosCounts Session::discarded() const noexcept {
  return core_ != nullptr ? core_->discarded() : QosCounts{};
}

std::size_t Session::in_flight() const noexcept {
  return core_ != nullptr ? core_->in_flight() : 0;
}

}  // namespace fg::mqtt
