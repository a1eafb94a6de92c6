#include "model/compression.h"

#include <gtest/gtest.h>
#include <snappy.h>
#include <sys/resource.h>
#include <zlib.h>
#include <zstd.h>
#include <lz4frame.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace sluice::model {
namespace {

using bytes = std::vector<uint8_t>;

constexpr size_t mib = 1024 * 1024;
const compression all_codecs[] = {compression::gzip, compression::snappy, compression::lz4, compression::zstd};

const char* codec_name(compression c) {
  switch (c) {
    case compression::none: return "none";
    case compression::gzip: return "gzip";
    case compression::snappy: return "snappy";
    case compression::lz4: return "lz4";
    case compression::zstd: return "zstd";
  }
  return "?";
}

bytes to_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }
void append(bytes& b, std::initializer_list<int> v) {
  for (int x : v) b.push_back(static_cast<uint8_t>(x));
}

// Log-like text: compresses 5-10x, like typical Kafka payloads.
bytes compressible(size_t n) {
  bytes out;
  out.reserve(n);
  std::mt19937 rng(42);
  while (out.size() < n) {
    std::string line = "2024-05-01T12:00:00Z INFO request id=" + std::to_string(rng() % 100000) +
                       " path=/api/v1/items status=200 latency_ms=" + std::to_string(rng() % 500) + "\n";
    out.insert(out.end(), line.begin(), line.end());
  }
  out.resize(n);
  return out;
}

bytes incompressible(size_t n) {
  bytes out(n);
  std::mt19937_64 rng(7);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

bytes read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
void write_file(const std::filesystem::path& p, const bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Runs `cmd` through the shell (the codec CLIs are test fixtures generators); true on exit 0.
bool run(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

std::filesystem::path temp_dir() {
  auto d = std::filesystem::path(testing::TempDir()) /
           ("sluice_compression_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::create_directories(d);
  return d;
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// ---- round trips ------------------------------------------------------------------------------

struct round_trip_case {
  compression codec;
  const char* input;  // empty, small, compressible_1mib, incompressible_1mib
};

bytes input_for(std::string_view name) {
  if (name == "empty") return {};
  if (name == "small") return to_bytes("hello, kafka");
  if (name == "compressible_1mib") return compressible(mib);
  return incompressible(mib);
}

class round_trip : public testing::TestWithParam<round_trip_case> {};

TEST_P(round_trip, default_level) {
  auto [codec, name] = GetParam();
  bytes in = input_for(name);
  auto c = compress(codec, in);
  ASSERT_TRUE(c) << c.error().message();
  if (std::string_view(name) == "compressible_1mib") {
    EXPECT_LT(c->size(), in.size() / 3);
  }
  auto d = decompress(codec, *c, in.size());  // the exact size is within the bound
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, in);
  if (!in.empty()) {
    auto small = decompress(codec, *c, in.size() - 1);
    ASSERT_FALSE(small);
    EXPECT_EQ(small.error(), compression_errc::output_too_large);
  }
}

std::vector<round_trip_case> round_trip_cases() {
  std::vector<round_trip_case> v;
  for (auto c : all_codecs)
    for (const char* n : {"empty", "small", "compressible_1mib", "incompressible_1mib"}) v.push_back({c, n});
  return v;
}
INSTANTIATE_TEST_SUITE_P(compression, round_trip, testing::ValuesIn(round_trip_cases()),
                         [](const auto& info) { return std::string(codec_name(info.param.codec)) + "_" + info.param.input; });

TEST(compression, explicit_levels_round_trip) {
  bytes in = compressible(200 * 1024);
  for (auto [codec, level] : {std::pair{compression::gzip, 1}, {compression::gzip, 9}, {compression::lz4, 1},
                              {compression::lz4, 9}, {compression::lz4, 17}, {compression::zstd, 1},
                              {compression::zstd, 19}, {compression::zstd, -5}}) {
    auto c = compress(codec, in, level);
    ASSERT_TRUE(c) << codec_name(codec) << " " << level;
    auto d = decompress(codec, *c, in.size());
    ASSERT_TRUE(d) << codec_name(codec) << " " << level;
    EXPECT_EQ(*d, in);
  }
}

TEST(compression, bad_levels_and_codecs_rejected) {
  bytes in = to_bytes("x");
  EXPECT_EQ(compress(compression::gzip, in, 10).error(), compression_errc::bad_level);
  EXPECT_EQ(compress(compression::lz4, in, 18).error(), compression_errc::bad_level);
  EXPECT_EQ(compress(compression::zstd, in, 23).error(), compression_errc::bad_level);
  EXPECT_EQ(compress(compression::none, in).error(), compression_errc::unsupported_codec);
  EXPECT_EQ(decompress(compression::none, in, 10).error(), compression_errc::unsupported_codec);
  EXPECT_EQ(decompress(static_cast<compression>(5), in, 10).error(), compression_errc::unsupported_codec);
  EXPECT_EQ(std::string(compression_category().name()), "compression");
}

// ---- snappy: xerial framing golden bytes and raw snappy ------------------------------------------

const bytes xerial_header = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00, 0, 0, 0, 1, 0, 0, 0, 1};

TEST(compression, snappy_xerial_golden_small) {
  // "hello": header, block length 7, raw snappy = varint(5), literal tag (5-1)<<2, "hello".
  bytes expected = xerial_header;
  append(expected, {0x00, 0x00, 0x00, 0x07, 0x05, 0x10, 'h', 'e', 'l', 'l', 'o'});
  auto c = compress(compression::snappy, to_bytes("hello"));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, expected);
  auto d = decompress(compression::snappy, expected, 100);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, to_bytes("hello"));
}

TEST(compression, snappy_xerial_empty_is_header_only) {
  auto c = compress(compression::snappy, {});
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, xerial_header);
}

