#include "model/legacy_records.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "base/endian.h"
#include "model/compression.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "model/recompress.h"

namespace sluice::model {
namespace {

using bytes = std::vector<uint8_t>;

constexpr size_t mib = 1024 * 1024;
constexpr int64_t now = 1'700'000'000'000;

// ---- a legacy message builder (LegacyRecord layout, CRC-32 IEEE over magic..end) -----------

struct legacy_msg {
  int64_t offset = 0;
  int8_t magic = 0;
  uint8_t attributes = 0;
  int64_t timestamp = -1;  // written for magic 1 only
  std::optional<std::string> key;
  std::optional<std::string> value;
};

void put_i32(bytes& b, int32_t v) {
  uint8_t t[4];
  store_be<int32_t>(t, v);
  b.insert(b.end(), t, t + 4);
}
void put_i64(bytes& b, int64_t v) {
  uint8_t t[8];
  store_be<int64_t>(t, v);
  b.insert(b.end(), t, t + 8);
}
void put_field(bytes& b, const std::optional<std::string>& f) {
  if (!f) return put_i32(b, -1);
  put_i32(b, static_cast<int32_t>(f->size()));
  b.insert(b.end(), f->begin(), f->end());
}

// The message body (crc..value), CRC filled in.
bytes message_body(const legacy_msg& m) {
  bytes body(4, 0);
  body.push_back(static_cast<uint8_t>(m.magic));
  body.push_back(m.attributes);
  if (m.magic == 1) put_i64(body, m.timestamp);
  put_field(body, m.key);
  put_field(body, m.value);
  store_be<uint32_t>(body.data(), crc32_ieee(body.data() + 4, body.size() - 4));
  return body;
}

// [offset][size][body]
bytes frame(int64_t offset, const bytes& body) {
  bytes out;
  put_i64(out, offset);
  put_i32(out, static_cast<int32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

bytes encode_set(const std::vector<legacy_msg>& msgs) {
  bytes out;
  for (const auto& m : msgs) {
    bytes e = frame(m.offset, message_body(m));
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

// n simple messages with relative (magic 1) offsets 0..n-1.
std::vector<legacy_msg> simple(int8_t magic, int n) {
  std::vector<legacy_msg> v;
  for (int i = 0; i < n; ++i) {
    v.push_back({.offset = i, .magic = magic, .timestamp = 1000 + i, .key = "k" + std::to_string(i),
                 .value = "value-" + std::to_string(i)});
  }
  return v;
}

// A wrapper message whose value is `inner` compressed with `codec` (model::compress).
legacy_msg wrapper(compression codec, int8_t magic, const bytes& inner, int64_t offset = 0, int64_t timestamp = -1,
                   uint8_t extra_attributes = 0) {
  auto c = compress(codec, inner);
  EXPECT_TRUE(c);
  return {.offset = offset,
          .magic = magic,
          .attributes = static_cast<uint8_t>(static_cast<uint8_t>(codec) | extra_attributes),
          .timestamp = timestamp,
          .key = std::nullopt,
          .value = std::string(c->begin(), c->end())};
}

// Validates the produced batch and decodes it (decompressing first when needed).
std::vector<decoded_record> decode(const bytes& batch) {
  EXPECT_TRUE(validate_batch(batch));
  bytes plain = batch;
  if (batch_view(batch).codec() != compression::none) {
    EXPECT_TRUE(validate_compressed_batch(batch, legacy_max_decompressed_bytes_default));
    auto r = recompress_batch(batch, compression::none, compression_level_default, 64 * mib);
    EXPECT_TRUE(r);
    if (!r) return {};
    plain = *r;
  }
  auto d = decode_records(plain);
  EXPECT_TRUE(d);
  return d ? *d : std::vector<decoded_record>{};
}

result<bytes> up(const bytes& set, int16_t version = 2, size_t max_batch = mib) {
  return upconvert_message_set(set, version, now, max_batch);
}

void expect_error(const result<bytes>& r, legacy_errc e) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(e)) << r.error().message();
}

void expect_v2_header(const bytes& batch, compression codec, int32_t count) {
  batch_view v(batch);
  EXPECT_EQ(v.base_offset(), 0);
  EXPECT_EQ(v.partition_leader_epoch(), -1);
  EXPECT_EQ(v.magic(), 2);
  EXPECT_EQ(v.codec(), codec);
  EXPECT_FALSE(v.log_append_time());
  EXPECT_FALSE(v.is_transactional());
  EXPECT_FALSE(v.is_control());
  EXPECT_EQ(v.producer_id(), -1);
  EXPECT_EQ(v.producer_epoch(), -1);
  EXPECT_EQ(v.base_sequence(), -1);
  EXPECT_EQ(v.records_count(), count);
  EXPECT_EQ(v.last_offset_delta(), count - 1);
  EXPECT_EQ(static_cast<size_t>(v.batch_length()) + batch_layout::log_overhead, batch.size());
  EXPECT_TRUE(v.crc_ok());
}

// Checks keys, values, offsets 0..n-1 and timestamps of a converted `simple()` set.
void expect_simple(const bytes& batch, int n, bool has_timestamps) {
  auto recs = decode(batch);
  ASSERT_EQ(recs.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(recs[i].offset, i);
    EXPECT_EQ(recs[i].key, "k" + std::to_string(i));
    EXPECT_EQ(recs[i].value, "value-" + std::to_string(i));
    EXPECT_EQ(recs[i].timestamp_ms, has_timestamps ? 1000 + i : -1);
    EXPECT_TRUE(recs[i].headers.empty());
  }
}

// ---- uncompressed ------------------------------------------------------------------------------

TEST(legacy_records, magic0_uncompressed_set_converts) {
  auto r = up(encode_set(simple(0, 3)), 0);
  ASSERT_TRUE(r) << r.error().message();
  expect_v2_header(*r, compression::none, 3);
  batch_view v(*r);
  EXPECT_EQ(v.base_timestamp(), -1);  // magic 0 has no timestamps: NO_TIMESTAMP, as Kafka
  EXPECT_EQ(v.max_timestamp(), -1);
  expect_simple(*r, 3, false);
}

TEST(legacy_records, magic0_accepted_by_produce_v1_and_v2) {
  auto set = encode_set(simple(0, 2));
  EXPECT_TRUE(up(set, 1));
  EXPECT_TRUE(up(set, 2));
}

TEST(legacy_records, magic1_create_time_timestamps_carried) {
  auto msgs = simple(1, 3);
  msgs[1].timestamp = 5000;  // max in the middle
  auto r = up(encode_set(msgs));
  ASSERT_TRUE(r) << r.error().message();
  expect_v2_header(*r, compression::none, 3);
  batch_view v(*r);
  EXPECT_EQ(v.base_timestamp(), 1000);
  EXPECT_EQ(v.max_timestamp(), 5000);
  auto recs = decode(*r);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].timestamp_ms, 1000);
  EXPECT_EQ(recs[1].timestamp_ms, 5000);
  EXPECT_EQ(recs[2].timestamp_ms, 1002);
}

TEST(legacy_records, magic1_no_timestamp_kept_as_minus_one) {
  auto msgs = simple(1, 2);
  msgs[0].timestamp = -1;
  auto r = up(encode_set(msgs));
  ASSERT_TRUE(r) << r.error().message();
  auto recs = decode(*r);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].timestamp_ms, -1);
  EXPECT_EQ(recs[1].timestamp_ms, 1001);
  EXPECT_EQ(batch_view(*r).max_timestamp(), 1001);
}

