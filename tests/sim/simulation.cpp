#include "tests/sim/simulation.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>

#include "quorum/boot_epoch.hpp"
#include "quorum/core.hpp"
#include "quorum/log_storage.hpp"
#include "quorum/replica_log.hpp"
#include "quorum/wire.hpp"
#include "tests/storage/sim_disk.hpp"

namespace fg::test::sim {
namespace {

using quorum::NodeId;

constexpr std::uint64_t kMaxEvents = 20'000'000;
constexpr Millis kSettleTime{20'000};  // after the faults stop, for everyone to recover and the final reads

class Simulation;

// One member: its disk survives crashes; everything else is rebuilt at each start, as in a real restart.
struct Member final : quorum::Env {
  Simulation* sim = nullptr;
  NodeId id = 0;
  SimDisk disk;
  bool alive = false;
  std::optional<Millis> paused_until;
  std::uint64_t epoch = 0;
  std::unique_ptr<quorum::LogStorage> storage;
  std::unique_ptr<quorum::Core> core;
  std::uint64_t timer_generation = 0;

  Millis now() const override;
  void send(NodeId to, std::span<const std::uint8_t> payload) override;
};

struct Client {
  int id = 0;
  bool busy = false;
  NodeId at = 0;              // the member coordinating its pending operation
  std::size_t pending = 0;    // index into the history
  std::uint64_t written = 0;  // for unique values
};

struct Event {
  Millis at;
  std::uint64_t sequence;
  std::function<void()> action;
  bool operator>(const Event& other) const {
    return at != other.at ? at > other.at : sequence > other.sequence;
  }
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options) : options_(options), rng_(options.seed) {}

  SimResult run();

  Millis now() const { return now_; }
  void network_send(NodeId from, std::uint64_t epoch, NodeId to, std::span<const std::uint8_t> payload);

 private:
  template <typename T>
  T uniform(T low, T high) {
    if constexpr (std::is_floating_point_v<T>) {
      return std::uniform_real_distribution<T>(low, high)(rng_);
    } else {
      return std::uniform_int_distribution<T>(low, high)(rng_);
    }
  }
  Millis uniform_ms(std::int64_t low, std::int64_t high) { return Millis(uniform<std::int64_t>(low, high)); }
  bool chance(double p) { return uniform(0.0, 1.0) < p; }

  void at(Millis when, std::function<void()> action) {
    events_.push(Event{std::max(when, now_), next_sequence_++, std::move(action)});
  }
  void note(const std::string& line) {
    if (options_.trace) {
      result_.trace += std::to_string(now_.count()) + "ms " + line + "\n";
    }
  }

  Member& member(NodeId id) { return *members_[id - 1]; }
  bool usable(NodeId id) { return member(id).alive; }
  bool paused(NodeId id) { return member(id).paused_until && *member(id).paused_until > now_; }

  // Runs `action` on a member's core as the real loop would: then end the step and re-arm its timer.
  // A paused member does everything later, in order, as a stopped process catches up when resumed.
  // With `only_epoch`, the action belongs to that incarnation (a client's operation) and is dropped if the
  // member crashed in between.
  void on_member(NodeId id, std::function<void(quorum::Core&)> action,
                 std::optional<std::uint64_t> only_epoch = std::nullopt);
  void arm_timer(NodeId id);

  void start_member(NodeId id);
  void crash_member(NodeId id, bool lose_disk);

  void schedule_client(Client& client, Millis delay);
  void client_step(Client& client);
  void complete(std::size_t op, bool ok, std::optional<std::string> value, const quorum::OpError* failure);

  void schedule_faults();
  void fault_step();
  void lose_disk_under_open_write();
  void final_reads();

  const SimOptions& options_;
  std::mt19937_64 rng_;
  Millis now_{0};
  std::uint64_t next_sequence_ = 0;
  std::uint64_t history_clock_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<Client> clients_;
  std::set<std::pair<NodeId, NodeId>> cut_;  // partitioned pairs, both directions
  // (from, to) pairs whose datagrams carrying a store are lost (large datagrams dropped on a link).
  std::set<std::pair<NodeId, NodeId>> stores_lost_;
  NodeId open_write_coordinator_ = 0;  // X of the issue-10 schedule while it runs
  bool faults_over_ = false;
  bool disk_lost_once_ = false;
  std::vector<bool> completed_;             // per history entry, to catch a callback run twice
  std::vector<std::size_t> never_written_;  // writes that failed with no_quorum
  std::size_t final_reads_left_ = 0;
  bool final_reads_started_ = false;
  SimResult result_;
};

Millis Member::now() const {
  return sim->now();
}
void Member::send(NodeId to, std::span<const std::uint8_t> payload) {
  sim->network_send(id, epoch, to, payload);
}

void Simulation::network_send(NodeId from, std::uint64_t epoch, NodeId to,
                              std::span<const std::uint8_t> payload) {
  if (cut_.contains({from, to}) || chance(options_.faults.drop)) {
    return;
  }
  if (stores_lost_.contains({from, to})) {
    auto messages = quorum::decode(payload);
    if (messages && std::any_of(messages->begin(), messages->end(), [](const quorum::Message& m) {
          return m.type == quorum::MessageType::store;
        })) {
      return;
    }
  }
  int copies = chance(options_.faults.duplicate) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    std::vector<std::uint8_t> bytes(payload.begin(), payload.end());
    at(now_ + uniform_ms(0, options_.faults.max_delay.count()),
       [this, from, epoch, to, bytes = std::move(bytes)] {
         if (usable(to)) {
           on_member(to, [from, epoch, bytes](quorum::Core& core) { core.on_datagram(from, epoch, bytes); });
         }
       });
  }
}

void Simulation::on_member(NodeId id, std::function<void(quorum::Core&)> action,
                           std::optional<std::uint64_t> only_epoch) {
  Member& m = member(id);
  if (!m.alive || (only_epoch && *only_epoch != m.epoch)) {
    return;
  }
  if (paused(id)) {
    at(*m.paused_until, [this, id, only_epoch, action = std::move(action)]() mutable {
      on_member(id, std::move(action), only_epoch);
    });
    return;
  }
  action(*m.core);
  if (m.alive && m.core) {  // a completion may not crash a member, but stay defensive
    m.core->end_of_step();
    arm_timer(id);
  }
}

void Simulation::arm_timer(NodeId id) {
  Member& m = member(id);
  Millis deadline = m.core->next_deadline();
  std::uint64_t generation = ++m.timer_generation;
  if (deadline == Millis::max()) {
    return;
  }
  at(deadline, [this, id, generation] {
    Member& m = member(id);
    if (m.alive && m.timer_generation == generation) {
      on_member(id, [](quorum::Core& core) { core.on_timer(); });
    }
  });
}

void Simulation::start_member(NodeId id) {
  Member& m = member(id);
  // A new disk takes its first epoch from the (simulated) wall clock, as the daemon does.
  auto epoch = quorum::next_boot_epoch(m.disk, static_cast<std::uint64_t>(now_.count()) * 1000 + 1);
  auto opened = epoch ? quorum::open_replica_log(m.disk) : std::unexpected(epoch.error());
  if (!opened) {
    result_.errors.push_back("member " + std::to_string(id) + " cannot start: " + opened.error().message());
    return;
  }
  m.epoch = *epoch;
  m.storage = std::make_unique<quorum::LogStorage>(std::move(opened->log));
  quorum::CoreConfig config;
  config.self = id;
  for (int i = 1; i <= options_.members; ++i) {
    config.members.push_back(static_cast<NodeId>(i));
  }
  config.epoch = m.epoch;
  config.coordinator.unsafe_skip_read_write_back = options_.unsafe_skip_read_write_back;
  m.core = std::make_unique<quorum::Core>(config, m, *m.storage, std::move(opened->recovered.entries),
                                          opened->recovered.initialized,
                                          [this, id](quorum::ReplicaState, const std::string& why) {
                                            note("member " + std::to_string(id) + ": " + why);
                                          });
  m.alive = true;
  m.paused_until.reset();
  note("member " + std::to_string(id) + " started, epoch " + std::to_string(m.epoch) +
       (opened->recovered.initialized ? "" : ", restoring"));
  m.core->end_of_step();
  arm_timer(id);
}

void Simulation::crash_member(NodeId id, bool lose_disk) {
  Member& m = member(id);
  m.core.reset();  // pending operations' callbacks go with it, as with a killed process
  m.storage.reset();
  m.alive = false;
  if (lose_disk) {
    m.disk = SimDisk{};
    ++result_.disk_losses;
  } else {
    m.disk.crash(rng_);
  }
  ++result_.crashes;
  note("member " + std::to_string(id) + (lose_disk ? " lost its disk" : " crashed"));
  for (auto& client : clients_) {
    if (client.busy && client.at == id) {
      // The outcome is unknown: a write may or may not have taken effect; a read tells nothing.
      result_.history[client.pending].ret = lin::kNeverReturned;
      completed_[client.pending] = true;
      ++result_.ops_unknown;
      client.busy = false;
      schedule_client(client, uniform_ms(0, 20));
    }
  }
}

void Simulation::schedule_client(Client& client, Millis delay) {
  if (faults_over_) {
    return;
  }
  at(now_ + delay, [this, &client] { client_step(client); });
}

void Simulation::client_step(Client& client) {
  if (faults_over_ || client.busy) {
    return;
  }
  std::vector<NodeId> up;
  for (auto& m : members_) {
    if (m->alive) {
      up.push_back(m->id);
    }
  }
  if (up.empty()) {
    schedule_client(client, uniform_ms(5, 50));
    return;
  }
  NodeId at_member = up[uniform<std::size_t>(0, up.size() - 1)];
  if (open_write_coordinator_ != 0 && member(open_write_coordinator_).alive && chance(0.7)) {
    at_member = open_write_coordinator_;  // the issue-10 schedule needs writes open at X
  }
  lin::Operation op;
  op.key = "k" + std::to_string(uniform(0, options_.keys - 1));
  op.client = client.id;
  op.call = static_cast<std::int64_t>(++history_clock_);
  op.ret = lin::kNeverReturned;
  bool write = chance(0.5);
  op.kind = write ? lin::Operation::Kind::write : lin::Operation::Kind::read;
  if (write) {
    op.value = "c" + std::to_string(client.id) + "." + std::to_string(++client.written);
  }
  std::size_t index = result_.history.size();
  result_.history.push_back(op);
  completed_.push_back(false);
  client.busy = true;
  client.at = at_member;
  client.pending = index;
  note("client " + std::to_string(client.id) + " " + (write ? "writes " + *op.value + " to " : "reads ") +
       op.key + " via member " + std::to_string(at_member));
  on_member(
      at_member,
      [this, index, write, op](quorum::Core& core) {
        if (write) {
          core.write(op.key, *op.value, [this, index](quorum::OpResult<quorum::Tag> done) {
            complete(index, done.has_value(), std::nullopt, done ? nullptr : &done.error());
          });
        } else {
          core.read(op.key, [this, index](quorum::OpResult<quorum::Versioned> done) {
            std::optional<std::string> value;
            if (done && !done->tag.is_zero()) {
              value = done->value;
            }
            complete(index, done.has_value(), value, done ? nullptr : &done.error());
          });
        }
      },
      member(at_member).epoch);
}

void Simulation::complete(std::size_t index, bool ok, std::optional<std::string> value,
                          const quorum::OpError* failure) {
  std::string error = failure != nullptr ? failure->message() : "";
  if (failure != nullptr && std::find(result_.failure_codes.begin(), result_.failure_codes.end(),
                                      failure->code) == result_.failure_codes.end()) {
    result_.failure_codes.push_back(failure->code);
  }
  if (completed_[index]) {
    result_.errors.push_back("operation " + std::to_string(index) + " completed twice");
    return;
  }
  completed_[index] = true;
  lin::Operation& op = result_.history[index];
  if (ok) {
    op.ret = static_cast<std::int64_t>(++history_clock_);
    if (op.kind == lin::Operation::Kind::read) {
      op.value = std::move(value);
      ++result_.reads_ok;
    } else {
      ++result_.writes_ok;
    }
  } else if (op.kind == lin::Operation::Kind::write && failure != nullptr &&
             failure->code == quorum::OpErrc::no_quorum) {
    // no_quorum promises that nothing was written: the write is left out of the history the checker
    // judges, so a read that returns its value makes the run fail.
    ++result_.ops_failed;
    never_written_.push_back(index);
  } else {
    ++result_.ops_failed;  // stays kNeverReturned: outcome unknown
    if (result_.failure_messages.size() < 3 &&
        std::find(result_.failure_messages.begin(), result_.failure_messages.end(), error) ==
            result_.failure_messages.end()) {
      result_.failure_messages.push_back(error);
    }
  }
  note("op " + std::to_string(index) + (ok ? " done" : " failed: " + error));
  if (op.client < 0) {
    --final_reads_left_;
    if (!ok) {
      result_.liveness_failures.push_back("final read of " + op.key + " failed: " + error);
    }
    return;
  }
  Client& client = clients_[op.client];
  client.busy = false;
  schedule_client(client, uniform_ms(0, 20));
}

void Simulation::schedule_faults() {
  at(now_ + uniform_ms(50, 250), [this] { fault_step(); });
}

void Simulation::fault_step() {
  if (now_ >= options_.duration) {
    // The faults stop: heal the network, resume and restart everyone, then read every key everywhere.
    faults_over_ = true;
    cut_.clear();
    stores_lost_.clear();
    for (auto& m : members_) {
      if (!m->alive) {
        start_member(m->id);
      }
    }
    at(now_ + Millis(3000), [this] { final_reads(); });  // time to finish a restore and in-flight ops
    return;
  }
  const Faults& f = options_.faults;
  if (f.disk_loss_under_open_write && !disk_lost_once_ && options_.members >= 3 && cut_.empty() &&
      stores_lost_.empty() && chance(0.3)) {
    lose_disk_under_open_write();
    schedule_faults();
    return;
  }
  NodeId victim = static_cast<NodeId>(uniform(1, options_.members));
  int kind = uniform(0, 3);
  if (kind == 0 && f.crashes && usable(victim)) {
    bool all_serving = std::all_of(members_.begin(), members_.end(), [](const auto& m) {
      return m->alive && m->core->state() == quorum::ReplicaState::serving;
    });
    // One lost disk per run, and only while every other member serves: a lost disk is a failure until
    // the member has rebuilt, and losing more than a minority of the state is beyond what quorums survive.
    bool lose_disk = f.disk_loss && !disk_lost_once_ && all_serving && options_.members > 1 && chance(0.3);
    disk_lost_once_ = disk_lost_once_ || lose_disk;
    crash_member(victim, lose_disk);
    at(now_ + uniform_ms(20, 600), [this, victim] {
      if (!member(victim).alive) {
        start_member(victim);
      }
    });
  } else if (kind == 1 && f.pauses && usable(victim) && !paused(victim)) {
    member(victim).paused_until = now_ + uniform_ms(50, 800);
    ++result_.pauses;
    note("member " + std::to_string(victim) + " paused");
  } else if (kind == 2 && f.partitions && cut_.empty() && options_.members > 1) {
    std::vector<NodeId> side;
    for (int i = 1; i <= options_.members; ++i) {
      if (chance(0.5)) {
        side.push_back(static_cast<NodeId>(i));
      }
    }
    for (int a = 1; a <= options_.members; ++a) {
      for (int b = 1; b <= options_.members; ++b) {
        bool a_in = std::count(side.begin(), side.end(), a) > 0;
        bool b_in = std::count(side.begin(), side.end(), b) > 0;
        if (a_in != b_in) {
          cut_.insert({static_cast<NodeId>(a), static_cast<NodeId>(b)});
        }
      }
    }
    ++result_.partitions;
    note("partition: " + std::to_string(side.size()) + " members on one side");
    at(now_ + uniform_ms(100, 1000), [this] {
      cut_.clear();
      note("partition healed");
    });
  }
  schedule_faults();
}

void Simulation::lose_disk_under_open_write() {
  bool all_serving = std::all_of(members_.begin(), members_.end(), [](const auto& m) {
    return m->alive && m->core->state() == quorum::ReplicaState::serving;
  });
  if (!all_serving) {
    return;
  }
  std::vector<NodeId> running;
  for (auto& m : members_) {
    if (!paused(m->id)) {
      running.push_back(m->id);
    }
  }
  if (running.size() < 2) {
    return;
  }
  std::shuffle(running.begin(), running.end(), rng_);
  NodeId x = running[0];
  NodeId a = running[1];
  open_write_coordinator_ = x;
  disk_lost_once_ = true;
  ++result_.disk_losses_under_open_writes;
  for (int i = 1; i <= options_.members; ++i) {
    if (static_cast<NodeId>(i) != x && static_cast<NodeId>(i) != a) {
      stores_lost_.insert({x, static_cast<NodeId>(i)});
    }
  }
  note("stores from member " + std::to_string(x) + " reach only member " + std::to_string(a));
  // Meanwhile X's writes are stored by X and A only. Then A is cut from X and loses its disk.
  at(now_ + uniform_ms(20, 200), [this, x, a] {
    if (faults_over_ || !member(a).alive) {
      stores_lost_.clear();
      open_write_coordinator_ = 0;
      return;
    }
    cut_.insert({x, a});
    cut_.insert({a, x});
    crash_member(a, true);
    at(now_ + uniform_ms(5, 100), [this, a] {
      if (!member(a).alive) {
        start_member(a);
      }
    });
    // Once A serves again (restored from the others), or after a while, the links heal and X's stores
    // reach the others.
    auto heal = std::make_shared<std::function<void(int)>>();
    std::weak_ptr<std::function<void(int)>> weak = heal;
    *heal = [this, x, a, weak](int checks_left) {
      const Member& m = member(a);
      bool serving = m.alive && m.core && m.core->state() == quorum::ReplicaState::serving;
      if (serving || checks_left == 0 || faults_over_) {
        // One member B now gets X's stores: the open writes complete with X, B and (wrongly) A's old
        // acknowledgement, and X stops sending them. The others keep losing them a while longer.
        std::vector<std::pair<NodeId, NodeId>> links(stores_lost_.begin(), stores_lost_.end());
        if (!links.empty()) {
          auto b = links[uniform<std::size_t>(0, links.size() - 1)];
          stores_lost_.erase(b);
          note("stores from member " + std::to_string(x) + " reach member " + std::to_string(b.second) +
               " again" + (serving ? " (the member restored)" : ""));
        }
        at(now_ + uniform_ms(300, 1500), [this] {
          open_write_coordinator_ = 0;
          stores_lost_.clear();
          cut_.clear();
          note("stores and the cut heal");
        });
        return;
      }
      if (auto next = weak.lock()) {
        at(now_ + Millis(5), [next, checks_left] { (*next)(checks_left - 1); });
      }
    };
    at(now_ + Millis(5), [heal] { (*heal)(300); });
  });
}

void Simulation::final_reads() {
  // Each member reads every key in turn; each read must succeed now that everything is up again.
  final_reads_started_ = true;
  for (int k = 0; k < options_.keys; ++k) {
    for (auto& m : members_) {
      lin::Operation op;
      op.kind = lin::Operation::Kind::read;
      op.key = "k" + std::to_string(k);
      op.client = -1;
      op.call = static_cast<std::int64_t>(++history_clock_);
      op.ret = lin::kNeverReturned;
      std::size_t index = result_.history.size();
      result_.history.push_back(op);
      completed_.push_back(false);
      ++final_reads_left_;
      on_member(m->id, [this, index, key = op.key](quorum::Core& core) {
        core.read(key, [this, index](quorum::OpResult<quorum::Versioned> done) {
          std::optional<std::string> value;
          if (done && !done->tag.is_zero()) {
            value = done->value;
          }
          complete(index, done.has_value(), value, done ? nullptr : &done.error());
        });
      });
    }
  }
}

SimResult Simulation::run() {
  for (int i = 1; i <= options_.members; ++i) {
    auto m = std::make_unique<Member>();
    m->sim = this;
    m->id = static_cast<NodeId>(i);
    members_.push_back(std::move(m));
  }
  for (auto& m : members_) {
    if (static_cast<int>(m->id) <= options_.members - options_.keep_down) {
      start_member(m->id);
    }
  }
  for (int c = 0; c < options_.clients; ++c) {
    clients_.push_back(Client{.id = c});
  }
  for (auto& client : clients_) {
    schedule_client(client, uniform_ms(0, 20));
  }
  schedule_faults();

  Millis end = options_.duration + kSettleTime;
  while (!events_.empty() && now_ <= end && result_.errors.empty()) {
    if (final_reads_started_ && final_reads_left_ == 0) {
      break;
    }
    Event event = events_.top();
    events_.pop();
    now_ = event.at;
    event.action();
    if (++result_.events > kMaxEvents) {
      result_.errors.push_back("more than " + std::to_string(kMaxEvents) + " events: an event storm");
    }
  }
  if (!final_reads_started_ || final_reads_left_ > 0) {
    result_.liveness_failures.push_back(std::to_string(final_reads_left_) +
                                        " final reads did not finish within the settle time");
  }
  for (auto& m : members_) {
    m->core.reset();
  }
  std::vector<lin::Operation> judged;
  for (std::size_t i = 0; i < result_.history.size(); ++i) {
    if (std::find(never_written_.begin(), never_written_.end(), i) == never_written_.end()) {
      judged.push_back(result_.history[i]);
    }
  }
  result_.verdict = lin::check(judged, 5'000'000);
  return std::move(result_);
}

}  // namespace

