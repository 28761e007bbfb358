#pragma once
// Backoff: the delays between reconnection attempts. Exponential growth from `initial`, capped at `max`,
// with "equal jitter": each delay is drawn uniformly from [base / 2, base] where base = min(max,
// initial * 2^failures). The jitter spreads gateways that lost the same broker at the same moment, so
// they do not all come back in the same millisecond; the lower half keeps a floor under every delay.
//
// Pure logic without a clock or a loop: the session asks for the next delay after a failed attempt and
// resets the backoff once a connection has stayed up long enough to count as stable.

#include <chrono>
#include <cstdint>
#include <random>

namespace fg::mqtt {

class Backoff {
 public:
  // `initial` must be > 0 and `max` >= `initial` (the session's Options are validated before this).
  // A `seed` of 0 draws one from std::random_device; tests pass a fixed one.
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, std::uint64_t seed = 0);

  // The delay before the next attempt; each call counts one more failure.
  std::chrono::milliseconds next();
  // Back to `initial` (after a stable connection).
  void reset() noexcept { failures_ = 0; }
  // Failures counted since the last reset.
  unsigned failures() const noexcept { return failures_; }

  // The un-jittered delay after `failures` failures: min(max, initial * 2^failures).
  std::chrono::milliseconds base(unsigned failures) const noexcept;

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  unsigned failures_ = 0;
  std::mt19937_64 random_;
};

}  // namespace fg::mqtt