TEST(legacy_records, magic1_log_append_time_attribute_uses_now) {
  auto msgs = simple(1, 2);
  msgs[1].attributes = 0x08;
  auto r = up(encode_set(msgs));
  ASSERT_TRUE(r) << r.error().message();
  auto recs = decode(*r);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].timestamp_ms, 1000);
  EXPECT_EQ(recs[1].timestamp_ms, now);
  EXPECT_EQ(batch_view(*r).max_timestamp(), now);
}

TEST(legacy_records, magic0_ignores_timestamp_type_bit) {
  auto msgs = simple(0, 1);
  msgs[0].attributes = 0x08;
  auto r = up(encode_set(msgs), 0);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(decode(*r).at(0).timestamp_ms, -1);
}

TEST(legacy_records, magic1_negative_timestamp_rejected) {
  auto msgs = simple(1, 1);
  msgs[0].timestamp = -2;
  expect_error(up(encode_set(msgs)), legacy_errc::bad_timestamp);
}

TEST(legacy_records, null_key_and_null_value_preserved) {
  std::vector<legacy_msg> msgs = {{.magic = 0, .key = std::nullopt, .value = std::nullopt},
                                  {.magic = 0, .key = "k", .value = std::nullopt},
                                  {.magic = 0, .key = std::nullopt, .value = "v"}};
  auto r = up(encode_set(msgs), 0);
  ASSERT_TRUE(r) << r.error().message();
  auto recs = decode(*r);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_FALSE(recs[0].key);
  EXPECT_FALSE(recs[0].value);
  EXPECT_EQ(recs[1].key, "k");
  EXPECT_FALSE(recs[1].value);
  EXPECT_FALSE(recs[2].key);
  EXPECT_EQ(recs[2].value, "v");
}

