// Every API, every version in its range, request and response: decode(encode(x)) == x with
// every field populated, encode(decode(bytes)) == bytes, and every truncation rejected.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "protocol/headers.h"
#include "protocol/messages.h"
#include "protocol/samples.h"

namespace sluice::protocol {
namespace {

template <typename Msg>
std::vector<uint8_t> encode(const Msg& m, int16_t v) {
  writer w;
  m.encode(w, v);
  auto bytes = w.flatten();
  EXPECT_EQ(bytes.size(), w.size());
  return bytes;
}

template <typename Msg>
void check_roundtrip(const Msg& m, int16_t v, bool all_prefixes) {
  auto bytes = encode(m, v);
  reader r{std::span<const uint8_t>(bytes)};
  Msg d;
  auto res = d.decode(r, v);
  ASSERT_TRUE(res.has_value()) << res.error().message() << " at byte " << r.error_offset();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(d == m) << "decode(encode(x)) != x";
  EXPECT_EQ(encode(d, v), bytes) << "encode(decode(bytes)) != bytes";
  if (all_prefixes) {
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      reader rp{std::span<const uint8_t>(bytes.data(), cut)};
      Msg x;
      EXPECT_FALSE(x.decode(rp, v).has_value()) << "prefix of " << cut << "/" << bytes.size() << " decoded";
    }
  }
}

template <typename Msg>
void check_message(int16_t v) {
  check_roundtrip(Msg{}, v, false);
  for (uint64_t seed = 0; seed < 4; ++seed) {
    testing::sample_ctx c;
    c.n = seed * 7;
    Msg m;
    fill_sample(m, v, c);
    // (Messages without fields in this version, e.g. ApiVersions v0-2 requests, stay default.)
    if (!encode(Msg{}, v).empty()) {
      EXPECT_FALSE(m == Msg{}) << "sample equals the default";
    }
    check_roundtrip(m, v, seed == 0);
  }
}

// With SLUICE_FUZZ_CORPUS_OUT=<dir>, also writes one framed-less request (header + sample body)
// per API and version there: the seed corpus for tests/fuzz/request_decoder_fuzz.
template <typename A>
void dump_seed(int16_t v) {
  const char* dir = std::getenv("SLUICE_FUZZ_CORPUS_OUT");
  if (!dir) return;
  testing::sample_ctx c;
  typename A::request m;
  fill_sample(m, v, c);
  writer w;
  request_header h{.api_key = A::key, .api_version = v, .correlation_id = 7, .client_id = "seed", .unknown_tags = {}};
  h.encode(w, request_header_version(A::key, v));
  m.encode(w, v);
  auto bytes = w.flatten();
  std::ofstream out(std::string(dir) + "/" + std::to_string(A::key) + "_v" + std::to_string(v) + ".bin", std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(roundtrip, every_api_every_version) {
  int checked = 0;
  for_each_api([&](auto api) {
    using A = decltype(api);
    for (int16_t v = A::min_version; v <= A::max_version; ++v) {
      SCOPED_TRACE(std::string(A::name) + " v" + std::to_string(v));
      {
        SCOPED_TRACE("request");
        check_message<typename A::request>(v);
      }
      {
        SCOPED_TRACE("response");
        check_message<typename A::response>(v);
      }
      dump_seed<A>(v);
      ++checked;
    }
  });
  EXPECT_GT(checked, 100);
}

TEST(roundtrip, versions_outside_range_are_rejected) {
  for_each_api([&](auto api) {
    using A = decltype(api);
    std::vector<uint8_t> bytes(64, 0);
    for (int16_t v : {static_cast<int16_t>(A::min_version - 1), static_cast<int16_t>(A::max_version + 1)}) {
      reader r{std::span<const uint8_t>(bytes)};
      typename A::request m;
      auto res = m.decode(r, v);
      ASSERT_FALSE(res.has_value()) << A::name << " v" << v;
      EXPECT_EQ(res.error(), make_error_code(errc::unsupported_version));
    }
  });
}

}  // namespace
}  // namespace sluice::protocol
