#include "quorum/replay_window.hpp"

namespace fg::quorum {
namespace {

std::size_t word_of(std::uint64_t counter, std::size_t words) noexcept {
  return static_cast<std::size_t>((counter / 64) % words);
}

std::uint64_t bit_of(std::uint64_t counter) noexcept {
  return std::uint64_t{1} << (counter % 64);
}

}  // namespace

const char* to_string(ReplayVerdict verdict) noexcept {
  switch (verdict) {
    case ReplayVerdict::fresh:
      return "fresh";
    case ReplayVerdict::replayed:
      return "replayed";
    case ReplayVerdict::stale_epoch:
      return "stale_epoch";
    case ReplayVerdict::too_old:
      return "too_old";
  }
  return "?";
}

bool ReplayWindow::seen(std::uint64_t counter) const noexcept {
  return (bits_[word_of(counter, kWords)] & bit_of(counter)) != 0;
}

ReplayVerdict ReplayWindow::check(std::uint64_t epoch, std::uint64_t counter) const noexcept {
  if (counter == 0) {
    return ReplayVerdict::replayed;
  }
  if (epoch < epoch_) {
    return ReplayVerdict::stale_epoch;
  }
  if (epoch > epoch_ || counter > highest_) {
    return ReplayVerdict::fresh;
  }
  if (highest_ - counter >= kWindow) {
    return ReplayVerdict::too_old;
  }
  return seen(counter) ? ReplayVerdict::replayed : ReplayVerdict::fresh;
}

void ReplayWindow::commit(std::uint64_t epoch, std::uint64_t counter) noexcept {
  if (check(epoch, counter) != ReplayVerdict::fresh) {
    return;
  }
  if (epoch > epoch_) {
    epoch_ = epoch;
    highest_ = 0;
    bits_.fill(0);
  }
  if (counter > highest_) {
    // Clear the words the window moves into: they hold bits of counters a whole ring ago.
    const std::uint64_t from_word = highest_ / 64;
    const std::uint64_t to_word = counter / 64;
    if (to_word - from_word >= kWords) {
      bits_.fill(0);
    } else {
      for (std::uint64_t w = from_word + 1; w <= to_word; ++w) {
        bits_[static_cast<std::size_t>(w % kWords)] = 0;
      }
    }
    highest_ = counter;
  }
  bits_[word_of(counter, kWords)] |= bit_of(counter);
}

}  // namespace fg::quorum