TEST(legacy_records, empty_key_and_value_are_not_null) {
  std::vector<legacy_msg> msgs = {{.magic = 1, .timestamp = 7, .key = "", .value = ""}};
  auto r = up(encode_set(msgs));
  ASSERT_TRUE(r) << r.error().message();
  auto recs = decode(*r);
  ASSERT_EQ(recs.size(), 1u);
  ASSERT_TRUE(recs[0].key);
  ASSERT_TRUE(recs[0].value);
  EXPECT_EQ(*recs[0].key, "");
  EXPECT_EQ(*recs[0].value, "");
}

TEST(legacy_records, binary_key_and_large_value_byte_for_byte) {
  std::string key;
  for (int i = 0; i < 256; ++i) key.push_back(static_cast<char>(i));
  std::string value(300'000, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 131 + 7);
  auto r = up(encode_set({{.magic = 1, .timestamp = 1, .key = key, .value = value}}));
  ASSERT_TRUE(r) << r.error().message();
  auto recs = decode(*r);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].key, key);
  EXPECT_EQ(recs[0].value, value);
}

TEST(legacy_records, outer_offsets_ignored_record_offsets_are_0_to_n_minus_1) {
  auto msgs = simple(0, 3);
  msgs[0].offset = 99;
  msgs[1].offset = -5;
  msgs[2].offset = 99;
  auto r = up(encode_set(msgs), 0);
  ASSERT_TRUE(r) << r.error().message();
  expect_simple(*r, 3, false);
}

// ---- compressed wrappers -----------------------------------------------------------------------

void check_wrapper(compression codec, int8_t magic) {
  bytes inner = encode_set(simple(magic, 5));
  auto w = wrapper(codec, magic, inner, magic == 1 ? 4 : 0, magic == 1 ? 2000 : -1);
  auto r = up(encode_set({w}), magic == 0 ? 1 : 2);
  ASSERT_TRUE(r) << r.error().message();
  expect_v2_header(*r, codec, 5);
  expect_simple(*r, 5, magic == 1);  // inner CreateTime timestamps, not the wrapper's
}

TEST(legacy_records, gzip_wrapper_magic0) { check_wrapper(compression::gzip, 0); }
TEST(legacy_records, gzip_wrapper_magic1) { check_wrapper(compression::gzip, 1); }
TEST(legacy_records, snappy_wrapper_magic0) { check_wrapper(compression::snappy, 0); }
TEST(legacy_records, snappy_wrapper_magic1) { check_wrapper(compression::snappy, 1); }
TEST(legacy_records, lz4_wrapper_magic0) { check_wrapper(compression::lz4, 0); }
TEST(legacy_records, lz4_wrapper_magic1) { check_wrapper(compression::lz4, 1); }

// Old Kafka / magic 0 writers computed the LZ4 frame header checksum wrongly; Kafka ignores it
// for magic 0 and checks it for magic 1.
bytes lz4_with_bad_header_checksum(const bytes& inner) {
  auto c = compress(compression::lz4, inner);
  EXPECT_TRUE(c);
  bytes f = *c;
  uint8_t flg = f[4];
  size_t hc = 4 + 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
  f[hc] ^= 0x5A;
  EXPECT_FALSE(decompress(compression::lz4, f, mib));  // liblz4 alone refuses it
  return f;
}

