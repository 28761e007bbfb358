#pragma once
// Gateway: the running daemon. It owns the MQTT session and the devices, routes readings to topics and
// commands to devices, reports to systemd, and shuts down in order on SIGTERM / SIGINT: devices
// offline, the gateway's retained "offline", what is in flight acknowledged by the broker, then exit.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "devices/device.hpp"
#include "gateway/config/config.hpp"
#include "gateway/control/server.hpp"
#include "gateway/drop_watch.hpp"
#include "gateway/homeassistant/discovery.hpp"
#include "gateway/payload.hpp"
#include "gateway/publish_spool.hpp"
#include "gateway/reading_rate.hpp"
#include "gateway/reload_plan.hpp"
#include "gateway/replication.hpp"
#include "gateway/systemd_notify.hpp"
#include "gateway/topics.hpp"
#include "loop/clock_watch.hpp"
#include "loop/loop.hpp"
#include "loop/signal_fd.hpp"
#include "loop/timer.hpp"
#include "mqtt/session.hpp"

namespace fg::gateway {

class Gateway {
 public:
  // How long shutdown waits for the broker to acknowledge what is in flight; SIGTERM to exit stays
  // under 2 s with the rest of the shutdown.
  static constexpr std::chrono::milliseconds kDrainTimeout{1500};
  // Readings waiting in libmosquitto's queue (the broker slower than the devices) above which the
  // gateway stops reading its ports until the queue drains: memory stays bounded (about 1,000 x a few
  // hundred bytes) and the overload is pushed back to the devices, as a slow UART reader would.
  static constexpr std::size_t kMaxBacklog = 1000;

  Gateway(loop::Loop& loop, Config config);
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  ~Gateway();

  // Opens everything and starts serving; an error here (the broker settings, a device that cannot even
  // be watched) is a reason not to start. Devices that are merely absent are not errors.
  std::error_code start();
  // Starts the orderly shutdown; the loop ends when it is done.
  void shutdown();

 private:
  // What a reload did: applied (with a one-line summary), or refused with every error, each as
  // `fieldgate check` prints it.
  struct ReloadResult {
    bool applied = false;
    std::string summary;
    std::vector<std::string> errors;
  };

  // Commands that arrive while outputs still wait for their desired states from the register.
  static constexpr std::size_t kMaxHeldCommands = 1000;
  struct HeldCommand {
    std::string device;
    std::string topic;
    std::string payload;
  };

  // One restore of desired outputs from the register (restore_outputs): at start for every device with
  // outputs, after a reload for the devices it adds. It ends when every output's read has answered or
  // restore_timeout has passed; until then commands for its devices are held.
  struct Restore {
    explicit Restore(loop::Loop& loop) : timer(loop) {}
    std::size_t left = 0;  // outputs whose read has not answered yet
    std::size_t restored = 0, missing = 0, failed = 0;
    loop::Timer timer;  // restore_timeout
  };

  // What the gateway keeps for each device beside the device itself: how its readings are published, and
  // their numbering (devices/reading.hpp: seq is the gateway's, per channel, from 1 at start).
  // seq is numbered by the PublishSpool, per reading topic, across restarts.
  // What is worked out once per channel rather than for every reading: its topic and its seq counter
  // (a node of the PublishSpool's checkpoint map, which stays put; neither the prefix nor the gateway id
  // can change without a restart).
  struct ChannelRoute {
    std::string topic;
    std::uint64_t* seq = nullptr;
    std::uint64_t published = 0;  // since the start
  };
  struct Route {
    PayloadForm payload = PayloadForm::json;
    std::uint64_t published = 0;
    std::map<std::string, ChannelRoute, std::less<>> channels;
  };

  mqtt::Options session_options() const;
  void follow_log_level();
  devices::Device::Sink make_sink(const std::string& device, PayloadForm payload);
  void publish_reading(Route& route, Reading&& reading);
  void on_message(const mqtt::Message& message);
  void apply_command(std::string_view topic, std::string_view payload);

