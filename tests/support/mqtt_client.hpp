#pragma once
// MqttClient: a small test-side MQTT client on libmosquitto's threaded mode (mosquitto_loop_start), for
// end-to-end tests that watch what the gateway publishes and send it commands. It is independent of our
// mqtt/ module on purpose: a test of the gateway should not trust the code it is testing to observe it.
//
//   test::MqttClient client;
//   ASSERT_TRUE(client.connect("127.0.0.1", broker.port()));   // waits for the CONNACK
//   ASSERT_TRUE(client.subscribe("fg/#"));                      // waits for the SUBACK
//   client.publish("fg/t1/dev/write", "HELLO");
//   bool seen = client.wait_for([](const std::vector<test::MqttMessage>& all) { ... }, 10s);
//
// Every received message is kept (topic, payload, retain, qos, packet id) in arrival order under a mutex; a condition
// variable wakes wait_for() on each one. Subscriptions are remembered and made again in the connect
// callback, so after a broker restart (libmosquitto's loop thread reconnects by itself, every second) the
// client receives again without the test doing anything.
//
// No GoogleTest in here: failures are return values.

#include <mosquitto.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fg::test {

struct MqttMessage {
  std::string topic;
  std::string payload;
  bool retain = false;
  int qos = 0;
  // The packet id the broker gave it toward this client (QoS 1 / 2; 0 for QoS 0). A broker numbers a
  // client's packets in the order it queues them for it, so the ids show that order even where the
  // broker sends them in another.
  int mid = 0;
};

class MqttClient {
 public:
  using Predicate = std::function<bool(const std::vector<MqttMessage>&)>;

  // An empty client id lets libmosquitto make one up (clean session). With a client id and
  // `clean_session` false the broker keeps the subscriptions and queues QoS 1 / 2 messages while this
  // client is away (a persistent session).
  explicit MqttClient(const std::string& client_id = {}, bool clean_session = true) {
    static LibInit init;
    client_ = ::mosquitto_new(client_id.empty() ? nullptr : client_id.c_str(),
                              client_id.empty() || clean_session, this);
    if (client_ == nullptr) {
      return;
    }
    ::mosquitto_connect_callback_set(client_, &MqttClient::on_connect);
    ::mosquitto_disconnect_callback_set(client_, &MqttClient::on_disconnect);
    ::mosquitto_subscribe_callback_set(client_, &MqttClient::on_subscribe);
    ::mosquitto_message_callback_set(client_, &MqttClient::on_message);
    ::mosquitto_publish_callback_set(client_, &MqttClient::on_publish);
    // The loop thread waits this long between reconnect attempts.
    ::mosquitto_reconnect_delay_set(client_, 1, 1, false);
  }
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;
  ~MqttClient() {
    disconnect();
    if (client_ != nullptr) {
      ::mosquitto_destroy(client_);
    }
  }

  // Connects and starts the loop thread; true once the broker accepted the connection (CONNACK 0).
  bool connect(const std::string& host, std::uint16_t port,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (client_ == nullptr || started_) {
      return false;
    }
    if (::mosquitto_connect(client_, host.c_str(), port, 30) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    if (::mosquitto_loop_start(client_) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    started_ = true;
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return connected_; });
  }

  // Sends DISCONNECT (if connected) and stops the loop thread. Safe to call twice.
  void disconnect() {
    if (client_ == nullptr || !started_) {
      return;
    }
    ::mosquitto_disconnect(client_);
    ::mosquitto_loop_stop(client_, false);
    started_ = false;
    std::lock_guard lock(mutex_);
    connected_ = false;
  }

  // Subscribes now (waiting up to `timeout` for the SUBACK) and again after every reconnect.
  bool subscribe(const std::string& filter, int qos = 1,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    {
      std::lock_guard lock(mutex_);
      subscriptions_.emplace_back(filter, qos);
    }
    int mid = 0;
    if (::mosquitto_subscribe(client_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return take(acked_subscriptions_, mid); });
  }

