#include "gateway/devices_factory.hpp"

#include <optional>

#include "devices/gpio/gpio_device.hpp"
#include "devices/serial/serial_device.hpp"
#include "gateway/topics.hpp"

namespace fg::gateway {
namespace {

// Builds the devices of one kind. Every kind of device has the same factory function,
// Kind::create(loop, settings, sink, channel name rule), and its config section the same two parts: the
// device's own settings (`device`, with its `name`) and the gateway's `payload` form.
class Builder {
 public:
  Builder(loop::Loop& loop, const SinkFactory& sinks, const DeviceFilter& only)
      : loop_(loop), sinks_(sinks), only_(only) {}

  template <typename Kind, typename Section>
  void all(const std::vector<Section>& sections) {
    for (const Section& section : sections) {
      if (error_) {
        return;
      }
      const std::string& name = section.device.name;
      if (only_ && !only_(name)) {
        continue;
      }
      auto made =
          Kind::create(loop_, section.device, sinks_(name, section.payload), &Topics::is_channel_name);
      if (!made) {
        error_ = name + ": " + made.error();
        return;
      }
      devices_.push_back(std::move(*made));
    }
  }

  std::expected<DeviceList, std::string> take() {
    if (error_) {
      return std::unexpected(std::move(*error_));
    }
    return std::move(devices_);
  }

 private:
  loop::Loop& loop_;
  const SinkFactory& sinks_;
  const DeviceFilter& only_;
  DeviceList devices_;
  std::optional<std::string> error_;
};

}  // namespace

std::expected<DeviceList, std::string> build_devices(loop::Loop& loop, const Config& config,
                                                     const SinkFactory& sinks, const DeviceFilter& only) {
  Builder build(loop, sinks, only);
  // Channel names found at run time become topic levels, so Topics::is_channel_name is every device's rule.
  build.all<devices::serial::SerialDevice>(config.serial);
  build.all<devices::gpio::GpioDevice>(config.gpio);
  return build.take();
}

}  // namespace fg::gateway