  // gateway_replication.cpp: the register, the desired outputs, the control socket.
  std::error_code start_replication();
  std::error_code open_replication();
  void start_control_socket();
  void restore_outputs(const std::function<bool(const std::string& device)>& which);
  void restore_output(std::uint64_t restore, const std::string& device, const std::string& channel);
  void outputs_restored(std::uint64_t restore);
  void keep_desired(const devices::Device& device, const std::string& channel);
  void on_register_get(const std::string& key, std::string_view request);
  void on_control(const nlohmann::json& request, ControlServer::Responder respond);
  nlohmann::json status_json() const;

  // gateway_spool.cpp: the disk spool, seq and epoch.
  std::error_code open_spool();
  // gateway_homeassistant.cpp: discovery and the metrics message. A live reload calls
  // discovery_->update(device_list()) after it changed the devices.
  void start_homeassistant();
  std::vector<const devices::Device*> device_list() const;
  void start_metrics();
  void publish_metrics();
  // reload.cpp: SIGHUP and `fieldgate reload` read the config file again and apply what changed.
  ReloadResult reload();
  void apply_reload(const ReloadPlan& plan, Config next, ReloadResult& result);
  void reload_devices(const ReloadPlan& plan, ReloadResult& result);
  // The desired states of a device's outputs, taken over by the device that replaces it in a reload.
  struct DesiredState {
    std::string device;
    std::string channel;
    std::string state;  // as Device::desired_state() answers it
  };
  std::vector<DesiredState> desired_states(const std::vector<std::string>& devices) const;
  void take_over(const std::vector<DesiredState>& states);
  void after_devices_changed();

  void on_mqtt_state(const mqtt::StateChange& change);
  void publish_device_status(const devices::Device& device);
  void pause_inputs(bool paused);
  void log_counters() const;
  void collect_drops(std::vector<DropWatch::Sample>& out) const;
  void update_status();
  devices::Device* find_device(std::string_view name);

  loop::Loop& loop_;
  Config config_;
  Topics topics_;
  SystemdNotify notify_;
  std::unique_ptr<PublishSpool> spool_;  // before session_, which publishes through it
  std::optional<mqtt::Session> session_;
  std::vector<std::unique_ptr<devices::Device>> devices_;  // every kind, built by build_devices()
  std::map<std::string, Route, std::less<>> routes_;       // by device name; nodes stay put
  std::optional<loop::SignalFd> signals_;
  loop::Timer status_timer_;
  std::unique_ptr<Replication> replication_;
  // Set while [replication] waits for a plausible wall clock (a new state directory takes its epoch from
  // it); serial and GPIO serve meanwhile. Desired states set by commands meanwhile go into the register
  // when it opens, and those outputs are not restored over.
  std::optional<loop::ClockWatch> clock_watch_;  // kept after it reported: not freed in its own callback
  bool waiting_for_clock_ = false;
  std::map<std::string, std::string> desired_while_waiting_;  // register key -> value
  std::optional<ControlServer> control_;
  std::map<std::uint64_t, Restore> restores_;                    // by number, while running
  std::map<std::string, std::uint64_t, std::less<>> restoring_;  // device -> its latest running restore
  std::uint64_t last_restore_ = 0;
  std::deque<HeldCommand> held_commands_;  // in arrival order, for devices in restoring_
  std::uint64_t held_commands_dropped_ = 0;
  bool stopping_ = false;
  bool inputs_paused_ = false;
  std::uint64_t flow_control_pauses_ = 0;              // pauses and resumes
  std::optional<homeassistant::Discovery> discovery_;  // unset with [homeassistant] enabled = false
  loop::Timer metrics_timer_;
  std::chrono::milliseconds started_at_{0};  // loop_.now() at start()
  ReadingRate reading_rate_;
  std::optional<DropWatch> drop_watch_;  // last: it reads everything above
};

}  // namespace fg::gateway
