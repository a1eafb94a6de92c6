#pragma once
// Protocol varints. Unsigned varints (KIP-482 compact lengths, tag numbers) and zig-zag signed
// varints (record fields inside a RecordBatch v2), both LEB128 little-endian groups of 7 bits.
// Decoders never read past `end` and reject encodings longer than the type allows.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace sluice {

constexpr size_t varint_max_bytes_u32 = 5;
constexpr size_t varint_max_bytes_u64 = 10;

// Writes v at out (REQUIRES: room for varint_max_bytes_*), returns bytes written.
inline size_t write_uvarint(uint8_t* out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  out[n++] = static_cast<uint8_t>(v);
  return n;
}
inline size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) { v >>= 7; ++n; }
  return n;
}
inline uint64_t zigzag_encode(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t zigzag_decode(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
inline size_t write_varint(uint8_t* out, int64_t v) { return write_uvarint(out, zigzag_encode(v)); }
inline size_t varint_size(int64_t v) { return uvarint_size(zigzag_encode(v)); }

struct varint_read {
  uint64_t value;
  size_t bytes;
};

// Reads an unsigned varint of at most max_bytes from [p, end); nullopt if truncated or too long.
inline std::optional<varint_read> read_uvarint(const uint8_t* p, const uint8_t* end,
                                               size_t max_bytes = varint_max_bytes_u64) {
  uint64_t v = 0;
  for (size_t i = 0; i < max_bytes; ++i) {
    if (p + i >= end) return std::nullopt;
    uint8_t b = p[i];
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return varint_read{v, i + 1};
  }
  return std::nullopt;
}

// Zig-zag signed varint; for int32 fields pass varint_max_bytes_u32 and range-check the result.
inline std::optional<std::pair<int64_t, size_t>> read_varint(const uint8_t* p, const uint8_t* end,
                                                             size_t max_bytes = varint_max_bytes_u64) {
  auto r = read_uvarint(p, end, max_bytes);
  if (!r) return std::nullopt;
  return std::pair<int64_t, size_t>{zigzag_decode(r->value), r->bytes};
}

}  // namespace sluice
