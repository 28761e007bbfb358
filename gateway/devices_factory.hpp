#pragma once
// The one place that builds devices from the config, and so the one place that names each kind of device.
// Adding a kind of device means: its folder in devices/, its config reader in gateway/config/, and one line
// in build_devices().

#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "devices/device.hpp"
#include "gateway/config/config.hpp"
#include "loop/loop.hpp"

namespace fg::gateway {

// The Sink for one device, by its name and how its readings are published: the gateway's routing.
using SinkFactory = std::function<devices::Device::Sink(const std::string& device, PayloadForm payload)>;

using DeviceList = std::vector<std::unique_ptr<devices::Device>>;

// Which devices of the config to build, by name (a reload builds only the new and changed ones).
using DeviceFilter = std::function<bool(const std::string& device)>;

// Builds every device of the config (or those `only` accepts), in the config's order. A device that
// cannot be built (its path cannot even be watched) is an error that names it; a device that is merely
// absent is not.
std::expected<DeviceList, std::string> build_devices(loop::Loop& loop, const Config& config,
                                                     const SinkFactory& sinks, const DeviceFilter& only = {});

}  // namespace fg::gateway