TEST(legacy_records, lz4_magic0_bad_header_checksum_accepted) {
  bytes f = lz4_with_bad_header_checksum(encode_set(simple(0, 3)));
  legacy_msg w{.magic = 0, .attributes = 3, .value = std::string(f.begin(), f.end())};
  auto r = up(encode_set({w}), 0);
  ASSERT_TRUE(r) << r.error().message();
  expect_simple(*r, 3, false);
}

TEST(legacy_records, lz4_magic1_bad_header_checksum_rejected) {
  bytes f = lz4_with_bad_header_checksum(encode_set(simple(1, 3)));
  legacy_msg w{.offset = 2, .magic = 1, .attributes = 3, .timestamp = 1, .value = std::string(f.begin(), f.end())};
  expect_error(up(encode_set({w})), legacy_errc::corrupt_compressed);
}

TEST(legacy_records, magic0_wrapper_inner_offsets_ignored) {
  auto msgs = simple(0, 3);
  msgs[0].offset = 500;  // absolute offsets from an old producer: meaningless on produce
  msgs[1].offset = 7;
  msgs[2].offset = 500;
  auto r = up(encode_set({wrapper(compression::gzip, 0, encode_set(msgs), 12345)}), 0);
  ASSERT_TRUE(r) << r.error().message();
  expect_simple(*r, 3, false);
}

TEST(legacy_records, magic1_wrapper_offset_zero_accepted) {  // librdkafka
  auto r = up(encode_set({wrapper(compression::gzip, 1, encode_set(simple(1, 3)), 0)}));
  ASSERT_TRUE(r) << r.error().message();
  expect_simple(*r, 3, true);
}

TEST(legacy_records, magic1_wrapper_offset_above_last_inner_accepted) {
  auto r = up(encode_set({wrapper(compression::gzip, 1, encode_set(simple(1, 3)), 1000)}));
  ASSERT_TRUE(r) << r.error().message();
  expect_simple(*r, 3, true);
}

TEST(legacy_records, magic1_wrapper_offset_below_last_inner_rejected) {
  expect_error(up(encode_set({wrapper(compression::gzip, 1, encode_set(simple(1, 3)), 1)})), legacy_errc::bad_offset);
}

TEST(legacy_records, magic1_wrapper_non_sequential_inner_offsets_reassigned) {
  auto msgs = simple(1, 3);
  msgs[1].offset = 0;  // Kafka rewrites rather than rejects (older clients got this wrong)
  auto r = up(encode_set({wrapper(compression::snappy, 1, encode_set(msgs), 2)}));
  ASSERT_TRUE(r) << r.error().message();
  expect_simple(*r, 3, true);
}

TEST(legacy_records, magic1_wrapper_log_append_time_applies_to_inner) {
  auto r = up(encode_set({wrapper(compression::gzip, 1, encode_set(simple(1, 3)), 2, 42, 0x08)}));
  ASSERT_TRUE(r) << r.error().message();
  for (const auto& rec : decode(*r)) EXPECT_EQ(rec.timestamp_ms, now);
  EXPECT_EQ(batch_view(*r).max_timestamp(), now);
}

TEST(legacy_records, wrapper_null_keys_and_values_preserved) {
  std::vector<legacy_msg> msgs = {{.offset = 0, .magic = 1, .timestamp = 3, .key = std::nullopt, .value = ""},
                                  {.offset = 1, .magic = 1, .timestamp = 4, .key = "", .value = std::nullopt}};
  auto r = up(encode_set({wrapper(compression::lz4, 1, encode_set(msgs), 1)}));
  ASSERT_TRUE(r) << r.error().message();
  auto recs = decode(*r);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].key);
  EXPECT_EQ(recs[0].value, "");
  EXPECT_EQ(recs[1].key, "");
  EXPECT_FALSE(recs[1].value);
  EXPECT_EQ(recs[0].timestamp_ms, 3);
  EXPECT_EQ(recs[1].timestamp_ms, 4);
}

TEST(legacy_records, nested_compression_rejected) {
  bytes innermost = encode_set(simple(1, 2));
  bytes inner = encode_set({wrapper(compression::gzip, 1, innermost, 1)});
  expect_error(up(encode_set({wrapper(compression::gzip, 1, inner, 0)})), legacy_errc::nested_compression);
}

