#include "loop/check.hpp"

namespace fg::loop {

Check::Check(Loop& loop) {
  (void)open([&](uv_check_t* h) { return uv_check_init(loop.raw(), h); });
  set_referenced(false);
}

void Check::start(Callback callback) {
  callback_ = std::move(callback);
  if (handle_ != nullptr) {
    uv_check_start(handle_, &Check::on_check);
  }
}

void Check::stop() noexcept {
  if (handle_ != nullptr) {
    uv_check_stop(handle_);
  }
}

void Check::on_check(uv_check_t* handle) noexcept {
  if (auto* self = owner_of<Check>(handle); self != nullptr && self->callback_) {
    auto callback = self->callback_;  // see uv_handle.hpp: the callback may destroy or restart *self
    callback();
  }
}

}  // namespace fg::loop
