#include "model/recompress.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/crc32c.h"
#include "base/endian.h"
#include "model/record_batch_builder.h"

namespace sluice::model {
namespace {

namespace L = batch_layout;
using bytes = std::vector<uint8_t>;
constexpr size_t mib = 1024 * 1024;

bytes sample_batch(int n = 500) {
  std::vector<record_data> recs;
  for (int i = 0; i < n; ++i) {
    record_data r;
    if (i % 7 != 0) r.key = "key-" + std::to_string(i % 13);
    if (i % 11 != 0) r.value = "value payload " + std::to_string(i) + std::string(static_cast<size_t>(i % 50), 'x');
    if (i % 3 == 0) r.headers = {{"trace", "abc" + std::to_string(i)}, {"nullable", std::nullopt}};
    r.timestamp_ms = 1'700'000'000'000 + i;
    recs.push_back(std::move(r));
  }
  return build_batch(recs, {.base_offset = 1000, .partition_leader_epoch = 7, .attributes = batch_attr::transactional,
                            .producer_id = 4242, .producer_epoch = 3, .base_sequence = 17});
}

// Fixes batch_length and CRC after a test edits a batch by hand.
void reseal(bytes& b) {
  store_be<int32_t>(b.data() + L::batch_length, static_cast<int32_t>(b.size() - L::log_overhead));
  store_be<uint32_t>(b.data() + L::crc, crc32c(b.data() + L::attributes, b.size() - L::attributes));
}

void expect_same_header_except_codec(const bytes& a, const bytes& b) {
  batch_view x(a), y(b);
  EXPECT_EQ(x.base_offset(), y.base_offset());
  EXPECT_EQ(x.partition_leader_epoch(), y.partition_leader_epoch());
  EXPECT_EQ(x.magic(), y.magic());
  EXPECT_EQ(x.attributes() & ~batch_attr::compression_mask, y.attributes() & ~batch_attr::compression_mask);
  EXPECT_EQ(x.last_offset_delta(), y.last_offset_delta());
  EXPECT_EQ(x.base_timestamp(), y.base_timestamp());
  EXPECT_EQ(x.max_timestamp(), y.max_timestamp());
  EXPECT_EQ(x.producer_id(), y.producer_id());
  EXPECT_EQ(x.producer_epoch(), y.producer_epoch());
  EXPECT_EQ(x.base_sequence(), y.base_sequence());
  EXPECT_EQ(x.records_count(), y.records_count());
}

std::string codec_name(compression c) {
  static const char* const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  return names[static_cast<int>(c)];
}

class recompress_to : public testing::TestWithParam<compression> {};

TEST_P(recompress_to, codec_and_back_to_none) {
  compression codec = GetParam();
  bytes plain = sample_batch();
  ASSERT_TRUE(validate_batch(plain));
  auto c = recompress_batch(plain, codec, -1, mib);
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(validate_batch(*c));  // length, magic, CRC-32C, counts
  batch_view v(*c);
  EXPECT_EQ(v.codec(), codec);
  EXPECT_TRUE(v.crc_ok());
  EXPECT_EQ(static_cast<size_t>(v.batch_length()) + L::log_overhead, c->size());
  EXPECT_LT(c->size(), plain.size());
  expect_same_header_except_codec(plain, *c);
  auto records = decompress(codec, v.records(), mib);
  ASSERT_TRUE(records);
  EXPECT_TRUE(std::equal(records->begin(), records->end(), batch_view(plain).records().begin(),
                         batch_view(plain).records().end()));
  EXPECT_TRUE(validate_compressed_batch(*c, mib));

  auto back = recompress_batch(*c, compression::none, -1, mib);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, plain);  // byte-identical, CRC included
}

TEST_P(recompress_to, from_every_other_codec) {
  compression target = GetParam();
  bytes plain = sample_batch(50);
  for (compression src : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
    auto s = recompress_batch(plain, src, -1, mib);
    ASSERT_TRUE(s);
    auto t = recompress_batch(*s, target, -1, mib);
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_TRUE(validate_batch(*t));
    EXPECT_EQ(batch_view(*t).codec(), target);
    auto p = recompress_batch(*t, compression::none, -1, mib);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, plain);
  }
}

INSTANTIATE_TEST_SUITE_P(recompress, recompress_to,
                         testing::Values(compression::gzip, compression::snappy, compression::lz4, compression::zstd),
                         [](const auto& info) { return codec_name(info.param); });

