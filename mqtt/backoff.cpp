#include "mqtt/backoff.hpp"

namespace fg::mqtt {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, std::uint64_t seed)
    : initial_(initial), max_(max), random_(seed != 0 ? seed : std::random_device{}()) {}

std::chrono::milliseconds Backoff::base(unsigned failures) const noexcept {
  // Doubling stops as soon as the cap is reached, so neither the shift nor the product can overflow.
  auto delay = initial_;
  for (unsigned i = 0; i < failures && delay < max_; ++i) {
    delay *= 2;
  }
  return delay < max_ ? delay : max_;
}

std::chrono::milliseconds Backoff::next() {
  auto top = base(failures_).count();
  if (failures_ < 64) {
    ++failures_;
  }
  std::uniform_int_distribution<std::chrono::milliseconds::rep> pick(top / 2, top);
  return std::chrono::milliseconds(pick(random_));
}

}  // namespace fg::mqtt
