#include "model/legacy_records.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/varint.h"
#include "model/compression.h"
#include "model/record_batch.h"

namespace sluice::model {

namespace L = batch_layout;

namespace {

// Legacy layout (LegacyRecord.java).
constexpr size_t set_entry_overhead = 12;  // offset int64 + message_size int32
constexpr size_t magic_offset = 4;
constexpr size_t attributes_offset = 5;
constexpr size_t timestamp_offset = 6;
constexpr size_t key_offset_v0 = 6;
constexpr size_t key_offset_v1 = 14;
constexpr size_t min_message_v0 = 14;  // crc, magic, attributes, key length, value length
constexpr size_t min_message_v1 = 22;  // + timestamp
constexpr uint8_t codec_mask = 0x07;
constexpr uint8_t log_append_time_bit = 0x08;
constexpr int64_t no_timestamp = -1;

// A key or value: size -1 = null.
struct field {
  const uint8_t* data = nullptr;
  int32_t size = -1;
};

struct message {
  int64_t offset = 0;
  int8_t magic = 0;
  uint8_t attributes = 0;
  int64_t timestamp = no_timestamp;  // magic 1 only
  field key;
  field value;
  uint8_t codec() const { return attributes & codec_mask; }
  bool log_append_time() const { return magic == 1 && (attributes & log_append_time_bit); }
};

// One record of the output batch.
struct entry {
  field key;
  field value;
  int64_t timestamp;
};

result<message> parse_message(int64_t offset, std::span<const uint8_t> m) {
  // REQUIRES: m.size() >= min_message_v0 (checked by parse_set).
  message msg;
  msg.offset = offset;
  msg.magic = static_cast<int8_t>(m[magic_offset]);
  if (msg.magic != 0 && msg.magic != 1) return legacy_errc::bad_magic;
  if (m.size() < (msg.magic == 0 ? min_message_v0 : min_message_v1)) return legacy_errc::bad_length;
  if (load_be<uint32_t>(m.data()) != crc32_ieee(m.data() + magic_offset, m.size() - magic_offset))
    return legacy_errc::bad_crc;
  msg.attributes = m[attributes_offset];
  if (msg.magic == 1) msg.timestamp = load_be<int64_t>(m.data() + timestamp_offset);
  size_t pos = msg.magic == 0 ? key_offset_v0 : key_offset_v1;
  auto read_field = [&](field& f) {
    if (m.size() - pos < 4) return false;
    int32_t len = load_be<int32_t>(m.data() + pos);
    pos += 4;
    if (len < -1) return false;
    if (len == -1) {
      f = {};
      return true;
    }
    if (static_cast<size_t>(len) > m.size() - pos) return false;
    f = {m.data() + pos, len};
    pos += static_cast<size_t>(len);
    return true;
  };
  if (!read_field(msg.key) || !read_field(msg.value) || pos != m.size()) return legacy_errc::bad_length;
  return msg;
}

// Parses a whole message set; every message must be complete (no partial trailing message).
// The vector grows with the input: one entry per >= 26 bytes.
result<void> parse_set(std::span<const uint8_t> set, std::vector<message>& out) {
  size_t pos = 0;
  while (pos < set.size()) {
    if (set.size() - pos < set_entry_overhead) return legacy_errc::truncated;
    int64_t offset = load_be<int64_t>(set.data() + pos);
    int32_t size = load_be<int32_t>(set.data() + pos + 8);
    pos += set_entry_overhead;
    if (size < 0) return legacy_errc::bad_length;
    if (static_cast<size_t>(size) > set.size() - pos) return legacy_errc::truncated;
    // Too short to hold magic is a length error even when the set ends right there.
    if (static_cast<size_t>(size) < min_message_v0) return legacy_errc::bad_length;
    auto m = parse_message(offset, set.subspan(pos, static_cast<size_t>(size)));
    if (!m) return m.error();
    out.push_back(*m);
    pos += static_cast<size_t>(size);
  }
  return ok();
}

// XXH32 of fewer than 16 bytes (enough for an LZ4 frame descriptor, at most 14 bytes).
uint32_t xxh32_short(const uint8_t* p, size_t len, uint32_t seed) {
  constexpr uint32_t p1 = 2654435761U, p2 = 2246822519U, p3 = 3266489917U, p4 = 668265263U, p5 = 374761393U;
  auto rotl = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  uint32_t h = seed + p5 + static_cast<uint32_t>(len);
  const uint8_t* end = p + len;
  for (; end - p >= 4; p += 4) {
    uint32_t w = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
                 static_cast<uint32_t>(p[3]) << 24;
    h = rotl(h + w * p3, 17) * p4;
  }
  for (; p < end; ++p) h = rotl(h + *p * p5, 11) * p1;
  h ^= h >> 15;
  h *= p2;
  h ^= h >> 13;
  h *= p3;
  h ^= h >> 16;
  return h;
}

// Kafka before 0.10 (and clients writing magic 0: librdkafka, kafka-python) computed the LZ4
// frame header checksum over the frame magic too; Kafka's reader ignores that byte for
// magic 0 (KafkaLZ4BlockInputStream). liblz4 checks it, so rewrite it to the correct value.
// Only the first frame's header is touched; anything unexpected is left for liblz4 to judge.
void fix_lz4_header_checksum(std::vector<uint8_t>& f) {
  constexpr uint32_t frame_magic = 0x184D2204;
  if (f.size() < 7) return;
  uint32_t magic = static_cast<uint32_t>(f[0]) | static_cast<uint32_t>(f[1]) << 8 | static_cast<uint32_t>(f[2]) << 16 |
                   static_cast<uint32_t>(f[3]) << 24;
  if (magic != frame_magic) return;
  uint8_t flg = f[4];
  size_t descriptor = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);  // FLG BD [size] [dict id]
  if (f.size() < 4 + descriptor + 1) return;
  f[4 + descriptor] = static_cast<uint8_t>(xxh32_short(f.data() + 4, descriptor, 0) >> 8);
}

size_t field_size(const field& f) { return f.size < 0 ? 1 : varint_size(f.size) + static_cast<size_t>(f.size); }

int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

size_t record_body_size(const entry& e, int64_t base_ts, size_t index) {
  return 1 + varint_size(wrapping_sub(e.timestamp, base_ts)) + varint_size(static_cast<int64_t>(index)) +
         field_size(e.key) + field_size(e.value) + 1;
}

uint8_t* write_field(uint8_t* p, const field& f) {
  p += write_varint(p, f.size);
  if (f.size > 0) {
    std::memcpy(p, f.data, static_cast<size_t>(f.size));
    p += f.size;
  }
  return p;
}

// Size of the uncompressed records section, or too_large once it exceeds `limit`.
result<size_t> records_size(const std::vector<entry>& entries, size_t limit) {
  int64_t base_ts = entries.front().timestamp;
  size_t total = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    size_t body = record_body_size(entries[i], base_ts, i);
    total += varint_size(static_cast<int64_t>(body)) + body;
    if (total > limit) return legacy_errc::too_large;
  }
  return total;
}