TEST(recompress, none_to_none_is_identity) {
  bytes plain = sample_batch(3);
  auto r = recompress_batch(plain, compression::none, -1, mib);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, plain);
}

TEST(recompress, keeps_control_and_log_append_time_bits) {
  bytes plain = build_batch({{"k", "v", {}, 5}}, {.attributes = batch_attr::transactional | batch_attr::control});
  set_log_append_time(plain, 99);
  auto c = recompress_batch(plain, compression::zstd, 3, mib);
  ASSERT_TRUE(c);
  EXPECT_EQ(batch_view(*c).attributes(), batch_attr::transactional | batch_attr::control |
                                             batch_attr::timestamp_type_log_append | 4);
  EXPECT_EQ(batch_view(*c).max_timestamp(), 99);
  EXPECT_TRUE(validate_batch(*c));
}

TEST(recompress, bound_applies_to_decompressed_records) {
  bytes plain = sample_batch();
  size_t records_size = plain.size() - L::header_size;
  auto c = recompress_batch(plain, compression::lz4, -1, mib);
  ASSERT_TRUE(c);
  EXPECT_TRUE(validate_compressed_batch(*c, records_size));
  EXPECT_EQ(validate_compressed_batch(*c, records_size - 1).error(), compression_errc::output_too_large);
  EXPECT_EQ(recompress_batch(*c, compression::none, -1, records_size - 1).error(), compression_errc::output_too_large);
  EXPECT_EQ(recompress_batch(plain, compression::gzip, -1, records_size - 1).error(), compression_errc::output_too_large);
}

TEST(recompress, unsupported_codec_values) {
  bytes plain = sample_batch(2);
  EXPECT_EQ(recompress_batch(plain, static_cast<compression>(6), -1, mib).error(), compression_errc::unsupported_codec);
  bytes odd = plain;
  store_be<int16_t>(odd.data() + L::attributes, 5);
  reseal(odd);
  EXPECT_EQ(validate_compressed_batch(odd, mib).error(), compression_errc::unsupported_codec);
}

// A compressed batch whose CRC is fine but whose contents lie: what validate_compressed_batch
// exists to catch (validate_batch cannot look inside compressed records).
bytes with_records(const bytes& header_src, compression codec, const bytes& records_plain) {
  auto c = compress(codec, records_plain);
  SLUICE_ASSERT(c.has_value(), "compress");
  bytes b(header_src.begin(), header_src.begin() + L::header_size);
  b.insert(b.end(), c->begin(), c->end());
  store_be<int16_t>(b.data() + L::attributes,
                    static_cast<int16_t>((load_be<int16_t>(b.data() + L::attributes) & ~7) | static_cast<int>(codec)));
  reseal(b);
  return b;
}

TEST(validate_compressed, count_larger_than_records_present) {
  bytes plain = sample_batch(10);
  bytes recs(plain.begin() + L::header_size, plain.end());
  bytes b = with_records(plain, compression::zstd, bytes(recs.begin(), recs.end()));
  ASSERT_TRUE(validate_compressed_batch(b, mib));
  // Claim 11 records (and a matching last offset delta): passes validate_batch, fails framing.
  store_be<int32_t>(b.data() + L::records_count, 11);
  store_be<int32_t>(b.data() + L::last_offset_delta, 10);
  reseal(b);
  ASSERT_TRUE(validate_batch(b));
  EXPECT_EQ(validate_compressed_batch(b, mib).error(), batch_errc::bad_records);
  EXPECT_EQ(recompress_batch(b, compression::none, -1, mib).error(), batch_errc::bad_records);
}

TEST(validate_compressed, trailing_bytes_after_records) {
  bytes plain = sample_batch(10);
  bytes recs(plain.begin() + L::header_size, plain.end());
  recs.push_back(0);
  bytes b = with_records(plain, compression::snappy, recs);
  ASSERT_TRUE(validate_batch(b));
  EXPECT_EQ(validate_compressed_batch(b, mib).error(), batch_errc::bad_records);
}

TEST(validate_compressed, last_offset_delta_mismatch) {
  bytes plain = sample_batch(10);
  bytes b = with_records(plain, compression::gzip, bytes(plain.begin() + L::header_size, plain.end()));
  store_be<int32_t>(b.data() + L::last_offset_delta, 12);
  reseal(b);
  ASSERT_TRUE(validate_batch(b));
  EXPECT_EQ(validate_compressed_batch(b, mib).error(), batch_errc::bad_record_count);
}

