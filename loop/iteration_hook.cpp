#include "loop/iteration_hook.hpp"

namespace fg::loop {
namespace {

// libuv has one init/start/stop function per handle type; these pick the right one.
int init(uv_loop_t* loop, uv_prepare_t* h) {
  return uv_prepare_init(loop, h);
}
int init(uv_loop_t* loop, uv_check_t* h) {
  return uv_check_init(loop, h);
}
int start(uv_prepare_t* h, uv_prepare_cb cb) {
  return uv_prepare_start(h, cb);
}
int start(uv_check_t* h, uv_check_cb cb) {
  return uv_check_start(h, cb);
}
void stop(uv_prepare_t* h) {
  uv_prepare_stop(h);
}
void stop(uv_check_t* h) {
  uv_check_stop(h);
}

}  // namespace

template <typename UvT>
IterationHook<UvT>::IterationHook(Loop& loop) {
  (void)this->open([&](UvT* h) { return init(loop.raw(), h); });
  this->set_referenced(false);
}

template <typename UvT>
void IterationHook<UvT>::start(Callback callback) {
  callback_ = std::move(callback);
  if (this->handle_ != nullptr) {
    fg::loop::start(this->handle_, &IterationHook::on_phase);
  }
}

template <typename UvT>
void IterationHook<UvT>::stop() noexcept {
  if (this->handle_ != nullptr) {
    fg::loop::stop(this->handle_);
  }
}

template <typename UvT>
void IterationHook<UvT>::on_phase(UvT* handle) noexcept {
  auto* self = UvHandle<UvT>::template owner_of<IterationHook>(handle);
  if (self != nullptr && self->callback_) {
    auto callback = self->callback_;  // see uv_handle.hpp: the callback may destroy or restart *self
    callback();
  }
}

template class IterationHook<uv_prepare_t>;
template class IterationHook<uv_check_t>;

}  // namespace fg::loop