TEST(compression, snappy_xerial_blocks_are_32kib_of_input) {
  bytes in = compressible(100 * 1024);  // 32 + 32 + 32 + 4 KiB
  auto c = compress(compression::snappy, in);
  ASSERT_TRUE(c);
  ASSERT_TRUE(std::equal(xerial_header.begin(), xerial_header.end(), c->begin()));
  size_t pos = 16, off = 0;
  std::vector<size_t> block_sizes;
  while (pos < c->size()) {
    ASSERT_LE(pos + 4, c->size());
    uint32_t len = (uint32_t{(*c)[pos]} << 24) | ((*c)[pos + 1] << 16) | ((*c)[pos + 2] << 8) | (*c)[pos + 3];
    ASSERT_LE(pos + 4 + len, c->size());
    std::string raw;
    ASSERT_TRUE(snappy::Uncompress(reinterpret_cast<const char*>(c->data() + pos + 4), len, &raw));
    ASSERT_TRUE(std::equal(raw.begin(), raw.end(), in.begin() + static_cast<ptrdiff_t>(off)));
    block_sizes.push_back(raw.size());
    off += raw.size();
    pos += 4 + len;
  }
  EXPECT_EQ(block_sizes, (std::vector<size_t>{32768, 32768, 32768, 4096}));
}

TEST(compression, snappy_hand_built_multi_block_and_concatenated_streams) {
  // Two xerial streams back to back (what concatenating snappy-java outputs gives), built by hand.
  bytes s = xerial_header;
  append(s, {0, 0, 0, 5, 0x03, 0x08, 'a', 'b', 'c'});  // block "abc"
  append(s, {0, 0, 0, 4, 0x02, 0x04, 'd', 'e'});       // block "de"
  s.insert(s.end(), xerial_header.begin(), xerial_header.end());
  append(s, {0, 0, 0, 3, 0x01, 0x00, 'f'});            // block "f"
  auto d = decompress(compression::snappy, s, 100);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, to_bytes("abcdef"));
}

TEST(compression, snappy_raw_accepted) {
  bytes raw = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};  // no xerial header
  auto d = decompress(compression::snappy, raw, 100);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, to_bytes("hello"));
  // A larger raw block from libsnappy itself (what kafkajs' snappy plugins send).
  bytes in = compressible(300 * 1024);
  std::string out;
  snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &out);
  auto d2 = decompress(compression::snappy, to_bytes(out), mib);
  ASSERT_TRUE(d2);
  EXPECT_EQ(*d2, in);
  EXPECT_EQ(decompress(compression::snappy, to_bytes(out), in.size() - 1).error(), compression_errc::output_too_large);
}

TEST(compression, snappy_lying_length_rejected_without_allocation) {
  // varint claiming 0xFFFFFFFF bytes followed by a tiny literal.
  bytes raw = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 'a'};
  auto d = decompress(compression::snappy, raw, SIZE_MAX);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), compression_errc::corrupt);
  bytes x = xerial_header;
  append(x, {0, 0, 0, 7});
  x.insert(x.end(), raw.begin(), raw.end());
  EXPECT_FALSE(decompress(compression::snappy, x, SIZE_MAX));
}

