#pragma once
// RecordBatch v2 (magic 2) header: field offsets, a read-only view, in-place rewrites and
// validation. Format: docs/format/log.md. All integers big-endian; the CRC-32C covers bytes
// [attributes_offset, end) so base offset and partition leader epoch can be rewritten freely.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

#include "base/endian.h"
#include "base/result.h"

namespace sluice::model {

namespace batch_layout {
inline constexpr size_t base_offset = 0;              // int64
inline constexpr size_t batch_length = 8;             // int32, bytes after this field
inline constexpr size_t partition_leader_epoch = 12;  // int32
inline constexpr size_t magic = 16;                   // int8
inline constexpr size_t crc = 17;                     // uint32 CRC-32C of [attributes, end)
inline constexpr size_t attributes = 21;              // int16
inline constexpr size_t last_offset_delta = 23;       // int32
inline constexpr size_t base_timestamp = 27;          // int64
inline constexpr size_t max_timestamp = 35;           // int64
inline constexpr size_t producer_id = 43;             // int64
inline constexpr size_t producer_epoch = 51;          // int16
inline constexpr size_t base_sequence = 53;           // int32
inline constexpr size_t records_count = 57;           // int32
inline constexpr size_t header_size = 61;             // records start here
inline constexpr size_t log_overhead = 12;            // base_offset + batch_length
}  // namespace batch_layout

enum class compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

namespace batch_attr {
inline constexpr int16_t compression_mask = 0x07;
inline constexpr int16_t timestamp_type_log_append = 0x08;
inline constexpr int16_t transactional = 0x10;
inline constexpr int16_t control = 0x20;
inline constexpr int16_t delete_horizon = 0x40;
}  // namespace batch_attr

// A view over the bytes of one complete batch (REQUIRES: size >= header_size; validate first
// when the bytes are untrusted). Does not own the bytes.
class batch_view {
 public:
  explicit batch_view(std::span<const uint8_t> bytes) : _b(bytes) {}
  std::span<const uint8_t> bytes() const { return _b; }
  size_t size_bytes() const { return _b.size(); }

  int64_t base_offset() const { return get<int64_t>(batch_layout::base_offset); }
  int32_t batch_length() const { return get<int32_t>(batch_layout::batch_length); }
  int32_t partition_leader_epoch() const { return get<int32_t>(batch_layout::partition_leader_epoch); }
  int8_t magic() const { return static_cast<int8_t>(_b[batch_layout::magic]); }
  uint32_t crc() const { return get<uint32_t>(batch_layout::crc); }
  int16_t attributes() const { return get<int16_t>(batch_layout::attributes); }
  int32_t last_offset_delta() const { return get<int32_t>(batch_layout::last_offset_delta); }
  int64_t base_timestamp() const { return get<int64_t>(batch_layout::base_timestamp); }
  int64_t max_timestamp() const { return get<int64_t>(batch_layout::max_timestamp); }
  int64_t producer_id() const { return get<int64_t>(batch_layout::producer_id); }
  int16_t producer_epoch() const { return get<int16_t>(batch_layout::producer_epoch); }
  int32_t base_sequence() const { return get<int32_t>(batch_layout::base_sequence); }
  int32_t records_count() const { return get<int32_t>(batch_layout::records_count); }

  int64_t last_offset() const { return base_offset() + last_offset_delta(); }
  int64_t next_offset() const { return last_offset() + 1; }
  compression codec() const { return static_cast<compression>(attributes() & batch_attr::compression_mask); }
  bool is_transactional() const { return attributes() & batch_attr::transactional; }
  bool is_control() const { return attributes() & batch_attr::control; }
  bool log_append_time() const { return attributes() & batch_attr::timestamp_type_log_append; }
  std::span<const uint8_t> records() const { return _b.subspan(batch_layout::header_size); }

  // CRC-32C over [attributes, end) as stored vs. as computed.
  bool crc_ok() const;

 private:
  template <typename T>
  T get(size_t off) const { return load_be<T>(_b.data() + off); }
  std::span<const uint8_t> _b;
};

// In-place header rewrites (the batch CRC does not cover these fields).
inline void set_base_offset(std::span<uint8_t> b, int64_t v) { store_be<int64_t>(b.data() + batch_layout::base_offset, v); }
inline void set_partition_leader_epoch(std::span<uint8_t> b, int32_t v) {
  store_be<int32_t>(b.data() + batch_layout::partition_leader_epoch, v);
}
// LogAppendTime: sets the timestamp type bit and max timestamp, then recomputes the CRC.
void set_log_append_time(std::span<uint8_t> b, int64_t now_ms);

enum class batch_errc {
  ok = 0,
  truncated = 1,        // fewer bytes than the header or batch_length claims
  bad_length = 2,       // batch_length out of range
  bad_magic = 3,        // magic != 2
  bad_crc = 4,          // CRC-32C mismatch
  bad_record_count = 5, // count negative, or inconsistent with last_offset_delta
  bad_records = 6,      // record framing invalid (uncompressed batches only)
};
const std::error_category& batch_category();
inline std::error_code make_error_code(batch_errc e) { return {static_cast<int>(e), batch_category()}; }

// Reads the total size (log overhead + batch_length) of the batch starting at `bytes`;
// error if fewer than log_overhead+magic bytes are present or the length is out of range.
result<size_t> peek_batch_size(std::span<const uint8_t> bytes, size_t max_batch_bytes);

// Full structural validation of one batch occupying exactly `bytes`: length, magic, CRC,
// record count vs. offset delta and, for uncompressed batches, the framing of every record
// (without allocating). Compressed record bodies are checked by the broker after decompression.
result<void> validate_batch(std::span<const uint8_t> bytes);

// Walks uncompressed records [p, end) checking each record's framing; `count` records expected.
result<void> validate_record_framing(const uint8_t* p, const uint8_t* end, int32_t count);

}  // namespace sluice::model

template <>
struct std::is_error_code_enum<sluice::model::batch_errc> : std::true_type {};
