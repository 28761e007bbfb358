#include "gateway/drop_watch.hpp"

#include <fmt/format.h>

namespace fg::gateway {

std::string describe(const DropEvent& event) {
  if (event.kind == DropEvent::Kind::started) {
    return fmt::format("{}: dropping {} ({} so far)", event.source, event.what, event.count);
  }
  const double seconds = std::chrono::duration<double>(event.length).count();
  return fmt::format("{}: stopped dropping {}: {} dropped in {:.1f} s", event.source, event.what, event.count,
                     seconds);
}

void DropEpisodes::observe(std::string_view source, std::string_view what, std::uint64_t value,
                           Clock::time_point now, std::vector<DropEvent>& events) {
  std::string key;
  key.reserve(source.size() + what.size() + 1);
  key.append(source).append(1, '\0').append(what);
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    State baseline;
    baseline.value = value;
    baseline.sampled = now;
    counters_.emplace(std::move(key), baseline);
    return;
  }
  State& s = it->second;
  if (value < s.value) {
    if (s.open) {
      s.open = false;
      --open_;
    }
  } else if (value > s.value) {
    if (!s.open) {
      s.open = true;
      ++open_;
      s.start_value = s.value;
      s.start = s.sampled;
      events.push_back(DropEvent{
          DropEvent::Kind::started, std::string(source), std::string(what), value - s.start_value, {}});
    }
    s.last_change = now;
  } else if (s.open && now - s.last_change >= quiet_) {
    events.push_back(end(it->first, s));
  }
  s.value = value;
  s.sampled = now;
}

void DropEpisodes::finish(std::vector<DropEvent>& events) {
  for (auto& [key, state] : counters_) {
    if (state.open) {
      events.push_back(end(key, state));
    }
  }
}

DropEvent DropEpisodes::end(const std::string& key, State& state) {
  state.open = false;
  --open_;
  const auto split = key.find('\0');
  return DropEvent{DropEvent::Kind::ended, key.substr(0, split), key.substr(split + 1),
                   state.value - state.start_value, state.last_change - state.start};
}

DropWatch::DropWatch(loop::Loop& loop, Timing timing, Collect collect, Report report)
    : timing_(timing),
      collect_(std::move(collect)),
      report_(std::move(report)),
      episodes_(timing.quiet),
      timer_(loop) {}

void DropWatch::start() {
  running_ = true;
  sample();
}

void DropWatch::stop() {
  if (!running_) {
    return;
  }
  running_ = false;
  timer_.close();
  std::vector<DropEvent> events;
  episodes_.finish(events);
  for (const auto& event : events) {
    report_(event);
  }
}

void DropWatch::sample() {
  samples_.clear();
  collect_(samples_);
  const auto now = DropEpisodes::Clock::now();
  std::vector<DropEvent> events;
  for (const auto& s : samples_) {
    episodes_.observe(s.source, s.what, s.value, now, events);
  }
  for (const auto& event : events) {
    report_(event);
  }
  schedule();
}

void DropWatch::schedule() {
  if (!running_) {
    return;
  }
  const bool active = episodes_.active();
  if (timer_.active() && active == active_) {
    return;  // already repeating at the right period
  }
  active_ = active;
  const auto period = active ? timing_.active : timing_.idle;
  timer_.start(
      period, [this] { sample(); }, period);
}

}  // namespace fg::gateway
