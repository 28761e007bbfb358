#pragma once
// Storage: what a replica needs from its durable state. ReplicaLog implements it on a Disk (a real
// directory, or the simulation's disk that loses unsynced writes on a crash).

#include <string>
#include <system_error>

#include "quorum/disk_format.hpp"
#include "quorum/tag.hpp"

namespace fg::quorum {

class Storage {
 public:
  virtual ~Storage() = default;
  // Records a store; it is durable only after the next successful commit().
  virtual std::error_code append(const std::string& key, const Versioned& versioned) = 0;
  // Makes everything appended so far durable (one fdatasync for all of it: group commit).
  virtual std::error_code commit() = 0;
  // Writes `entries` as the replica's first durable state, after a restore from peers (or as the empty
  // state of a new site); from then on the replica counts as initialized after a restart.
  virtual std::error_code initialize(const Entries& entries) = 0;
  // Gives the storage a chance to fold its log into a snapshot of `entries`; called after commits.
  virtual std::error_code maybe_compact(const Entries& entries) = 0;
};

}  // namespace fg::quorum