void write_records(uint8_t* p, const std::vector<entry>& entries) {
  int64_t base_ts = entries.front().timestamp;
  for (size_t i = 0; i < entries.size(); ++i) {
    const entry& e = entries[i];
    p += write_varint(p, static_cast<int64_t>(record_body_size(e, base_ts, i)));
    *p++ = 0;  // attributes
    p += write_varint(p, wrapping_sub(e.timestamp, base_ts));
    p += write_varint(p, static_cast<int64_t>(i));
    p = write_field(p, e.key);
    p = write_field(p, e.value);
    *p++ = 0;  // header count
  }
}

void write_header(std::vector<uint8_t>& out, compression codec, const std::vector<entry>& entries) {
  int64_t max_ts = no_timestamp;
  for (const entry& e : entries) max_ts = std::max(max_ts, e.timestamp);
  uint8_t* p = out.data();
  store_be<int64_t>(p + L::base_offset, 0);
  store_be<int32_t>(p + L::batch_length, static_cast<int32_t>(out.size() - L::log_overhead));
  store_be<int32_t>(p + L::partition_leader_epoch, -1);
  p[L::magic] = 2;
  store_be<int16_t>(p + L::attributes, static_cast<int16_t>(codec));
  store_be<int32_t>(p + L::last_offset_delta, static_cast<int32_t>(entries.size() - 1));
  store_be<int64_t>(p + L::base_timestamp, entries.front().timestamp);
  store_be<int64_t>(p + L::max_timestamp, max_ts);
  store_be<int64_t>(p + L::producer_id, -1);
  store_be<int16_t>(p + L::producer_epoch, -1);
  store_be<int32_t>(p + L::base_sequence, -1);
  store_be<int32_t>(p + L::records_count, static_cast<int32_t>(entries.size()));
  store_be<uint32_t>(p + L::crc, crc32c(p + L::attributes, out.size() - L::attributes));
}

class legacy_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "legacy_records"; }
  std::string message(int c) const override {
    switch (static_cast<legacy_errc>(c)) {
      case legacy_errc::ok: return "ok";
      case legacy_errc::truncated: return "message set ends inside a message";
      case legacy_errc::bad_crc: return "legacy message CRC-32 mismatch";
      case legacy_errc::bad_magic: return "legacy message magic invalid for this produce version or mixed";
      case legacy_errc::nested_compression: return "inner message of a compressed wrapper is compressed";
      case legacy_errc::bad_length: return "legacy message length invalid";
      case legacy_errc::too_large: return "converted batch exceeds the size bound";
      case legacy_errc::empty: return "message set has no messages";
      case legacy_errc::corrupt_compressed: return "compressed wrapper value is null or corrupt";
      case legacy_errc::bad_codec: return "compression codec not allowed in a legacy message";
      case legacy_errc::multiple_wrappers: return "compressed wrapper is not alone in its message set";
      case legacy_errc::bad_offset: return "magic 1 wrapper offset below its last inner offset";
      case legacy_errc::bad_timestamp: return "negative legacy message timestamp";
    }
    return "unknown";
  }
};

}  // namespace