TEST(compression, snappy_xerial_bad_block_lengths) {
  bytes neg = xerial_header;
  append(neg, {0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(decompress(compression::snappy, neg, 100).error(), compression_errc::corrupt);
  bytes zero = xerial_header;
  append(zero, {0, 0, 0, 0});
  EXPECT_EQ(decompress(compression::snappy, zero, 100).error(), compression_errc::corrupt);
  bytes long_len = xerial_header;
  append(long_len, {0, 0, 1, 0, 0x01, 0x00, 'f'});
  EXPECT_EQ(decompress(compression::snappy, long_len, 100).error(), compression_errc::truncated);
  bytes short_hdr(xerial_header.begin(), xerial_header.begin() + 12);
  EXPECT_EQ(decompress(compression::snappy, short_hdr, 100).error(), compression_errc::truncated);
}

// ---- streams made by the command-line tools ------------------------------------------------------

struct cli_case {
  compression codec;
  const char* name;
  const char* cmd;  // %s in, %s out
};

class cli_fixture : public testing::TestWithParam<cli_case> {};

TEST_P(cli_fixture, decompresses) {
  auto [codec, name, cmd] = GetParam();
  auto dir = temp_dir();
  bytes in = compressible(600 * 1024);
  write_file(dir / "in", in);
  char buf[512];
  std::snprintf(buf, sizeof(buf), cmd, (dir / "in").c_str(), (dir / "out").c_str());
  ASSERT_TRUE(run(buf)) << buf;
  bytes c = read_file(dir / "out");
  ASSERT_FALSE(c.empty());
  auto d = decompress(codec, c, mib);
  ASSERT_TRUE(d) << buf << ": " << d.error().message();
  EXPECT_EQ(*d, in);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    compression, cli_fixture,
    testing::Values(
        cli_case{compression::gzip, "gzip_cli", "gzip -c -6 < %s > %s"},
        cli_case{compression::gzip, "gzip_cli_concatenated_members",
                 "head -c 1000 %1$s | gzip -c > %2$s && tail -c +1001 %1$s | gzip -1 -c >> %2$s"},
        cli_case{compression::lz4, "lz4_cli_default_4mib_blocks_content_checksum", "lz4 -q -c < %s > %s"},
        cli_case{compression::lz4, "lz4_cli_64kib_blocks_block_checksum_content_size",
                 "lz4 -q -c -B4 -BX --content-size %s > %s"},
        cli_case{compression::lz4, "lz4_cli_hc", "lz4 -q -c -9 < %s > %s"},
        cli_case{compression::zstd, "zstd_cli_streamed_no_content_size", "zstd -q -c < %s > %s"},
        cli_case{compression::zstd, "zstd_cli_file_with_content_size_and_checksum", "zstd -q -c -19 %s > %s"},
        cli_case{compression::zstd, "zstd_cli_two_frames", "head -c 5000 %1$s | zstd -q -c > %2$s && tail -c +5001 %1$s | zstd -q -c >> %2$s"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(compression, lz4_linked_blocks_rejected_like_kafka) {
  auto dir = temp_dir();
  write_file(dir / "in", compressible(300 * 1024));
  ASSERT_TRUE(run("lz4 -q -c -BD -B4 < " + (dir / "in").string() + " > " + (dir / "out").string()));
  auto d = decompress(compression::lz4, read_file(dir / "out"), mib);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), compression_errc::unsupported_feature);
  std::filesystem::remove_all(dir);
}

TEST(compression, lz4_frame_header_matches_kafka_lz4_block_output_stream) {
  // Kafka writes FLG 0x60 (version 01, independent blocks, no checksums, no size), BD 0x40
  // (64 KiB blocks), then the header checksum byte.
  auto c = compress(compression::lz4, compressible(1000));
  ASSERT_TRUE(c);
  ASSERT_GE(c->size(), 7u);
  EXPECT_EQ((bytes(c->begin(), c->begin() + 6)), (bytes{0x04, 0x22, 0x4d, 0x18, 0x60, 0x40}));
  // The end mark (0x00000000) closes the frame, with no content checksum after it.
  EXPECT_EQ((bytes(c->end() - 4, c->end())), (bytes{0, 0, 0, 0}));
}

TEST(compression, zstd_output_is_one_frame_with_content_size) {
  // kafka-python 2.0.2 decodes zstd with ZstdDecompressor().decompress(): one frame, and without
  // a content size it caps output at 1 MiB. Our frames carry the size, so any batch works there.
  bytes in = compressible(3 * mib);
  auto c = compress(compression::zstd, in);
  ASSERT_TRUE(c);
  EXPECT_EQ(ZSTD_getFrameContentSize(c->data(), c->size()), in.size());
  EXPECT_EQ(ZSTD_findFrameCompressedSize(c->data(), c->size()), c->size());
}

TEST(compression, gzip_output_readable_by_gzip_cli) {
  auto dir = temp_dir();
  bytes in = compressible(300 * 1024);
  for (auto codec_cmd : {std::pair{compression::gzip, "gzip -d -c"}, {compression::lz4, "lz4 -d -q -c"},
                         {compression::zstd, "zstd -d -q -c"}}) {
    auto c = compress(codec_cmd.first, in);
    ASSERT_TRUE(c);
    write_file(dir / "c", *c);
    ASSERT_TRUE(run(std::string(codec_cmd.second) + " < " + (dir / "c").string() + " > " + (dir / "d").string()))
        << codec_cmd.second;
    EXPECT_EQ(read_file(dir / "d"), in) << codec_cmd.second;
  }
  std::filesystem::remove_all(dir);
}

TEST(compression, gzip_trailing_garbage_and_raw_zlib_rejected) {
  bytes in = compressible(10000);
  auto c = compress(compression::gzip, in);
  ASSERT_TRUE(c);
  bytes g = *c;
  g.push_back(0x00);
  EXPECT_EQ(decompress(compression::gzip, g, mib).error(), compression_errc::corrupt);
  uLongf zlen = compressBound(in.size());
  bytes z(zlen);
  ASSERT_EQ(::compress(z.data(), &zlen, in.data(), in.size()), Z_OK);
  z.resize(zlen);
  EXPECT_EQ(decompress(compression::gzip, z, mib).error(), compression_errc::corrupt);
}

// ---- truncated and corrupt input -------------------------------------------------------------------

class damaged : public testing::TestWithParam<compression> {};

TEST_P(damaged, every_truncation_fails_cleanly) {
  compression codec = GetParam();
  bytes in = compressible(100 * 1024);
  auto c = compress(codec, in);
  ASSERT_TRUE(c);
  for (size_t n = 0; n < c->size(); ++n) {
    auto d = decompress(codec, std::span(c->data(), n), mib);
    if (codec == compression::snappy && d) {
      // xerial is a sequence of self-contained blocks: a cut exactly between blocks is a valid
      // shorter stream (record framing catches it); it must be a prefix of the input.
      ASSERT_LE(d->size(), in.size());
      ASSERT_TRUE(std::equal(d->begin(), d->end(), in.begin())) << n;
      continue;
    }
    ASSERT_FALSE(d) << "prefix " << n << " of " << c->size();
    ASSERT_TRUE(d.error() == compression_errc::truncated || d.error() == compression_errc::corrupt)
        << n << " " << d.error().message();
  }
}

TEST_P(damaged, corrupt_magic_fails) {
  compression codec = GetParam();
  auto c = compress(codec, compressible(10000));
  ASSERT_TRUE(c);
  bytes bad = *c;
  bad[1] ^= 0xff;  // inside the magic of every format (gzip 1f8b, xerial 'S', lz4, zstd)
  auto d = decompress(codec, bad, mib);
  EXPECT_FALSE(d);
}

TEST_P(damaged, random_corruption_never_crashes) {
  compression codec = GetParam();
  bytes in = compressible(20000);
  auto c = compress(codec, in);
  ASSERT_TRUE(c);
  std::mt19937 rng(1234);
  int errors = 0;
  for (int i = 0; i < 2000; ++i) {
    bytes bad = *c;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto d = decompress(codec, bad, 64 * 1024);
    if (!d) {
      ++errors;
    } else {
      ASSERT_LE(d->size(), 64u * 1024);
    }
  }
  EXPECT_GT(errors, 0);
}

TEST_P(damaged, random_garbage_fails_cleanly) {
  compression codec = GetParam();
  std::mt19937 rng(99);
  for (int i = 0; i < 2000; ++i) {
    bytes g(rng() % 300);
    for (auto& b : g) b = static_cast<uint8_t>(rng());
    auto d = decompress(codec, g, 64 * 1024);
    if (d) {
      ASSERT_LE(d->size(), 64u * 1024);
    }
  }
}

TEST(compression, gzip_trailer_crc_mismatch) {
  compression codec = compression::gzip;
  auto c = compress(codec, compressible(10000));
  ASSERT_TRUE(c);
  bytes bad = *c;
  bad[bad.size() - 6] ^= 0x01;  // CRC-32 of the trailer
  EXPECT_EQ(decompress(codec, bad, mib).error(), compression_errc::corrupt);
}

INSTANTIATE_TEST_SUITE_P(compression, damaged, testing::ValuesIn(all_codecs),
                         [](const auto& info) { return std::string(codec_name(info.param)); });

// ---- decompression bombs ---------------------------------------------------------------------------

constexpr size_t gib = 1024 * mib;

// Runs `fn`, checking it fails with output_too_large within `max_ms` and without the process's
// peak RSS growing by anywhere near the bomb's size.
template <typename F>
void expect_bomb_refused(F&& fn, int max_ms = 5000) {
  long rss_before = peak_rss_kib();
  auto t0 = std::chrono::steady_clock::now();
  result<bytes> r = fn();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), compression_errc::output_too_large);
  EXPECT_LT(ms, max_ms);
  EXPECT_LT(peak_rss_kib() - rss_before, 64 * 1024) << "KiB";
}

TEST(compression_bomb, zstd_1gib_zeros_streamed_without_content_size) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 0);
  bytes zeros(mib), chunk(ZSTD_CStreamOutSize()), bomb;
  for (size_t i = 0; i < 1024; ++i) {
    ZSTD_inBuffer ib{zeros.data(), zeros.size(), 0};
    bool last = i == 1023;
    for (;;) {
      ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
      size_t rem = ZSTD_compressStream2(cctx.get(), &ob, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
      ASSERT_FALSE(ZSTD_isError(rem));
      bomb.insert(bomb.end(), chunk.begin(), chunk.begin() + static_cast<ptrdiff_t>(ob.pos));
      if (last ? rem == 0 : ib.pos == ib.size) break;
    }
  }
  ASSERT_EQ(ZSTD_getFrameContentSize(bomb.data(), bomb.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  ASSERT_LT(bomb.size(), 200 * 1024u);
  expect_bomb_refused([&] { return decompress(compression::zstd, bomb, mib); });
}

TEST(compression_bomb, zstd_declared_1gib_content_size_refused_up_front) {
  // A frame header declaring 1 GiB followed by a small block: refused before decoding.
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx.get(), gib)));
  bytes zeros(mib), out(ZSTD_compressBound(mib));
  ZSTD_inBuffer ib{zeros.data(), zeros.size(), 0};
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx.get(), &ob, &ib, ZSTD_e_flush)));
  out.resize(ob.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(out.data(), out.size()), gib);
  expect_bomb_refused([&] { return decompress(compression::zstd, out, mib); }, 100);
}

