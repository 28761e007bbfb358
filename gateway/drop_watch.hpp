#pragma once
// Drop episodes (DESIGN.md rule 11): a drop that can go on for a while (garbage lines, rejected values, an
// outbox overflow, forged datagrams) is logged once when it starts and once when it ends, with the count,
// never once per event. The modules only count (devices::Counter with drop = true, mqtt::Counters,
// the replication's datagram counters); the gateway alone looks at the counters and writes the lines.
//
// DropEpisodes is the logic, without a clock or a loop of its own (tests give it the times); DropWatch
// samples the counters on a loop timer and feeds it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "loop/loop.hpp"
#include "loop/timer.hpp"

namespace fg::gateway {

// One episode starting or ending for one counter.
struct DropEvent {
  enum class Kind : std::uint8_t { started, ended };
  Kind kind = Kind::started;
  std::string source;  // the device, "mqtt", "replication"
  std::string what;    // what is dropped, in words: "rejected lines"
  // started: what the episode dropped so far; ended: what it dropped in all.
  std::uint64_t count = 0;
  // ended: from the last sample before the first drop to the sample that saw the last one (the drops
  // happened within it; with one sample per second, a single burst reads as about a second).
  std::chrono::steady_clock::duration length{};
};

// The log line: "junk: dropping rejected lines (12 so far)", or at the end
// "junk: stopped dropping rejected lines: 40 dropped in 12.3 s".
std::string describe(const DropEvent& event);

class DropEpisodes {
 public:
  using Clock = std::chrono::steady_clock;

  // An episode ends once its counter has not moved for `quiet`.
  explicit DropEpisodes(Clock::duration quiet) : quiet_(quiet) {}

  // Takes one sample of one counter. The first sample of a counter is its baseline (what it dropped
  // before it was watched is no episode); a counter that went down (its device was made anew) takes the
  // new value as its baseline and ends its episode without a line.
  void observe(std::string_view source, std::string_view what, std::uint64_t value, Clock::time_point now,
               std::vector<DropEvent>& events);
  // Ends, with a line each, the episodes that are open now (the gateway is stopping): the count would be
  // lost otherwise.
  void finish(std::vector<DropEvent>& events);
  // Whether some episode is open (the watcher then samples more often).
  bool active() const noexcept { return open_ > 0; }

 private:
  struct State {
    std::uint64_t value = 0;        // at the last sample
    Clock::time_point sampled;      // the last sample
    bool open = false;              // an episode is running
    std::uint64_t start_value = 0;  // the value before the episode's first drop
    Clock::time_point start;        // the sample before the episode's first drop
    Clock::time_point last_change;  // the sample that saw the latest drop
  };

  DropEvent end(const std::string& key, State& state);

  Clock::duration quiet_;
  std::map<std::string, State, std::less<>> counters_;  // by source '\0' what
  std::size_t open_ = 0;
};

// Samples every drop counter on a timer: `active` while an episode is open, `idle` otherwise, so an idle
// gateway wakes rarely for it. `collect` appends the current samples; `report` writes each line.
class DropWatch {
 public:
  struct Sample {
    std::string source;
    std::string what;
    std::uint64_t value = 0;
  };
  struct Timing {
    std::chrono::milliseconds idle{5000};
    std::chrono::milliseconds active{1000};
    std::chrono::milliseconds quiet{5000};
  };
  using Collect = std::function<void(std::vector<Sample>&)>;
  using Report = std::function<void(const DropEvent&)>;

  DropWatch(loop::Loop& loop, Timing timing, Collect collect, Report report);
  DropWatch(const DropWatch&) = delete;
  DropWatch& operator=(const DropWatch&) = delete;

  // Takes the baseline now and starts sampling.
  void start();
  // Stops sampling and reports the end of every open episode.
  void stop();

 private:
  void sample();
  void schedule();

  Timing timing_;
  Collect collect_;
  Report report_;
  DropEpisodes episodes_;
  loop::Timer timer_;
  std::vector<Sample> samples_;  // reused between samples
  bool active_ = false;          // the period the timer runs at now
  bool running_ = false;
};

}  // namespace fg::gateway
