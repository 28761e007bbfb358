#pragma once
// Tag and Versioned: what orders the writes of the multi-writer ABD register.
//
// A tag is (counter, writer, epoch), compared in that order. The counter is what ABD needs: a writer
// takes the highest counter a majority holds and adds one. Ties between writers that read the same
// highest counter are broken by the writer's node id, so tags order writes totally. The epoch (the
// writer's persisted boot epoch) keeps tags unique across a restart of the same writer: a write still in
// flight from before a crash and a new write after it may pick the same counter, and must not carry the
// same tag with different values.

#include <compare>
#include <cstdint>
#include <string>

namespace fg::quorum {

// A replica's identity in the site's configuration; 0 is never a valid node.
using NodeId = std::uint32_t;

struct Tag {
  std::uint64_t counter = 0;
  NodeId writer = 0;
  std::uint64_t epoch = 0;

  // The zero tag belongs to a key nobody has written yet.
  bool is_zero() const noexcept { return counter == 0 && writer == 0 && epoch == 0; }
  friend auto operator<=>(const Tag&, const Tag&) = default;
  friend bool operator==(const Tag&, const Tag&) = default;
};

// A value with the tag it was written under. A default Versioned is "never written".
struct Versioned {
  Tag tag;
  std::string value;

  friend bool operator==(const Versioned&, const Versioned&) = default;
};

}  // namespace fg::quorum