// `member` repeated `times` times: concatenation is valid for gzip members and lz4/zstd frames.
bytes repeat(const bytes& member, size_t times) {
  bytes out;
  out.reserve(member.size() * times);
  for (size_t i = 0; i < times; ++i) out.insert(out.end(), member.begin(), member.end());
  return out;
}

TEST(compression_bomb, gzip_1gib_zeros_in_concatenated_members) {
  auto member = compress(compression::gzip, bytes(64 * mib), 9);
  ASSERT_TRUE(member);
  bytes bomb = repeat(*member, 16);  // 16 x 64 MiB = 1 GiB of zeros, ~1 MiB compressed
  expect_bomb_refused([&] { return decompress(compression::gzip, bomb, mib); });
  // A single member of 64 MiB of zeros is refused too.
  expect_bomb_refused([&] { return decompress(compression::gzip, *member, mib); });
}

TEST(compression_bomb, lz4_1gib_zeros_in_concatenated_frames) {
  auto frame = compress(compression::lz4, bytes(64 * mib));
  ASSERT_TRUE(frame);
  bytes bomb = repeat(*frame, 16);
  expect_bomb_refused([&] { return decompress(compression::lz4, bomb, mib); });
}

TEST(compression_bomb, snappy_many_xerial_blocks) {
  auto one = compress(compression::snappy, bytes(32 * 1024));
  ASSERT_TRUE(one);
  bytes block(one->begin() + 16, one->end());
  bytes bomb = xerial_header;
  bytes blocks = repeat(block, 8192);  // 256 MiB of zeros
  bomb.insert(bomb.end(), blocks.begin(), blocks.end());
  expect_bomb_refused([&] { return decompress(compression::snappy, bomb, mib); });
}

TEST(compression_bomb, zero_bound_refuses_any_output) {
  for (auto codec : all_codecs) {
    auto c = compress(codec, to_bytes("x"));
    ASSERT_TRUE(c);
    EXPECT_EQ(decompress(codec, *c, 0).error(), compression_errc::output_too_large) << codec_name(codec);
    auto e = compress(codec, {});
    ASSERT_TRUE(e);
    auto d = decompress(codec, *e, 0);
    ASSERT_TRUE(d) << codec_name(codec);
    EXPECT_TRUE(d->empty());
  }
}

}  // namespace
}  // namespace sluice::model
