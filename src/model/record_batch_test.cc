#include "model/record_batch.h"

#include <gtest/gtest.h>

#include "model/record_batch_builder.h"

namespace sluice::model {

TEST(record_batch, build_validate_decode_round_trip) {
  std::vector<record_data> recs = {
      {"k1", "v1", {{"h", "x"}, {"n", std::nullopt}}, 1000},
      {std::nullopt, "v2", {}, 1005},
      {"k3", std::nullopt, {}, 999},
  };
  auto b = build_batch(recs, {.base_offset = 42});
  ASSERT_TRUE(validate_batch(b));
  batch_view v(b);
  EXPECT_EQ(v.base_offset(), 42);
  EXPECT_EQ(v.records_count(), 3);
  EXPECT_EQ(v.last_offset(), 44);
  EXPECT_EQ(v.max_timestamp(), 1005);
  auto d = decode_records(b);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[0].key, "k1");
  EXPECT_EQ((*d)[0].headers.size(), 2u);
  EXPECT_EQ((*d)[0].headers[1].value, std::nullopt);
  EXPECT_EQ((*d)[1].key, std::nullopt);
  EXPECT_EQ((*d)[2].offset, 44);
  EXPECT_EQ((*d)[2].timestamp_ms, 999);
}

TEST(record_batch, offset_rewrite_keeps_crc_valid) {
  auto b = build_batch({{"k", "v", {}, 1}});
  set_base_offset(b, 1234567);
  set_partition_leader_epoch(b, 9);
  EXPECT_TRUE(validate_batch(b));
  EXPECT_EQ(batch_view(b).partition_leader_epoch(), 9);
}

TEST(record_batch, corrupt_crc_rejected) {
  auto b = build_batch({{"k", "v", {}, 1}});
  b.back() ^= 1;
  EXPECT_EQ(validate_batch(b).error(), make_error_code(batch_errc::bad_crc));
}

TEST(record_batch, truncated_rejected) {
  auto b = build_batch({{"k", "v", {}, 1}});
  b.pop_back();
  EXPECT_EQ(validate_batch(b).error(), make_error_code(batch_errc::truncated));
}

TEST(record_batch, bad_magic_rejected) {
  auto b = build_batch({{"k", "v", {}, 1}});
  b[batch_layout::magic] = 1;
  EXPECT_EQ(validate_batch(b).error(), make_error_code(batch_errc::bad_magic));
}

TEST(record_batch, log_append_time_recomputes_crc) {
  auto b = build_batch({{"k", "v", {}, 1}});
  set_log_append_time(b, 777);
  EXPECT_TRUE(validate_batch(b));
  EXPECT_TRUE(batch_view(b).log_append_time());
  EXPECT_EQ(batch_view(b).max_timestamp(), 777);
}

}  // namespace sluice::model
