#pragma once
// Kafka's record-batch compression codecs (the records section of a v2 batch; attributes bits
// 0-2, see record_batch.h). Byte formats are what the Java client, librdkafka, kafkajs and
// kafka-python produce and accept:
//   gzip   (1) RFC 1952 gzip stream; decompress accepts concatenated members, not raw zlib.
//   snappy (2) snappy-java "xerial" framing: 0x82 "SNAPPY" 0x00, int32 BE version (1), int32 BE
//              compatible version (1), then [int32 BE block length][raw snappy block]...; each
//              block holds at most 32 KiB of input (snappy-java's default). Decompress also
//              accepts a plain raw snappy block (no magic), as librdkafka does, and a xerial
//              header repeated between blocks (concatenated snappy-java streams).
//   lz4    (3) LZ4 frame format with a correct header checksum (Kafka magic >= 1). Compress
//              writes what Kafka's Lz4BlockOutputStream writes: 64 KiB independent blocks, no
//              block/content checksum, no content size. Decompress rejects linked (dependent)
//              blocks, which Kafka's Java reader refuses too.
//   zstd   (4) zstd frames (content size optional, concatenated frames and skippable frames ok).
//
// Untrusted input contract (decompress): output never exceeds max_output_bytes (the function
// fails with output_too_large as soon as it would), memory use is bounded by max_output_bytes
// plus per-codec state (zstd: at most a 128 MiB window, the library default every client
// accepts), and corrupt or truncated input yields an error, never a crash or a hang.
// Thread-safety: all functions are reentrant; contexts are per call.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "base/result.h"
#include "model/record_batch.h"

namespace sluice::model {

enum class compression_errc {
  ok = 0,
  unsupported_codec = 1,  // attributes codec value 5-7, or compression::none where a codec is needed
  bad_level = 2,          // compression level outside the codec's range
  corrupt = 3,            // malformed stream, checksum mismatch, trailing garbage
  truncated = 4,          // the stream ends before its end marker
  output_too_large = 5,   // decompressed size would exceed max_output_bytes
  unsupported_feature = 6,// valid for the library but not for Kafka (lz4 linked blocks)
  codec_failure = 7,      // the codec library failed for a reason unrelated to the input
};
const std::error_category& compression_category();
inline std::error_code make_error_code(compression_errc e) { return {static_cast<int>(e), compression_category()}; }

// Codec-default level (gzip 6, lz4 fast, zstd 3; snappy has no levels).
inline constexpr int compression_level_default = -1;

// True for none/gzip/snappy/lz4/zstd; false for the reserved values 5-7.
constexpr bool is_known_codec(compression c) { return static_cast<uint8_t>(c) <= 4; }

// Decompresses one records section compressed with `codec` (not none). Returns at most
// max_output_bytes bytes or an error (see the contract above).
result<std::vector<uint8_t>> decompress(compression codec, std::span<const uint8_t> in, size_t max_output_bytes);

// Compresses `in` in the format above. level: -1 = codec default; gzip 1-9, lz4 1-17 (Kafka's
// range; >= 3 selects LZ4 HC, capped at liblz4's maximum), zstd ZSTD_minCLevel()..22; ignored
// for snappy. The caller bounds the input size.
result<std::vector<uint8_t>> compress(compression codec, std::span<const uint8_t> in, int level = compression_level_default);

}  // namespace sluice::model

template <>
struct std::is_error_code_enum<sluice::model::compression_errc> : std::true_type {};