const std::error_category& legacy_category() {
  static legacy_category_impl c;
  return c;
}

result<std::vector<uint8_t>> upconvert_message_set(std::span<const uint8_t> message_set, int16_t produce_version,
                                                   int64_t now_ms, size_t max_batch_bytes,
                                                   size_t max_decompressed_bytes) {
  if (message_set.empty()) return legacy_errc::empty;
  std::vector<message> outer;
  if (auto r = parse_set(message_set, outer); !r) return r.error();
  const int8_t magic = outer.front().magic;
  const int8_t allowed = max_legacy_magic(produce_version);
  for (const message& m : outer) {
    if (m.magic != magic || m.magic > allowed) return legacy_errc::bad_magic;
  }

  auto timestamp_of = [&](const message& m, bool log_append_time) -> result<int64_t> {
    if (m.magic == 0) return no_timestamp;
    if (log_append_time) return now_ms;
    if (m.timestamp < no_timestamp) return legacy_errc::bad_timestamp;
    return m.timestamp;
  };

  compression codec = compression::none;
  std::vector<uint8_t> inflated;  // owns the inner set the entries point into
  std::vector<message> inner;
  std::vector<entry> entries;
  bool compressed = std::any_of(outer.begin(), outer.end(), [](const message& m) { return m.codec() != 0; });
  if (!compressed) {
    entries.reserve(outer.size());
    for (const message& m : outer) {
      auto ts = timestamp_of(m, m.log_append_time());
      if (!ts) return ts.error();
      entries.push_back({m.key, m.value, *ts});
    }
  } else {
    if (outer.size() != 1) return legacy_errc::multiple_wrappers;
    const message& w = outer.front();
    if (w.codec() < 1 || w.codec() > 3) return legacy_errc::bad_codec;  // gzip, snappy, lz4
    codec = static_cast<compression>(w.codec());
    if (w.value.size < 0) return legacy_errc::corrupt_compressed;
    std::span<const uint8_t> payload(w.value.data, static_cast<size_t>(w.value.size));
    std::vector<uint8_t> patched;
    if (codec == compression::lz4 && magic == 0) {
      patched.assign(payload.begin(), payload.end());
      fix_lz4_header_checksum(patched);
      payload = patched;
    }
    auto d = decompress(codec, payload, max_decompressed_bytes);
    if (!d) {
      return d.error() == compression_errc::output_too_large ? legacy_errc::too_large : legacy_errc::corrupt_compressed;
    }
    inflated = std::move(*d);
    if (auto r = parse_set(inflated, inner); !r) return r.error();
    if (inner.empty()) return legacy_errc::empty;
    for (const message& m : inner) {
      if (m.magic != magic) return legacy_errc::bad_magic;
      if (m.codec() != 0) return legacy_errc::nested_compression;
    }
    // Relative inner offsets (magic 1): librdkafka sends wrapper offset 0; otherwise the wrapper
    // carries the last inner offset and must not be below it (AbstractLegacyRecordBatch).
    if (magic == 1 && w.offset != 0 && w.offset < inner.back().offset) return legacy_errc::bad_offset;
    entries.reserve(inner.size());
    for (const message& m : inner) {
      auto ts = timestamp_of(m, w.log_append_time());
      if (!ts) return ts.error();
      entries.push_back({m.key, m.value, *ts});
    }
  }
  if (entries.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) return legacy_errc::too_large;

  // Every output length must also fit the int32 batch_length.
  const size_t batch_max =
      std::min(max_batch_bytes, static_cast<size_t>(std::numeric_limits<int32_t>::max()) + L::log_overhead);
  if (batch_max < L::header_size) return legacy_errc::too_large;

  if (codec == compression::none) {
    auto size = records_size(entries, batch_max - L::header_size);
    if (!size) return size.error();
    std::vector<uint8_t> out(L::header_size + *size);
    write_records(out.data() + L::header_size, entries);
    write_header(out, codec, entries);
    return out;
  }

  auto size = records_size(entries, max_decompressed_bytes);
  if (!size) return size.error();
  std::vector<uint8_t> plain(*size);
  write_records(plain.data(), entries);
  auto packed = compress(codec, plain);
  if (!packed) return packed.error();  // a codec library failure (compression_errc), not bad input
  if (packed->size() > batch_max - L::header_size) return legacy_errc::too_large;
  std::vector<uint8_t> out(L::header_size + packed->size());
  std::memcpy(out.data() + L::header_size, packed->data(), packed->size());
  write_header(out, codec, entries);
  return out;
}

}  // namespace sluice::model
