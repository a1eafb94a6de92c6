// Runtime pieces of the codec: reader/writer primitives, malformed input, tagged fields,
// headers, records, the API table and error codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "protocol/api.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "protocol/messages.h"

namespace sluice::protocol {
namespace {

using bytes = std::vector<uint8_t>;

reader over(const bytes& b) { return reader{std::span<const uint8_t>(b)}; }

template <typename Msg>
bytes encode(const Msg& m, int16_t v) {
  writer w;
  m.encode(w, v);
  return w.flatten();
}

TEST(reader, fixed_width_big_endian) {
  bytes b{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xff};
  auto r = over(b);
  EXPECT_EQ(r.read_int16(), 0x0102);
  EXPECT_EQ(r.read_int32(), 0x03040506);
  EXPECT_EQ(r.read_int8(), 7);
  EXPECT_EQ(r.read_uint16(), 0x08ff);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.read_int8(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errc::truncated);
  EXPECT_EQ(r.error_offset(), 9u);
}

TEST(reader, first_error_sticks_and_empties_the_reader) {
  bytes b{0x00, 0x05, 'a', 'b', 0x00, 0x00, 0x00, 0x01};
  auto r = over(b);
  std::string s;
  r.read_string(s, false);  // claims 5 bytes, 6 remain -> fine? no: 5 <= 6, reads "ab\0\0\0"
  EXPECT_TRUE(r.ok());
  bytes c{0x00, 0x09, 'a'};
  auto r2 = over(c);
  r2.read_string(s, false);
  EXPECT_EQ(r2.error(), errc::length_too_large);
  EXPECT_EQ(r2.error_offset(), 2u);
  EXPECT_EQ(r2.read_int32(), 0);
  EXPECT_EQ(r2.error(), errc::length_too_large);  // the first error is kept
}

TEST(reader, strings_classic_and_compact) {
  writer w;
  w.write_string("kafka", false);
  w.write_nullable_string(std::nullopt, false, true);
  w.write_string("kafka", true);
  w.write_nullable_string(std::nullopt, true, true);
  w.write_nullable_string(std::nullopt, true, false);  // null where not allowed -> ""
  auto b = w.flatten();
  EXPECT_EQ(b, (bytes{0, 5, 'k', 'a', 'f', 'k', 'a', 0xff, 0xff, 6, 'k', 'a', 'f', 'k', 'a', 0, 1}));
  auto r = over(b);
  std::string s;
  std::optional<std::string> o = "x";
  r.read_string(s, false);
  EXPECT_EQ(s, "kafka");
  r.read_nullable_string(o, false, true);
  EXPECT_FALSE(o);
  r.read_string(s, true);
  EXPECT_EQ(s, "kafka");
  r.read_nullable_string(o, true, true);
  EXPECT_FALSE(o);
  r.read_nullable_string(o, true, false);
  EXPECT_EQ(o, "");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(reader, null_where_not_nullable_is_rejected) {
  bytes b{0xff, 0xff};
  auto r = over(b);
  std::string s;
  r.read_string(s, false);
  EXPECT_EQ(r.error(), errc::null_not_allowed);
  bytes c{0xff, 0xfe};
  auto r2 = over(c);
  std::optional<std::string> o;
  r2.read_nullable_string(o, false, true);
  EXPECT_EQ(r2.error(), errc::negative_length);
}

TEST(reader, giant_array_counts_are_rejected_before_allocating) {
  bytes b{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  auto r = over(b);
  EXPECT_EQ(r.read_array_len(false, false, 4), -1);
  EXPECT_EQ(r.error(), errc::count_too_large);
  // Exactly as many 4-byte elements as fit is fine.
  bytes c{0, 0, 0, 1, 0, 0, 0, 0};
  auto r2 = over(c);
  EXPECT_EQ(r2.read_array_len(false, false, 4), 1);
  // Compact: uvarint 0xffffffff (count+1) -> far too many.
  bytes d{0xff, 0xff, 0xff, 0xff, 0x0f};
  auto r3 = over(d);
  EXPECT_EQ(r3.read_array_len(true, true, 1), -1);
  EXPECT_EQ(r3.error(), errc::count_too_large);
  // A whole message claiming 2^31-1 topics fails cleanly.
  bytes m{0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};  // Produce v3: txn id "", acks 0, ...
  auto r4 = over(m);
  produce_request p;
  EXPECT_FALSE(p.decode(r4, 3).has_value());
}

TEST(reader, varints) {
  bytes overlong{0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  auto r = over(overlong);
  r.read_uvarint32();
  EXPECT_EQ(r.error(), errc::bad_varint);
  bytes too_big{0xff, 0xff, 0xff, 0xff, 0x7f};  // 35 bits
  auto r2 = over(too_big);
  r2.read_uvarint32();
  EXPECT_EQ(r2.error(), errc::bad_varint);
  bytes cut{0x80, 0x80};
  auto r3 = over(cut);
  r3.read_uvarint32();
  EXPECT_EQ(r3.error(), errc::truncated);
  bytes max{0xff, 0xff, 0xff, 0xff, 0x0f};
  auto r4 = over(max);
  EXPECT_EQ(r4.read_uvarint32(), UINT32_MAX);
  EXPECT_TRUE(r4.ok());
}

TEST(reader, negative_lengths_everywhere) {
  // Metadata v9 request with compact array count 0 (null) where topics is nullable: fine.
  bytes ok{0x00, 0x01, 0x00, 0x00, 0x00};
  auto r = over(ok);
  metadata_request m;
  ASSERT_TRUE(m.decode(r, 9).has_value());
  EXPECT_FALSE(m.topics.has_value());
  // Metadata v0: topics is not nullable -> -1 rejected.
  bytes bad{0xff, 0xff, 0xff, 0xff};
  auto r2 = over(bad);
  EXPECT_FALSE(m.decode(r2, 0).has_value());
  EXPECT_EQ(r2.error(), errc::null_not_allowed);
  bytes worse{0x80, 0x00, 0x00, 0x00};
  auto r3 = over(worse);
  EXPECT_FALSE(m.decode(r3, 1).has_value());
  EXPECT_EQ(r3.error(), errc::negative_length);
}

TEST(tagged_fields, unknown_tags_are_preserved_in_order) {
  api_versions_request req;
  req.client_software_name = "sluice";
  req.client_software_version = "1.0";
  req.unknown_tags = {{5, {1, 2, 3}}, {70000, {}}};
  auto b = encode(req, 3);
  // ... 0x02 tags: tag 5 size 3 [1 2 3], tag 70000 (uvarint f0 a2 04) size 0
  bytes tail{0x02, 0x05, 0x03, 1, 2, 3, 0xf0, 0xa2, 0x04, 0x00};
  ASSERT_GE(b.size(), tail.size());
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), b.end() - static_cast<ptrdiff_t>(tail.size())));
  auto r = over(b);
  api_versions_request d;
  ASSERT_TRUE(d.decode(r, 3).has_value());
  EXPECT_EQ(d, req);
  EXPECT_EQ(encode(d, 3), b);
}

TEST(tagged_fields, known_and_unknown_tags_merge_in_ascending_order) {
  api_versions_response resp;
  resp.finalized_features_epoch = 7;  // tag 1
  resp.unknown_tags = {{0x10, {9}}};
  resp.zk_migration_ready = true;  // tag 3
  auto b = encode(resp, 3);
  // error_code, api_keys [] (1), throttle, then tags: 3 entries: 1, 3, 16
  bytes expect{0, 0, 1, 0, 0, 0, 0, 3, 1, 8, 0, 0, 0, 0, 0, 0, 0, 7, 3, 1, 1, 0x10, 1, 9};
  EXPECT_EQ(b, expect);
  auto r = over(b);
  api_versions_response d;
  ASSERT_TRUE(d.decode(r, 3).has_value());
  EXPECT_EQ(d, resp);
}

TEST(tagged_fields, known_tag_with_wrong_size_is_rejected) {
  // ApiVersions v3 response with tag 1 (int64) claiming 2 bytes.
  bytes b{0, 0, 1, 0, 0, 0, 0, 1, 1, 2, 0, 0};
  auto r = over(b);
  api_versions_response d;
  EXPECT_FALSE(d.decode(r, 3).has_value());
  bytes c{0, 0, 1, 0, 0, 0, 0, 1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  auto r2 = over(c);
  EXPECT_FALSE(d.decode(r2, 3).has_value());
  EXPECT_EQ(r2.error(), errc::bad_tagged_field);
}

TEST(tagged_fields, out_of_order_or_duplicate_tags_are_rejected) {
  // ApiVersions v3 request: name "", version "", then tags 5 then 3.
  bytes b{1, 1, 2, 5, 0, 3, 0};
  auto r = over(b);
  api_versions_request d;
  EXPECT_FALSE(d.decode(r, 3).has_value());
  EXPECT_EQ(r.error(), errc::bad_tagged_field);
  bytes c{1, 1, 2, 5, 0, 5, 0};
  auto r2 = over(c);
  EXPECT_FALSE(d.decode(r2, 3).has_value());
  bytes ok{1, 1, 2, 3, 0, 5, 0};
  auto r3 = over(ok);
  EXPECT_TRUE(d.decode(r3, 3).has_value());
}

TEST(reader, compact_strings_longer_than_int16_max_are_rejected) {
  writer w;
  w.write_uvarint(40001);  // compact length 40000
  w.write_raw(bytes(40000, 'a'));
  auto b = w.flatten();
  auto r = over(b);
  std::string s;
  r.read_string(s, true);
  EXPECT_EQ(r.error(), errc::length_too_large);
}

TEST(headers, request_header_versions) {
  request_header h{.api_key = 3, .api_version = 9, .correlation_id = 42, .client_id = "c1", .unknown_tags = {}};
  for (int16_t hv : {0, 1, 2}) {
    writer w;
    h.encode(w, hv);
    auto b = w.flatten();
    EXPECT_EQ(b.size(), size_t(8 + (hv >= 1 ? 4 : 0) + (hv >= 2 ? 1 : 0)));
    auto r = over(b);
    request_header d;
    ASSERT_TRUE(d.decode(r, hv).has_value());
    EXPECT_EQ(d.correlation_id, 42);
    EXPECT_EQ(d.client_id, hv >= 1 ? std::optional<std::string>("c1") : std::nullopt);
  }
  // client_id is a classic string even in v2, and null is allowed.
  request_header n{.api_key = 18, .api_version = 3, .correlation_id = 1, .client_id = std::nullopt, .unknown_tags = {}};
  writer w;
  n.encode(w, 2);
  EXPECT_EQ(w.flatten(), (bytes{0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff, 0}));
}

TEST(headers, decode_request_header_picks_the_version) {
  // Metadata v9 (flexible) -> header v2: tags after client id.
  bytes b{0, 3, 0, 9, 0, 0, 0, 7, 0, 1, 'x', 1, 0, 1, 'z'};
  auto r = over(b);
  auto h = decode_request_header(r);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->api_key, 3);
  EXPECT_EQ(h->api_version, 9);
  EXPECT_EQ(h->client_id, "x");
  ASSERT_EQ(h->unknown_tags.size(), 1u);
  EXPECT_EQ(h->unknown_tags[0].tag, 0u);
  EXPECT_EQ(r.remaining(), 0u);
  // Metadata v8 -> header v1: no tags.
  bytes c{0, 3, 0, 8, 0, 0, 0, 7, 0, 1, 'x'};
  auto r2 = over(c);
  ASSERT_TRUE(decode_request_header(r2).has_value());
  EXPECT_EQ(r2.remaining(), 0u);
  // Truncated.
  bytes d{0, 3, 0};
  auto r3 = over(d);
  EXPECT_FALSE(decode_request_header(r3).has_value());
}

TEST(headers, response_header_versions) {
  EXPECT_EQ(response_header_version(18, 3), 0);  // ApiVersions: always v0 (KIP-511)
  EXPECT_EQ(response_header_version(18, 0), 0);
  EXPECT_EQ(response_header_version(3, 9), 1);
  EXPECT_EQ(response_header_version(3, 8), 0);
  EXPECT_EQ(response_header_version(0, 7), 0);
  EXPECT_EQ(request_header_version(18, 3), 2);
  EXPECT_EQ(request_header_version(18, 4), 2);  // above our max: still flexible
  EXPECT_EQ(request_header_version(17, 1), 1);  // SaslHandshake: never flexible
  EXPECT_EQ(request_header_version(999, 0), 1);
  response_header h{.correlation_id = 5, .unknown_tags = {}};
  writer w;
  h.encode(w, 1);
  EXPECT_EQ(w.flatten(), (bytes{0, 0, 0, 5, 0}));
}

TEST(api_table, matches_the_generated_descriptors) {
  int n = 0;
  for_each_api([&](auto api) {
    using A = decltype(api);
    const api_info* a = find_api(A::key);
    ASSERT_NE(a, nullptr);
    EXPECT_STREQ(a->name, A::name);
    EXPECT_EQ(a->min_version, A::min_version);
    EXPECT_EQ(a->max_version, A::max_version);
    EXPECT_EQ(a->first_flexible, A::first_flexible);
    bool seen = false;
    EXPECT_TRUE(visit_api(A::key, [&](auto b) { seen = std::is_same_v<decltype(b), A>; }));
    EXPECT_TRUE(seen);
    ++n;
  });
  EXPECT_EQ(static_cast<size_t>(n), all_apis().size());
  EXPECT_EQ(find_api(4), nullptr);
  EXPECT_FALSE(visit_api(4, [](auto) {}));
  EXPECT_EQ(produce_api::min_version, 0);  // v0-2 (legacy message sets) are up-converted
  EXPECT_EQ(produce_api::first_flexible, 9);
  EXPECT_EQ(find_api(17)->first_flexible, never_flexible);
}

TEST(error_code, names) {
  EXPECT_EQ(error_code_name(error_code::none), "NONE");
  EXPECT_EQ(error_code_name(error_code::unknown_server_error), "UNKNOWN_SERVER_ERROR");
  EXPECT_EQ(static_cast<int16_t>(error_code::unsupported_version), 35);
  EXPECT_EQ(static_cast<int16_t>(error_code::member_id_required), 79);
  EXPECT_EQ(static_cast<int16_t>(error_code::corrupt_message), 2);
  EXPECT_EQ(static_cast<int16_t>(error_code::not_enough_replicas), 19);
  EXPECT_EQ(error_code_name(static_cast<error_code>(30000)), "UNKNOWN");
  EXPECT_EQ(error_code_from_name("OUT_OF_ORDER_SEQUENCE_NUMBER"), error_code::out_of_order_sequence_number);
  EXPECT_EQ(error_code_from_name("nope"), std::nullopt);
}

TEST(records, null_empty_view_owned_files) {
  records null;
  EXPECT_TRUE(null.is_null());
  EXPECT_FALSE(null == records::empty());
  bytes data{1, 2, 3, 4, 5, 6};
  auto v = records::view(data);
  auto o = records::owned(data);
  EXPECT_EQ(v, o);
  EXPECT_FALSE(v.is_mutable());
  EXPECT_TRUE(o.is_mutable());

  char path[] = "/tmp/sluice_records_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  bytes file{9, 9, 1, 2, 3, 4, 5, 6, 9};
  ASSERT_EQ(write(fd, file.data(), file.size()), ssize_t(file.size()));
  auto keep = std::make_shared<int>(fd);
  auto f = records::files({file_range{keep, fd, 2, 3}, file_range{keep, fd, 5, 3}});
  EXPECT_EQ(f.size_bytes(), 6u);
  EXPECT_EQ(f, o);

  // A Fetch response carrying file ranges: the writer emits them as by-reference chunks.
  fetch_response resp;
  auto& p = resp.responses.emplace_back().partitions.emplace_back();
  p.records = f;
  writer w;
  auto frame = w.begin_frame();
  response_header{.correlation_id = 9, .unknown_tags = {}}.encode(w, 0);
  resp.encode(w, 11);
  w.end_frame(frame);
  size_t files = 0, total = 0;
  for (const auto& c : w.chunks()) {
    if (auto* fr = std::get_if<file_range>(&c)) {
      ++files;
      total += fr->size;
    } else {
      total += std::get<std::vector<uint8_t>>(c).size();
    }
  }
  EXPECT_EQ(files, 2u);
  EXPECT_EQ(total, w.size());
  auto flat = w.flatten();
  EXPECT_EQ(load_be<int32_t>(flat.data()), static_cast<int32_t>(flat.size() - 4));
  // The flat bytes decode back to the same response with the data inline.
  auto r = reader{std::span<const uint8_t>(flat).subspan(8)};
  fetch_response d;
  ASSERT_TRUE(d.decode(r, 11).has_value());
  EXPECT_EQ(d, resp);
  close(fd);
}

TEST(records, decoded_produce_records_point_into_the_request_buffer) {
  produce_request req;
  req.acks = -1;
  auto& part = req.topic_data.emplace_back().partition_data.emplace_back();
  part.records = records::owned({0xaa, 0xbb, 0xcc});
  auto b = encode(req, 7);
  reader r{std::span<uint8_t>(b)};  // mutable buffer
  produce_request d;
  ASSERT_TRUE(d.decode(r, 7).has_value());
  auto& rec = d.topic_data[0].partition_data[0].records;
  ASSERT_TRUE(rec.is_mutable());
  auto span = rec.mutable_data();
  EXPECT_GE(span.data(), b.data());
  EXPECT_LT(span.data(), b.data() + b.size());
  span[0] = 0x11;  // in-place rewrite reaches the request buffer
  EXPECT_EQ(b[b.size() - 3], 0x11);
}

// The usage example of docs/protocol.md, kept compiling.
TEST(docs, usage_example) {
  produce_request sent;
  sent.acks = 1;
  sent.topic_data.emplace_back().partition_data.emplace_back().records = records::owned({1, 2, 3});
  writer out;
  request_header{.api_key = produce_api::key, .api_version = 7, .correlation_id = 11, .client_id = "c", .unknown_tags = {}}
      .encode(out, request_header_version(produce_api::key, 7));
  sent.encode(out, 7);
  auto frame = out.flatten();

  reader r{std::span<uint8_t>(frame)};
  auto hdr = decode_request_header(r);
  ASSERT_TRUE(hdr.has_value());
  produce_request req;
  ASSERT_TRUE(req.decode(r, hdr->api_version).has_value());
  for (auto& t : req.topic_data)
    for (auto& p : t.partition_data) {
      std::span<uint8_t> batches = p.records.mutable_data();
      EXPECT_EQ(batches.size(), 3u);
    }

  const int16_t v = 12;
  fetch_response resp;
  auto& part = resp.responses.emplace_back(fetch_response::fetchable_topic_response{.topic = "orders"})
                   .partitions.emplace_back();
  part.partition_index = 0;
  part.high_watermark = 42;
  part.records = records::owned({4, 5});
  writer w;
  auto frame_pos = w.begin_frame();
  response_header{.correlation_id = hdr->correlation_id, .unknown_tags = {}}
      .encode(w, response_header_version(fetch_api::key, v));
  resp.encode(w, v);
  w.end_frame(frame_pos);
  EXPECT_EQ(w.chunks().size(), 1u);
  EXPECT_EQ(load_be<int32_t>(w.flatten().data()), static_cast<int32_t>(w.size() - 4));
}

}  // namespace
}  // namespace sluice::protocol
