#include "loop/timer.hpp"

namespace fg::loop {

Timer::Timer(Loop& loop) {
  // uv_timer_init cannot fail; open() still takes its status so every handle is created the same way.
  (void)open([&](uv_timer_t* h) { return uv_timer_init(loop.raw(), h); });
}

void Timer::start(std::chrono::milliseconds timeout, Callback callback, std::chrono::milliseconds repeat) {
  callback_ = std::move(callback);
  timeout_ = timeout;
  repeat_ = repeat;
  restart();
}

void Timer::restart() {
  if (handle_ == nullptr) {
    return;
  }
  // A negative duration would wrap to a huge unsigned timeout; treat it as "now".
  auto ms = [](std::chrono::milliseconds d) { return static_cast<uint64_t>(d.count() < 0 ? 0 : d.count()); };
  uv_timer_start(handle_, &Timer::on_timer, ms(timeout_), ms(repeat_));
}

void Timer::stop() noexcept {
  if (handle_ != nullptr) {
    uv_timer_stop(handle_);
  }
}

bool Timer::active() const noexcept {
  return handle_ != nullptr && uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)) != 0;
}

std::chrono::milliseconds Timer::due_in() const noexcept {
  return handle_ == nullptr ? std::chrono::milliseconds(0)
                            : std::chrono::milliseconds(uv_timer_get_due_in(handle_));
}

void Timer::on_timer(uv_timer_t* handle) noexcept {
  if (auto* self = owner_of<Timer>(handle); self != nullptr && self->callback_) {
    auto callback = self->callback_;  // see uv_handle.hpp: the callback may destroy or restart *self
    callback();
  }
}

}  // namespace fg::loop
