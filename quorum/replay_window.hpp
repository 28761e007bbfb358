#pragma once
// ReplayWindow: which (epoch, counter) pairs one peer has already delivered, so that a datagram
// captured on the LAN and sent again is dropped.
//
// A sender numbers its datagrams 1, 2, 3, ... within a boot epoch (persisted and bumped on every boot).
// The window remembers the peer's newest epoch, the highest counter seen in it and, as a bitmap, which of
// the 1024 counters up to the highest arrived, so datagrams reordered by up to 1024 positions are still
// accepted once each (the LAN seldom reorders at all; retransmissions above make late losses harmless).
//
// check() only looks; commit() records. The caller commits only after the datagram authenticated, so a
// forged datagram can never move the window (a forged huge counter would otherwise make every genuine
// datagram look too old).
//
// This header is part of the fuzzed code: no <expected> here.

#include <array>
#include <cstdint>

namespace fg::quorum {

enum class ReplayVerdict {
  fresh,        // never seen: deliver, then commit()
  replayed,     // seen already in this epoch (or counter 0, which no sender uses)
  stale_epoch,  // from an epoch older than the newest one seen: a previous boot of the peer
  too_old,      // more than kWindow counters below the highest seen: can no longer be told apart
};

const char* to_string(ReplayVerdict verdict) noexcept;

class ReplayWindow {
 public:
  static constexpr std::uint64_t kWindow = 1024;

  ReplayVerdict check(std::uint64_t epoch, std::uint64_t counter) const noexcept;
  // Records a datagram check() called fresh. A newer epoch starts the window afresh; committing
  // something check() would not call fresh is ignored.
  void commit(std::uint64_t epoch, std::uint64_t counter) noexcept;

  std::uint64_t epoch() const noexcept { return epoch_; }
  // The highest counter seen in epoch(); 0 if none yet.
  std::uint64_t highest() const noexcept { return highest_; }

 private:
  // The bitmap is a ring of 64-bit words indexed by counter / 64. One word more than the window needs
  // lets the window advance by whole words (clearing the words it moves into) and still cover exactly
  // the kWindow counters below and including the highest.
  static constexpr std::size_t kWords = kWindow / 64 + 1;

  bool seen(std::uint64_t counter) const noexcept;

  std::uint64_t epoch_ = 0;
  std::uint64_t highest_ = 0;
  std::array<std::uint64_t, kWords> bits_{};
};

}  // namespace fg::quorum