TEST(validate_compressed, corrupt_compressed_body) {
  bytes plain = sample_batch(100);
  for (compression codec : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
    auto c = recompress_batch(plain, codec, -1, mib);
    ASSERT_TRUE(c);
    bytes b(c->begin(), c->end() - 3);  // truncated compressed stream, resealed
    reseal(b);
    ASSERT_TRUE(validate_batch(b));
    auto r = validate_compressed_batch(b, mib);
    EXPECT_FALSE(r) << static_cast<int>(codec);
  }
}

TEST(validate_compressed, uncompressed_batches_pass_through) {
  bytes plain = sample_batch(10);
  EXPECT_TRUE(validate_compressed_batch(plain, mib));
  EXPECT_EQ(validate_compressed_batch(plain, 10).error(), compression_errc::output_too_large);
  EXPECT_EQ(validate_compressed_batch(std::span(plain.data(), 20), mib).error(), batch_errc::truncated);
}

// ---- batches produced by librdkafka (tests/data/compression/README.md) ----------------------------

bytes librdkafka_fixture(const char* codec) {
  auto p = std::filesystem::path(__FILE__).parent_path() / "../../tests/data/compression" /
           (std::string("librdkafka_") + codec + ".batch");
  std::ifstream f(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void expect_librdkafka_records(const bytes& plain_batch, const char* codec) {
  auto recs = decode_records(plain_batch);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 200u);
  for (int i = 0; i < 200; ++i) {
    const auto& r = (*recs)[static_cast<size_t>(i)];
    std::string unit = std::string("librdkafka ") + codec + " record " + std::to_string(i) + " ";
    std::string value;
    for (int k = 0; k < 1 + i % 20; ++k) value += unit;
    EXPECT_EQ(r.value, value) << i;
    EXPECT_EQ(r.key, i % 3 ? std::optional<std::string>("key-" + std::to_string(i % 10)) : std::nullopt) << i;
    EXPECT_EQ(r.timestamp_ms, 1700000000000 + i);
    EXPECT_EQ(r.headers.size(), i % 5 == 0 ? 1u : 0u);
  }
}

class librdkafka_batch : public testing::TestWithParam<compression> {};

TEST_P(librdkafka_batch, validates_decodes_and_recompresses) {
  compression codec = GetParam();
  std::string name = codec_name(codec);
  bytes b = librdkafka_fixture(name.c_str());
  ASSERT_FALSE(b.empty());
  ASSERT_TRUE(validate_batch(b));
  EXPECT_EQ(batch_view(b).codec(), codec);
  EXPECT_TRUE(validate_compressed_batch(b, mib));
  auto plain = recompress_batch(b, compression::none, -1, mib);
  ASSERT_TRUE(plain) << plain.error().message();
  ASSERT_TRUE(validate_batch(*plain));
  expect_librdkafka_records(*plain, name.c_str());
  // Our own encoding of the same records, back to none: identical to librdkafka's content.
  auto ours = recompress_batch(b, codec, -1, mib);
  ASSERT_TRUE(ours);
  auto ours_plain = recompress_batch(*ours, compression::none, -1, mib);
  ASSERT_TRUE(ours_plain);
  EXPECT_EQ(*ours_plain, *plain);
}

INSTANTIATE_TEST_SUITE_P(recompress, librdkafka_batch,
                         testing::Values(compression::gzip, compression::snappy, compression::lz4, compression::zstd),
                         [](const auto& info) { return codec_name(info.param); });

TEST(librdkafka_batch_format, snappy_is_raw_and_lz4_header_matches_ours) {
  bytes s = librdkafka_fixture("snappy");
  ASSERT_GT(s.size(), L::header_size + 8);
  EXPECT_NE(s[L::header_size], 0x82) << "librdkafka writes raw snappy, no xerial header";
  bytes l = librdkafka_fixture("lz4");
  auto ours = compress(compression::lz4, bytes(100, 'a'));
  ASSERT_TRUE(ours);
  EXPECT_TRUE(std::equal(l.begin() + L::header_size, l.begin() + L::header_size + 7, ours->begin()));
}

}  // namespace
}  // namespace sluice::model
