#include "loop/poll.hpp"

namespace fg::loop {

std::expected<Poll, std::error_code> Poll::create(Loop& loop, int fd) {
  Poll poll(fd);
  if (auto ec = poll.open([&](uv_poll_t* h) { return uv_poll_init(loop.raw(), h, fd); })) {
    return std::unexpected(ec);
  }
  return poll;
}

std::error_code Poll::start(PollEvents events, Callback callback) {
  callback_ = std::move(callback);
  return set_events(events);
}

std::error_code Poll::set_events(PollEvents events) {
  if (handle_ == nullptr) {
    return uv_error(UV_EBADF);
  }
  if (events == PollEvents::none) {
    return stop();
  }
  events_ = events;
  return uv_error(uv_poll_start(handle_, static_cast<int>(events), &Poll::on_poll));
}

std::error_code Poll::stop() noexcept {
  events_ = PollEvents::none;
  return handle_ == nullptr ? std::error_code() : uv_error(uv_poll_stop(handle_));
}

void Poll::on_poll(uv_poll_t* handle, int status, int events) noexcept {
  auto* self = owner_of<Poll>(handle);
  if (self == nullptr || !self->callback_) {
    return;
  }
  if (status < 0) {
    self->events_ = PollEvents::none;  // libuv has stopped the handle
  }
  auto callback = self->callback_;  // see uv_handle.hpp: the callback may destroy or restart *self
  callback(uv_error(status), static_cast<PollEvents>(events));
}

}  // namespace fg::loop