TEST(legacy_records, inner_magic_must_match_wrapper) {
  expect_error(up(encode_set({wrapper(compression::gzip, 1, encode_set(simple(0, 2)), 1)})), legacy_errc::bad_magic);
  expect_error(up(encode_set({wrapper(compression::gzip, 0, encode_set(simple(1, 2)), 1)})), legacy_errc::bad_magic);
}

TEST(legacy_records, wrapper_with_empty_inner_set_rejected) {
  expect_error(up(encode_set({wrapper(compression::gzip, 1, {}, 0)})), legacy_errc::empty);
}

TEST(legacy_records, wrapper_null_value_rejected) {
  legacy_msg w{.magic = 1, .attributes = 1, .timestamp = 1, .value = std::nullopt};
  expect_error(up(encode_set({w})), legacy_errc::corrupt_compressed);
}

TEST(legacy_records, wrapper_garbage_value_rejected) {
  for (uint8_t codec : {1, 2, 3}) {
    legacy_msg w{.magic = 1, .attributes = codec, .timestamp = 1, .value = "definitely not compressed data"};
    expect_error(up(encode_set({w})), legacy_errc::corrupt_compressed);
  }
}

TEST(legacy_records, wrapper_inner_crc_error_rejected) {
  bytes inner = encode_set(simple(1, 2));
  inner.back() ^= 1;  // last byte of the last value
  expect_error(up(encode_set({wrapper(compression::gzip, 1, inner, 1)})), legacy_errc::bad_crc);
}

TEST(legacy_records, wrapper_inner_partial_trailing_message_rejected) {
  bytes inner = encode_set(simple(1, 2));
  inner.pop_back();
  expect_error(up(encode_set({wrapper(compression::gzip, 1, inner, 1)})), legacy_errc::truncated);
}

TEST(legacy_records, zstd_and_reserved_codecs_rejected) {
  bytes inner = encode_set(simple(1, 2));
  expect_error(up(encode_set({wrapper(compression::zstd, 1, inner, 1)})), legacy_errc::bad_codec);
  for (uint8_t codec : {5, 6, 7}) {
    legacy_msg w{.magic = 1, .attributes = codec, .timestamp = 1, .value = "x"};
    expect_error(up(encode_set({w})), legacy_errc::bad_codec);
  }
}

TEST(legacy_records, compressed_wrapper_not_alone_rejected) {
  bytes inner = encode_set(simple(1, 2));
  auto w = wrapper(compression::gzip, 1, inner, 1);
  expect_error(up(encode_set({w, w})), legacy_errc::multiple_wrappers);
  auto plain = simple(1, 1);
  expect_error(up(encode_set({plain[0], w})), legacy_errc::multiple_wrappers);
}

// ---- magic vs. produce version -----------------------------------------------------------------

TEST(legacy_records, magic1_rejected_for_produce_v0_and_v1) {
  auto set = encode_set(simple(1, 2));
  expect_error(up(set, 0), legacy_errc::bad_magic);
  expect_error(up(set, 1), legacy_errc::bad_magic);
  EXPECT_TRUE(up(set, 2));
}

TEST(legacy_records, compressed_magic1_rejected_for_produce_v1) {
  expect_error(up(encode_set({wrapper(compression::gzip, 1, encode_set(simple(1, 2)), 1)}), 1),
               legacy_errc::bad_magic);
}

TEST(legacy_records, legacy_rejected_for_produce_v3_and_up) {
  auto set = encode_set(simple(0, 1));
  for (int16_t v : {3, 7, 9, -1}) expect_error(up(set, v), legacy_errc::bad_magic);
}

TEST(legacy_records, magic2_and_unknown_magics_rejected) {
  for (int8_t magic : {2, 3, -1}) {
    legacy_msg m{.magic = 0, .key = "k", .value = "v"};
    bytes body = message_body(m);
    body[4] = static_cast<uint8_t>(magic);
    store_be<uint32_t>(body.data(), crc32_ieee(body.data() + 4, body.size() - 4));
    expect_error(up(frame(0, body)), legacy_errc::bad_magic);
  }
}

