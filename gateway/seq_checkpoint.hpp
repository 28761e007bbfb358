#pragma once
// SeqCheckpoint: the gateway's boot epoch and the last seq of every channel, kept in one small file
// ("seq", beside the spool's segments) so that numbering continues after a restart (issue 12).
//
// Format: a record file (storage/record_format.hpp, magic "FGSEQCK\n", version 1) written whole with
// Disk::replace (atomic and durable): one record 'E' + epoch u64, then one record 'S' + seq u64 + topic
// per channel. Channels are named by their reading topic, which is what the spool's records carry too.
//
// When it is written, and why that is enough (gateway/publish_spool.cpp): at start (the new epoch, before
// anything is published), before the spool deletes a segment (the seqs in it must not be forgotten), at a
// clean stop, and at most once a minute while seqs change. A reading that goes through the spool carries
// its seq in its payload, and the spool's records are read back at start, so for those the numbering
// continues exactly; what was not spooled (QoS 0, mode "outage" while connected) may after a crash
// continue from up to a minute back, under the new epoch.
//
// Two files, one per writer: "seq" is written on the loop thread (write_seq_checkpoint), "seq-commit" by
// the spool's group commit job on libuv's threadpool, before it deletes acknowledged segments
// (seq_checkpoint_job). The state is their merge: the larger epoch, and per channel the larger seq. Each
// file only ever grows (each writer writes snapshots of the same growing state, one after the other),
// so neither writer can set the other back, however their writes interleave; one file would need the two
// writes ordered, and a job already under way cannot be waited for on the loop thread.

#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <system_error>

#include "storage/disk.hpp"

namespace fg::gateway {

struct SeqState {
  std::uint64_t epoch = 0;                                // 0: never started
  std::map<std::string, std::uint64_t, std::less<>> seq;  // reading topic -> last seq published
};

inline constexpr std::string_view kSeqCheckpointName = "seq";
inline constexpr std::string_view kSeqCommitCheckpointName = "seq-commit";

// Reads the checkpoint (both files, merged); an absent file is an empty state. A damaged or foreign file
// is an error (StorageError), so the caller can say so rather than restart numbering in silence.
std::expected<SeqState, std::error_code> read_seq_checkpoint(storage::Disk& disk);
// Writes "seq" now, durably.
std::error_code write_seq_checkpoint(storage::Disk& disk, const SeqState& state);
// A job that writes `state` (a snapshot, taken now) durably to "seq-commit" when it runs (Disk::replace_job).
std::expected<storage::Disk::SyncJob, std::error_code> seq_checkpoint_job(storage::Disk& disk,
                                                                          const SeqState& state);

// The seq in a JSON reading payload written by json_payload ({"value":...,"seq":N,...}), or 0.
std::uint64_t payload_seq(std::string_view payload);

}  // namespace fg::gateway
