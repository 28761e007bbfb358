#pragma once
// libgpiod's C objects in unique_ptrs (DESIGN.md convention 6), for the API this build has: v1 (1.6) or
// v2 (2.x), chosen at configure time (FG_GPIOD_API). Private to devices/gpio.

#include <memory>

#if FG_GPIOD_API == 1 || FG_GPIOD_API == 2
#include <gpiod.h>
#endif

namespace fg::devices::gpio::gpiod_handles {

template <typename T, auto Free>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
template <typename T, auto Free>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

#if FG_GPIOD_API == 1 || FG_GPIOD_API == 2
using Chip = Ptr<gpiod_chip, gpiod_chip_close>;
#endif
#if FG_GPIOD_API == 2
using ChipInfo = Ptr<gpiod_chip_info, gpiod_chip_info_free>;
using LineSettings = Ptr<gpiod_line_settings, gpiod_line_settings_free>;
using LineConfig = Ptr<gpiod_line_config, gpiod_line_config_free>;
using RequestConfig = Ptr<gpiod_request_config, gpiod_request_config_free>;
using Request = Ptr<gpiod_line_request, gpiod_line_request_release>;
using EventBuffer = Ptr<gpiod_edge_event_buffer, gpiod_edge_event_buffer_free>;
#endif

}  // namespace fg::devices::gpio::gpiod_handles