TEST(legacy_records, mixed_magics_in_one_set_rejected) {
  auto a = simple(0, 1);
  auto b = simple(1, 1);
  expect_error(up(encode_set({a[0], b[0]})), legacy_errc::bad_magic);
  expect_error(up(encode_set({b[0], a[0]})), legacy_errc::bad_magic);
}

// ---- malformed framing -------------------------------------------------------------------------

TEST(legacy_records, crc_mismatch_rejected) {
  bytes set = encode_set(simple(0, 2));
  set.back() ^= 0x40;
  expect_error(up(set, 0), legacy_errc::bad_crc);
  bytes set2 = encode_set(simple(1, 2));
  set2[12] ^= 1;  // the first message's stored CRC
  expect_error(up(set2), legacy_errc::bad_crc);
}

TEST(legacy_records, empty_set_rejected) { expect_error(up({}), legacy_errc::empty); }

TEST(legacy_records, message_size_below_minimum_rejected) {
  bytes body = message_body({.magic = 0, .key = std::nullopt, .value = std::nullopt});
  ASSERT_EQ(body.size(), 14u);
  body.pop_back();
  expect_error(up(frame(0, body), 0), legacy_errc::bad_length);
  // magic 1 needs 22 bytes; a valid-CRC 14-byte magic 1 message is too short.
  bytes v1 = message_body({.magic = 0, .key = std::nullopt, .value = std::nullopt});
  v1[4] = 1;
  store_be<uint32_t>(v1.data(), crc32_ieee(v1.data() + 4, v1.size() - 4));
  expect_error(up(frame(0, v1)), legacy_errc::bad_length);
}

TEST(legacy_records, negative_message_size_rejected) {
  bytes set = encode_set(simple(0, 1));
  store_be<int32_t>(set.data() + 8, -1);
  expect_error(up(set, 0), legacy_errc::bad_length);
}

TEST(legacy_records, message_size_beyond_set_is_truncated) {
  bytes set = encode_set(simple(0, 1));
  store_be<int32_t>(set.data() + 8, 0x7fffffff);
  expect_error(up(set, 0), legacy_errc::truncated);
}

// Rewrites a field of a single-message magic 0 set and fixes the CRC so only the length is wrong.
bytes with_key_length(int32_t key_len) {
  bytes body = message_body({.magic = 0, .key = "key", .value = "value"});
  store_be<int32_t>(body.data() + 6, key_len);
  store_be<uint32_t>(body.data(), crc32_ieee(body.data() + 4, body.size() - 4));
  return frame(0, body);
}

TEST(legacy_records, key_length_outside_message_rejected) {
  expect_error(up(with_key_length(1000), 0), legacy_errc::bad_length);
  expect_error(up(with_key_length(0x7fffffff), 0), legacy_errc::bad_length);
  expect_error(up(with_key_length(-2), 0), legacy_errc::bad_length);
  expect_error(up(with_key_length(4), 0), legacy_errc::bad_length);  // value length misread
}

TEST(legacy_records, bytes_after_value_rejected) {
  bytes body = message_body({.magic = 0, .key = "k", .value = "v"});
  body.push_back(0);
  store_be<uint32_t>(body.data(), crc32_ieee(body.data() + 4, body.size() - 4));
  expect_error(up(frame(0, body), 0), legacy_errc::bad_length);
}

