#pragma once
// Check: a callback run once per loop iteration, right after the loop has handled the descriptors that
// were ready (libuv's check phase). It is where work batched over one iteration is finished: the quorum
// node commits everything its replica stored in this iteration with one fdatasync and sends the queued
// messages, several per datagram. A check handle never wakes the loop by itself and does not keep it
// running (it is unreferenced).

#include <functional>

#include "loop/loop.hpp"
#include "loop/uv_handle.hpp"

namespace fg::loop {

class Check : public UvHandle<uv_check_t> {
 public:
  using Callback = std::function<void()>;

  explicit Check(Loop& loop);
  Check(Check&&) noexcept = default;
  Check& operator=(Check&&) noexcept = default;
  ~Check() = default;

  void start(Callback callback);
  void stop() noexcept;

 private:
  static void on_check(uv_check_t* handle) noexcept;

  Callback callback_;
};

}  // namespace fg::loop