  // Publishes; with QoS 1 / 2 it waits (up to `timeout`) until the broker acknowledged it.
  bool publish(const std::string& topic, std::string_view payload, int qos = 1, bool retain = false,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    int mid = 0;
    if (::mosquitto_publish(client_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(),
                            qos, retain) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    if (qos == 0) {
      return true;
    }
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return take(published_, mid); });
  }

  // Waits until `predicate` holds for the messages received so far (it is called under the lock, on
  // every new message and on connection changes).
  bool wait_for(const Predicate& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return predicate(messages_); });
  }

  // The first message at index >= `from` on `topic` (and with `payload`, if given), waiting up to
  // `timeout`; its index is stored in *index.
  std::optional<MqttMessage> wait_message(const std::string& topic, std::optional<std::string> payload = {},
                                          std::size_t from = 0,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                          std::size_t* index = nullptr) {
    std::optional<MqttMessage> found;
    wait_for(
        [&](const std::vector<MqttMessage>& all) {
          for (std::size_t i = from; i < all.size(); ++i) {
            if (all[i].topic == topic && (!payload || all[i].payload == *payload)) {
              found = all[i];
              if (index != nullptr) {
                *index = i;
              }
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  // Every message on `topic` so far, from index `from`.
  std::vector<MqttMessage> on_topic(const std::string& topic, std::size_t from = 0) const {
    std::lock_guard lock(mutex_);
    std::vector<MqttMessage> out;
    for (std::size_t i = from; i < messages_.size(); ++i) {
      if (messages_[i].topic == topic) {
        out.push_back(messages_[i]);
      }
    }
    return out;
  }

  std::vector<MqttMessage> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  bool connected() const {
    std::lock_guard lock(mutex_);
    return connected_;
  }
  // How many times the broker accepted a connection (the first one included).
  int connects() const {
    std::lock_guard lock(mutex_);
    return connects_;
  }

 private:
  struct LibInit {
    LibInit() { ::mosquitto_lib_init(); }
    ~LibInit() { ::mosquitto_lib_cleanup(); }
  };

  static void on_connect(mosquitto* m, void* self_ptr, int rc) {
    auto* self = static_cast<MqttClient*>(self_ptr);
    if (rc != 0) {
      return;
    }
    std::vector<std::pair<std::string, int>> again;
    {
      std::lock_guard lock(self->mutex_);
      again = self->subscriptions_;
    }
    // Subscribed again before anyone is told of the connect, so a waiter sees "connected" only with the
    // SUBSCRIBEs already queued.
    for (const auto& [filter, qos] : again) {
      ::mosquitto_subscribe(m, nullptr, filter.c_str(), qos);
    }
    {
      std::lock_guard lock(self->mutex_);
      self->connected_ = true;
      ++self->connects_;
    }
    self->changed_.notify_all();
  }

  static void on_disconnect(mosquitto*, void* self_ptr, int) {
    auto* self = static_cast<MqttClient*>(self_ptr);
    {
      std::lock_guard lock(self->mutex_);
      self->connected_ = false;
    }
    self->changed_.notify_all();
  }

  static void on_subscribe(mosquitto*, void* self_ptr, int mid, int, const int*) {
    auto* self = static_cast<MqttClient*>(self_ptr);
    {
      std::lock_guard lock(self->mutex_);
      self->acked_subscriptions_.insert(mid);
    }
    self->changed_.notify_all();
  }

  static void on_publish(mosquitto*, void* self_ptr, int mid) {
    auto* self = static_cast<MqttClient*>(self_ptr);
    {
      std::lock_guard lock(self->mutex_);
      self->published_.insert(mid);
    }
    self->changed_.notify_all();
  }

  static void on_message(mosquitto*, void* self_ptr, const mosquitto_message* m) {
    auto* self = static_cast<MqttClient*>(self_ptr);
    MqttMessage message;
    message.topic = m->topic;
    if (m->payload != nullptr && m->payloadlen > 0) {
      message.payload.assign(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen));
    }
    message.retain = m->retain;
    message.qos = m->qos;
    message.mid = m->mid;
    {
      std::lock_guard lock(self->mutex_);
      self->messages_.push_back(std::move(message));
    }
    self->changed_.notify_all();
  }

  // Removes one acknowledgement of `mid` if there is one (called under the lock).
  static bool take(std::multiset<int>& acks, int mid) {
    auto it = acks.find(mid);
    if (it == acks.end()) {
      return false;
    }
    acks.erase(it);
    return true;
  }

  mosquitto* client_ = nullptr;
  bool started_ = false;  // touched by the test thread only
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool connected_ = false;
  int connects_ = 0;
  std::vector<std::pair<std::string, int>> subscriptions_;
  // Acknowledged message ids not yet claimed by a waiter. The SUBACKs of re-subscriptions stay unclaimed;
  // libmosquitto never reuses an id before 65535 more, so they cannot be mistaken for a later one.
  std::multiset<int> acked_subscriptions_;
  std::multiset<int> published_;

  std::vector<MqttMessage> messages_;
};

}  // namespace fg::test