// Every prefix of a valid set: success only at message boundaries (with that many records),
// a clean error everywhere else (sanitizer builds catch any over-read).
void truncate_everywhere(const bytes& set, int16_t version, const std::vector<size_t>& boundaries) {
  for (size_t n = 0; n < set.size(); ++n) {
    bytes prefix(set.begin(), set.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = up(prefix, version);
    size_t complete = 0;
    bool at_boundary = false;
    for (size_t i = 0; i < boundaries.size(); ++i) {
      if (boundaries[i] <= n) complete = i + 1;
      if (boundaries[i] == n) at_boundary = true;
    }
    if (n > 0 && at_boundary) {
      ASSERT_TRUE(r) << "prefix " << n << ": " << r.error().message();
      EXPECT_EQ(batch_view(*r).records_count(), static_cast<int32_t>(complete));
    } else {
      ASSERT_FALSE(r) << "prefix " << n << " accepted";
      if (n == 0) {
        EXPECT_EQ(r.error(), make_error_code(legacy_errc::empty));
      } else {
        EXPECT_TRUE(r.error() == make_error_code(legacy_errc::truncated) ||
                    r.error() == make_error_code(legacy_errc::bad_length) ||
                    r.error() == make_error_code(legacy_errc::bad_crc) ||
                    r.error() == make_error_code(legacy_errc::corrupt_compressed))
            << "prefix " << n << ": " << r.error().message();
      }
    }
  }
}

TEST(legacy_records, truncated_at_every_byte_magic0) {
  auto msgs = simple(0, 3);
  std::vector<size_t> ends;
  bytes set;
  for (const auto& m : msgs) {
    bytes e = frame(m.offset, message_body(m));
    set.insert(set.end(), e.begin(), e.end());
    ends.push_back(set.size());
  }
  truncate_everywhere(set, 0, ends);
}

TEST(legacy_records, truncated_at_every_byte_magic1) {
  auto msgs = simple(1, 3);
  msgs[1].key = std::nullopt;
  std::vector<size_t> ends;
  bytes set;
  for (const auto& m : msgs) {
    bytes e = frame(m.offset, message_body(m));
    set.insert(set.end(), e.begin(), e.end());
    ends.push_back(set.size());
  }
  truncate_everywhere(set, 2, ends);
}

TEST(legacy_records, truncated_at_every_byte_compressed_wrapper) {
  for (compression codec : {compression::gzip, compression::snappy, compression::lz4}) {
    bytes set = encode_set({wrapper(codec, 1, encode_set(simple(1, 3)), 2)});
    truncate_everywhere(set, 2, {set.size()});
  }
}

// ---- bounds ------------------------------------------------------------------------------------

TEST(legacy_records, output_larger_than_max_batch_bytes_rejected) {
  bytes set = encode_set(simple(1, 10));
  auto r = up(set, 2, mib);
  ASSERT_TRUE(r);
  size_t exact = r->size();
  auto same = up(set, 2, exact);
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, *r);
  expect_error(up(set, 2, exact - 1), legacy_errc::too_large);
  expect_error(up(set, 2, 0), legacy_errc::too_large);
  expect_error(up(set, 2, batch_layout::header_size), legacy_errc::too_large);
}

TEST(legacy_records, compressed_output_larger_than_max_batch_bytes_rejected) {
  bytes set = encode_set({wrapper(compression::gzip, 1, encode_set(simple(1, 50)), 49)});
  auto r = up(set, 2, mib);
  ASSERT_TRUE(r);
  EXPECT_TRUE(up(set, 2, r->size()));
  expect_error(up(set, 2, r->size() - 1), legacy_errc::too_large);
}

TEST(legacy_records, decompression_bomb_bounded) {
  // 8 MiB of zeros in one value compresses to a few KiB; a 1 MiB decompression bound refuses it.
  std::vector<legacy_msg> msgs = {{.offset = 0, .magic = 1, .timestamp = 1, .value = std::string(8 * mib, '\0')}};
  bytes set = encode_set({wrapper(compression::gzip, 1, encode_set(msgs), 0)});
  ASSERT_LT(set.size(), 64 * 1024u);
  auto r = upconvert_message_set(set, 2, now, mib, mib);
  expect_error(r, legacy_errc::too_large);
  // With room to inflate it converts, and the batch compresses again to well under 1 MiB.
  auto ok = upconvert_message_set(set, 2, now, mib, 16 * mib);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_LT(ok->size(), mib);
  EXPECT_EQ(decode(*ok).at(0).value->size(), 8 * mib);
}

TEST(legacy_records, error_category_names_every_code) {
  EXPECT_STREQ(legacy_category().name(), "legacy_records");
  for (int c = 1; c <= static_cast<int>(legacy_errc::bad_timestamp); ++c) {
    EXPECT_NE(legacy_category().message(c), "unknown") << c;
  }
}

TEST(legacy_records, max_legacy_magic_per_produce_version) {
  EXPECT_EQ(max_legacy_magic(0), 0);
  EXPECT_EQ(max_legacy_magic(1), 0);
  EXPECT_EQ(max_legacy_magic(2), 1);
  EXPECT_EQ(max_legacy_magic(3), -1);
}

}  // namespace
}  // namespace sluice::model
