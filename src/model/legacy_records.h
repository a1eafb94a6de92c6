#pragma once
// Legacy message sets (magic 0 and 1, carried by Produce v0-v2) and their up-conversion to one
// RecordBatch v2 (record_batch.h), as Kafka >= 3.0 and Redpanda do before appending. Grammar
// (Kafka's LegacyRecord.java; our notes: shared reference kafka-protocol.md §4.4), big-endian:
//   message_set = { offset int64, message_size int32, message }
//   message     = crc uint32 (CRC-32 IEEE over magic..end) | magic int8 (0, 1) |
//                 attributes int8 (bits 0-2 codec; bit 3 LogAppendTime, magic 1 only) |
//                 [timestamp int64, magic 1 only] | key (int32 len, -1 = null) | value (same)
// A compressed message is a wrapper whose value is a compressed inner message set (gzip,
// snappy, lz4; never zstd). Magic 1 inner offsets are relative (wrapper offset = last inner
// offset or 0); magic 0 inner offsets are ignored. Inner messages are never compressed.
//
// Untrusted input contract: every length is bounded by the bytes that remain, decompression
// by max_decompressed_bytes, the output by max_batch_bytes; malformed input yields a
// legacy_errc, never a crash, an over-read or an unbounded allocation. Memory use is bounded
// by a small multiple of (input + max_decompressed_bytes). Reentrant; no shared state.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "base/result.h"

namespace sluice::model {

enum class legacy_errc {
  ok = 0,
  truncated = 1,           // the set (or inner set) ends inside a message: a partial trailing message
  bad_crc = 2,             // message CRC-32 mismatch
  bad_magic = 3,           // magic not 0/1, above what the produce version allows, or mixed in one set
  nested_compression = 4,  // an inner message of a compressed wrapper is itself compressed
  bad_length = 5,          // message size below its magic's minimum, key/value length outside the
                           // message, or bytes left after the value
  too_large = 6,           // output batch > max_batch_bytes, or (de)compressed records > max_decompressed_bytes
  empty = 7,               // no message at all, or a wrapper without inner messages
  corrupt_compressed = 8,  // wrapper value null, or it does not decompress with its codec
  bad_codec = 9,           // codec zstd (magic 2 only in Kafka) or the reserved values 5-7
  multiple_wrappers = 10,  // a compressed wrapper that is not alone in its set ("more than one batch")
  bad_offset = 11,         // magic 1 wrapper offset not 0 and below its last inner offset
  bad_timestamp = 12,      // magic 1 timestamp below -1 (Kafka refuses negative timestamps)
};
const std::error_category& legacy_category();
inline std::error_code make_error_code(legacy_errc e) { return {static_cast<int>(e), legacy_category()}; }

// Highest legacy magic a Produce version may carry: v0-v1 -> 0, v2 -> 1, anything else -> -1
// (v3+ carries RecordBatch v2 only). Note: Kafka itself does not enforce this for v0-v2
// (ProduceRequest.validateRecords: "we do not do similar validation for older versions");
// we do, since every known client sends the magic its Produce version implies.
constexpr int8_t max_legacy_magic(int16_t produce_version) {
  if (produce_version == 0 || produce_version == 1) return 0;
  if (produce_version == 2) return 1;
  return -1;
}

// Default bound on the decompressed inner set of a compressed wrapper and on the uncompressed
// records section of a compressed output batch (same as the broker's v2 bound).
inline constexpr size_t legacy_max_decompressed_bytes_default = 128u << 20;

// Converts one Produce v0-v2 partition's message set into ONE RecordBatch v2:
//   base offset 0, partition leader epoch -1, producer id/epoch/sequence -1, not
//   transactional, CreateTime, record offset deltas 0..n-1, no headers, keys and values byte
//   for byte; records section compressed with the wrapper's codec (model::compress, default
//   level) when the set was one compressed wrapper, else uncompressed.
// Timestamps: magic 0 -> -1 (NO_TIMESTAMP, as Kafka's up-conversion); magic 1 -> the message's
// (for a wrapper's inner messages: their own), or now_ms when the message (or the wrapper)
// has the LogAppendTime attribute. base timestamp = the first record's, max timestamp = the
// largest, at least -1. Applying a topic's message.timestamp.type is the caller's job.
// Kafka's rules kept: all messages of a set share one magic, a compressed wrapper is alone in
// its set and its inner messages have the wrapper's magic. A magic 0 lz4 wrapper's frame
// header checksum is ignored (old Kafka computed it wrongly; Kafka ignores it for magic 0).
// The result passes validate_batch (and validate_compressed_batch with max_decompressed_bytes).
result<std::vector<uint8_t>> upconvert_message_set(std::span<const uint8_t> message_set, int16_t produce_version,
                                                   int64_t now_ms, size_t max_batch_bytes,
                                                   size_t max_decompressed_bytes = legacy_max_decompressed_bytes_default);

}  // namespace sluice::model

template <>
struct std::is_error_code_enum<sluice::model::legacy_errc> : std::true_type {};