std::string SimResult::summary() const {
  std::string text =
      std::string("verdict ") + lin::to_string(verdict.verdict) + "; " + std::to_string(reads_ok) +
      " reads, " + std::to_string(writes_ok) + " writes ok, " + std::to_string(ops_failed) + " failed, " +
      std::to_string(ops_unknown) + " cut by a crash; " + std::to_string(crashes) + " crashes (" +
      std::to_string(disk_losses) + " with disk loss), " + std::to_string(pauses) + " pauses, " +
      std::to_string(partitions) + " partitions, " + std::to_string(events) + " events";
  if (verdict.verdict != lin::Verdict::linearizable) {
    text += "\nkey " + verdict.key + ": " + verdict.explanation;
  }
  for (const auto& failure : liveness_failures) {
    text += "\nliveness: " + failure;
  }
  for (const auto& error : errors) {
    text += "\nharness: " + error;
  }
  return text;
}

SimResult run_simulation(const SimOptions& options) {
  return Simulation(options).run();
}

SimOptions options_for_seed(std::uint64_t seed) {
  SimOptions options;
  options.seed = seed;
  // Three members (the usual site) or five in equal parts, every tenth seed a site of one.
  options.members = seed % 10 == 0 ? 1 : seed % 2 == 0 ? 5 : 3;
  std::mt19937_64 mix(seed ^ 0x5eed);
  options.faults.drop = std::uniform_real_distribution<double>(0.0, 0.2)(mix);
  options.faults.duplicate = std::uniform_real_distribution<double>(0.0, 0.1)(mix);
  options.faults.max_delay = Millis(std::uniform_int_distribution<int>(1, 30)(mix));
  options.clients = std::uniform_int_distribution<int>(2, 5)(mix);
  options.keys = std::uniform_int_distribution<int>(1, 3)(mix);
  options.faults.disk_loss_under_open_write = seed % 3 == 0;
  return options;
}

}  // namespace fg::test::sim
