#pragma once
// Prepare and Check: a callback run once per loop iteration, in one of libuv's two phases around the
// wait for descriptors: Prepare just before the loop blocks (after the due timers ran), Check right after
// the ready descriptors were handled. Work batched over an iteration is finished in them: the quorum node
// commits everything its replica stored with one fdatasync and sends the queued messages, several per
// datagram. It needs both: a timer's work must go out before the loop blocks (Prepare), an incoming
// datagram's reply right after it was read (Check). Neither wakes the loop nor keeps it running (they
// are unreferenced).

#include <functional>

#include "loop/loop.hpp"
#include "loop/uv_handle.hpp"

namespace fg::loop {

template <typename UvT>
class IterationHook : public UvHandle<UvT> {
 public:
  using Callback = std::function<void()>;

  explicit IterationHook(Loop& loop);
  IterationHook(IterationHook&&) noexcept = default;
  IterationHook& operator=(IterationHook&&) noexcept = default;
  ~IterationHook() = default;

  void start(Callback callback);
  void stop() noexcept;

 private:
  static void on_phase(UvT* handle) noexcept;

  Callback callback_;
};

using Prepare = IterationHook<uv_prepare_t>;
using Check = IterationHook<uv_check_t>;

extern template class IterationHook<uv_prepare_t>;
extern template class IterationHook<uv_check_t>;

}  // namespace fg::loop
