#pragma once
// UvHandle<T>: the ownership rule every libuv-backed handle in loop/ follows (libuv handle.rst, uvw).
//
// The uv_*_t lives on the heap and is freed only in libuv's close callback, never by the owner, so an
// owner may be destroyed at any time, including from inside its own callback (coroutine awaiters are,
// when they resume). The static trampolines call a copy of the owner's std::function and never touch
// the owner afterwards, so a callback may also replace itself (start() again with a new one). Keep
// captures small (a pointer or two) so the copy stays inside std::function's small buffer.
// The handle's `data` points back at the owner; a move re-points it and a close clears it, so a late
// callback for a closed handle finds no owner.

#include <uv.h>

#include <system_error>
#include <utility>

#include "loop/error.hpp"

namespace fg::loop {

template <typename UvT>
class UvHandle {
 public:
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  // True while the owner holds a libuv handle (false after close() or a move).
  bool is_open() const noexcept { return handle_ != nullptr; }

  // Starts closing the libuv handle; its memory is released by the loop in a later iteration.
  void close() noexcept {
    if (handle_ == nullptr) {
      return;
    }
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) noexcept { delete reinterpret_cast<UvT*>(h); });
    handle_ = nullptr;
  }

  // Whether the handle keeps the loop running (uv_ref) or not (uv_unref).
  void set_referenced(bool referenced) noexcept {
    if (handle_ == nullptr) {
      return;
    }
    auto* h = reinterpret_cast<uv_handle_t*>(handle_);
    referenced ? uv_ref(h) : uv_unref(h);
  }

 protected:
  UvHandle() noexcept = default;
  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) { repoint(); }
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, nullptr);
      repoint();
    }
    return *this;
  }
  ~UvHandle() { close(); }

  // Allocates the handle and runs `init(handle)` (a uv_*_init call). On failure the never-registered
  // handle is freed here, because uv_close must not be called on it.
  template <typename Init>
  std::error_code open(Init&& init) noexcept {
    auto* h = new UvT{};
    if (int status = init(h); status < 0) {
      delete h;
      return uv_error(status);
    }
    handle_ = h;
    repoint();
    return {};
  }

  // The owner of a handle inside a static callback, or nullptr once the owner has closed it.
  template <typename Owner>
  static Owner* owner_of(UvT* h) noexcept {
    return h->data == nullptr ? nullptr : static_cast<Owner*>(static_cast<UvHandle*>(h->data));
  }

  UvT* handle_ = nullptr;

 private:
  void repoint() noexcept {
    if (handle_ != nullptr) {
      handle_->data = static_cast<UvHandle*>(this);
    }
  }
};

}  // namespace fg::loop
