#include <gtest/gtest.h>

#include "storage/log.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::log_fixture;
using test::temp_dir;

constexpr int64_t day_ms = 86'400'000;

struct RetentionTest : ::testing::Test {
  temp_dir d;
  log_config cfg() {
    log_config c;
    c.segment_bytes = 3000;  // two ~1.2 KB batches per segment
    c.index_interval_bytes = 0;
    c.segment_index_bytes = 4096;
    c.file_delete_delay_ms = 0;
    return c;
  }
};

TEST_F(RetentionTest, RetentionByTimeDeletesExpiredSegments) {
  log_fixture f(d.sub("t-0"), cfg());
  int64_t now = f.clock.wall_ms();
  for (int i = 0; i < 4; ++i) f.append(10, 100, now - 8 * day_ms);  // older than 7 days
  for (int i = 0; i < 4; ++i) f.append(10, 100, now - 1 * day_ms);
  f->set_high_watermark(f->log_end_offset());
  auto before = f->segment_base_offsets();
  ASSERT_TRUE(f->enforce_retention());
  auto after = f->segment_base_offsets();
  EXPECT_EQ(after.front(), 40);
  EXPECT_EQ(f->log_start_offset(), 40);
  EXPECT_FALSE(std::filesystem::exists(d.sub("t-0/00000000000000000000.log")));
  EXPECT_FALSE(f->read(0, 100, INT64_MAX, true));
}

TEST_F(RetentionTest, RetentionByTimeKeepsSegmentsAboveHighWatermark) {
  log_fixture f(d.sub("t-0"), cfg());
  int64_t now = f.clock.wall_ms();
  for (int i = 0; i < 6; ++i) f.append(10, 100, now - 8 * day_ms);
  f->set_high_watermark(15);  // only the first segment [0, 20) is entirely... not below 15
  ASSERT_TRUE(f->enforce_retention());
  EXPECT_EQ(f->log_start_offset(), 0);
  f->set_high_watermark(20);
  ASSERT_TRUE(f->enforce_retention());
  EXPECT_EQ(f->log_start_offset(), 20);
}

TEST_F(RetentionTest, RetentionBySizeDeletesOldestWhileOverLimit) {
  auto c = cfg();
  c.retention_ms = -1;
  c.retention_bytes = 5000;
  log_fixture f(d.sub("t-0"), c);
  for (int i = 0; i < 8; ++i) f.append(10, 100);
  f->set_high_watermark(f->log_end_offset());
  uint64_t seg = f->size_bytes() / 4;  // 4 full segments of 2 batches
  ASSERT_EQ(f->segment_count(), 4u);
  ASSERT_TRUE(f->enforce_retention());
  // Kafka's rule: delete the oldest segment only while what remains stays >= retention.bytes.
  EXPECT_EQ(f->segment_count(), 3u);
  EXPECT_GE(f->size_bytes(), 5000u);
  EXPECT_LT(f->size_bytes() - seg, 5000u);
}

TEST_F(RetentionTest, RetentionDeletingEverythingRollsFirst) {
  log_fixture f(d.sub("t-0"), cfg());
  int64_t now = f.clock.wall_ms();
  for (int i = 0; i < 3; ++i) f.append(10, 100, now - 8 * day_ms);
  f->set_high_watermark(f->log_end_offset());
  ASSERT_TRUE(f->enforce_retention());
  EXPECT_EQ(f->segment_base_offsets(), std::vector<int64_t>{30});
  EXPECT_EQ(f->log_start_offset(), 30);
  EXPECT_EQ(f->size_bytes(), 0u);
  EXPECT_EQ(f.append(), 30);
}

TEST_F(RetentionTest, CompactOnlyPolicyKeepsExpiredSegments) {
  auto c = cfg();
  c.cleanup_policy_delete = false;
  c.cleanup_policy_compact = true;
  log_fixture f(d.sub("t-0"), c);
  int64_t now = f.clock.wall_ms();
  for (int i = 0; i < 4; ++i) f.append(10, 100, now - 8 * day_ms);
  f->set_high_watermark(f->log_end_offset());
  ASSERT_TRUE(f->enforce_retention());
  EXPECT_EQ(f->log_start_offset(), 0);
}

TEST_F(RetentionTest, DeletedFilesRemovedAfterFileDeleteDelay) {
  auto c = cfg();
  c.file_delete_delay_ms = 60'000;
  log_fixture f(d.sub("t-0"), c);
  int64_t now = f.clock.wall_ms();
  for (int i = 0; i < 4; ++i) f.append(10, 100, now - 8 * day_ms);
  f.append(10, 100, now);
  f->set_high_watermark(f->log_end_offset());
  ASSERT_TRUE(f->enforce_retention());
  EXPECT_TRUE(std::filesystem::exists(d.sub("t-0/00000000000000000000.log.deleted")));
  f.clock.advance_ms(59'999);
  ASSERT_TRUE(f->run_periodic());
  EXPECT_TRUE(std::filesystem::exists(d.sub("t-0/00000000000000000000.log.deleted")));
  f.clock.advance_ms(1);
  ASSERT_TRUE(f->run_periodic());
  EXPECT_FALSE(std::filesystem::exists(d.sub("t-0/00000000000000000000.log.deleted")));
  EXPECT_FALSE(std::filesystem::exists(d.sub("t-0/00000000000000000000.index.deleted")));
}

TEST_F(RetentionTest, RetentionRunsOnCheckInterval) {
  log_fixture f(d.sub("t-0"), cfg());  // log.retention.check.interval.ms default 300000
  int64_t now = f.clock.wall_ms();
  for (int i = 0; i < 4; ++i) f.append(10, 100, now - 8 * day_ms);
  f.append(10, 100, now);
  f->set_high_watermark(f->log_end_offset());
  ASSERT_TRUE(f->run_periodic());
  EXPECT_EQ(f->log_start_offset(), 0);
  f.clock.advance_ms(300'000);
  ASSERT_TRUE(f->run_periodic());
  EXPECT_EQ(f->log_start_offset(), 40);
}

TEST_F(RetentionTest, LeftoverDeletedFilesRemovedAtOpen) {
  log_fixture f(d.sub("t-0"), cfg());
  f.append();
  f.l.reset();
  test::write_all(d.sub("t-0/00000000000000000099.log.deleted"), {1, 2, 3});
  ASSERT_TRUE(f.reopen());
  EXPECT_FALSE(std::filesystem::exists(d.sub("t-0/00000000000000000099.log.deleted")));
}

}  // namespace
}  // namespace sluice::storage
