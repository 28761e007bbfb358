#pragma once
// The messages replicas exchange. One datagram carries one or more messages (operations on many keys to
// the same peer share datagrams); wire.hpp encodes and decodes them.
//
// Requests carry a request id chosen by the requesting coordinator; replies echo that id together with
// the requester's boot epoch, so a coordinator matches a reply by (peer, epoch, request id) and a late
// reply to a request of its previous incarnation can never be mistaken for one of this incarnation.

#include <cstdint>
#include <string>
#include <vector>

#include "quorum/tag.hpp"

namespace fg::quorum {

enum class MessageType : std::uint8_t {
  query_tag = 1,     // write phase 1: what is your tag for key?
  tag_reply = 2,     //   -> tag
  query_value = 3,   // read phase 1: what is your (tag, value) for key?
  value_reply = 4,   //   -> tag, value
  store = 5,         // write phase 2 and read write-back: store (tag, value) if it is newer
  store_ack = 6,     //   -> sent once the replica holds key at tag or higher durably
  ping = 7,          // heartbeat; carries the sender's replica state
  pong = 8,          //   -> echoes the nonce for a round-trip time
  sync_request = 9,  // restore: send me your entries with keys after `key`
  sync_reply = 10,   //   -> a page of entries
};

// The replica state a heartbeat announces, and `fieldgate status` shows.
enum class ReplicaState : std::uint8_t {
  restoring = 1,  // lost or never had its state; answers nothing until restored from a quorum
  serving = 2,
  failed = 3,  // its disk failed; it stopped answering rather than acknowledge what it cannot keep
};

struct Entry {
  std::string key;
  Versioned versioned;
  friend bool operator==(const Entry&, const Entry&) = default;
};

// One message; which fields mean something depends on `type` (see the comments of MessageType).
struct Message {
  MessageType type = MessageType::ping;
  std::uint64_t request = 0;        // every type but ping/pong
  std::uint64_t request_epoch = 0;  // replies: the requester's epoch, echoed
  std::string key;                  // queries, store, replies; sync_request: page after this key
  Versioned versioned;              // tag_reply (tag only), value_reply, store
  // ping / pong
  std::uint64_t nonce = 0;
  ReplicaState state = ReplicaState::serving;
  // sync_reply
  bool initialized = false;  // false: the replica has no state of its own either
  bool last_page = false;
  std::vector<Entry> entries;

  friend bool operator==(const Message&, const Message&) = default;
};

inline bool is_reply(MessageType type) {
  return type == MessageType::tag_reply || type == MessageType::value_reply ||
         type == MessageType::store_ack || type == MessageType::sync_reply;
}

// Limits that keep every message inside one datagram (UdpTransport's payload is 1,356 bytes).
inline constexpr std::size_t kMaxKeySize = 255;
inline constexpr std::size_t kMaxValueSize = 1024;

}  // namespace fg::quorum
