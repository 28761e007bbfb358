#pragma once
// Replica: the server half of ABD. It holds key -> (tag, value), stores a value only if its tag is
// higher than the one held, and answers every request idempotently, so duplicated, delayed and reordered
// requests are harmless.
//
// Durability rule: a reply may report only state that is on disk. A replica therefore never answers at
// once; handle() returns the reply and Core releases it after the commit (fdatasync) that follows the
// step in which the request arrived. This covers queries too: a read must not count a replica's tag that
// a crash could still take back.

#include <optional>
#include <string>
#include <system_error>

#include "quorum/message.hpp"
#include "quorum/storage.hpp"

namespace fg::quorum {

class Replica {
 public:
  // `entries` and `initialized` come from the storage's recovery. An uninitialized replica (new or lost
  // disk, or a corrupt snapshot set aside) is `restoring` and answers nothing but sync requests, with
  // "I have nothing either", until restored() is called.
  Replica(Storage& storage, Entries entries, bool initialized, std::size_t max_payload);

  ReplicaState state() const { return state_; }
  const Entries& entries() const { return entries_; }

  // The reply to a request (query, store or sync request), or nullopt if this replica must stay silent.
  std::optional<Message> handle(const Message& request);

  // Makes the stores of this step durable. On failure the replica stops serving for good (state failed):
  // after a failed fdatasync the kernel may have dropped the dirty pages, so nothing it holds in memory can
  // be promised any more (the PostgreSQL "fsyncgate" lesson).
  std::error_code commit();

  // Adopts the state read back from a quorum and writes it as this replica's first durable state.
  std::error_code restored(Entries entries);

  std::uint64_t stores_applied() const { return stores_applied_; }

 private:
  Message sync_page(const Message& request) const;
  void fail() { state_ = ReplicaState::failed; }

  Storage& storage_;
  Entries entries_;
  ReplicaState state_;
  std::size_t max_payload_;
  bool appended_ = false;
  std::uint64_t stores_applied_ = 0;
};

}  // namespace fg::quorum
