// Recovery after unclean shutdowns: torn tails, corruption, missing indexes, and the cost bound
// (only segments from the recovery point on are read).
#include <gtest/gtest.h>

#include "storage/errc.h"
#include "storage/log.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::log_fixture;
using test::make_batch;
using test::temp_dir;

log_config cfg_with_segment_bytes(int32_t bytes) {
  log_config c;
  c.segment_bytes = bytes;
  c.index_interval_bytes = 200;
  c.segment_index_bytes = 4096;
  return c;
}

struct RecoveryTest : ::testing::Test {
  temp_dir d;
  std::string seg(int64_t base, const char* ext) { return d.sub("t-0/" + segment_file_name(base, ext)); }
};

TEST_F(RecoveryTest, CleanShutdownScansNothing) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(3000));
  for (int i = 0; i < 10; ++i) f.append(10, 100);
  ASSERT_TRUE(f->close());
  int64_t leo = f->log_end_offset();
  ASSERT_TRUE(f.reopen(/*clean_shutdown=*/true, 0));
  EXPECT_TRUE(f->recovery().recovered_segments.empty());
  EXPECT_EQ(f->recovery().bytes_scanned, 0u);
  EXPECT_EQ(f->log_end_offset(), leo);
  EXPECT_EQ(f->recovery_point(), leo);
  EXPECT_EQ(f.append(10, 100), leo);
  EXPECT_EQ(f->read(leo - 5, 1, INT64_MAX, true)->first_batch_offset, leo - 10);
}

TEST_F(RecoveryTest, UncleanShutdownScansOnlyFromRecoveryPoint) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(3000));
  for (int i = 0; i < 8; ++i) f.append(10, 100);
  ASSERT_TRUE(f->flush());
  int64_t rp = f->recovery_point();
  for (int i = 0; i < 4; ++i) f.append(10, 100);
  auto segs = f->segment_base_offsets();
  int64_t leo = f->log_end_offset();
  ASSERT_TRUE(f.reopen(false, rp));  // the process "died": no close()
  std::vector<int64_t> expect;
  for (auto b : segs)
    if (b >= *std::prev(std::upper_bound(segs.begin(), segs.end(), rp))) expect.push_back(b);
  EXPECT_EQ(f->recovery().recovered_segments, expect);
  EXPECT_LT(expect.size(), segs.size());
  EXPECT_EQ(f->log_end_offset(), leo);
  EXPECT_EQ(f->recovery().bytes_truncated, 0u);
}

TEST_F(RecoveryTest, TornTailCutAtEveryByteOffsetOfLastBatch) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(1 << 20));
  for (int i = 0; i < 4; ++i) f.append(3, 10);
  ASSERT_TRUE(f->close());
  auto full = test::read_all(seg(0, ".log"));
  auto last = f->read(9, 1 << 20, INT64_MAX, true);
  uint64_t last_pos = last->ranges[0].offset, last_size = last->size_bytes;
  ASSERT_EQ(last_pos + last_size, full.size());
  for (uint64_t k = 0; k < last_size; ++k) {
    f.l.reset();
    test::write_all(seg(0, ".log"), std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(last_pos + k)));
    ASSERT_TRUE(f.reopen(false, 0)) << k;
    EXPECT_EQ(f->log_end_offset(), 9) << k;
    EXPECT_EQ(f->recovery().bytes_truncated, k) << k;
    EXPECT_EQ(test::file_size(seg(0, ".log")), last_pos) << k;
    auto all = f->read(0, 1 << 20, INT64_MAX, true);
    ASSERT_TRUE(all);
    EXPECT_EQ(test::range_bytes(*all), std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(last_pos)));
  }
  EXPECT_EQ(f.append(3, 10), 9);  // appends continue at the cut
}

TEST_F(RecoveryTest, CorruptCrcMidSegmentTruncatesThere) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(1 << 20));
  for (int i = 0; i < 10; ++i) f.append(10, 50);
  auto fifth = f->read(50, 1, INT64_MAX, true);
  uint64_t pos = fifth->ranges[0].offset;
  f.l.reset();
  auto bytes = test::read_all(seg(0, ".log"));
  bytes[pos + 100] ^= 0x40;  // a record byte inside batch 5
  test::write_all(seg(0, ".log"), bytes);
  ASSERT_TRUE(f.reopen(false, 0));
  EXPECT_EQ(f->log_end_offset(), 50);
  EXPECT_EQ(test::file_size(seg(0, ".log")), pos);
  EXPECT_EQ(f->recovery().bytes_truncated, bytes.size() - pos);
}

TEST_F(RecoveryTest, CorruptionDropsLaterSegments) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(3000));
  for (int i = 0; i < 8; ++i) f.append(10, 100);
  auto segs = f->segment_base_offsets();
  ASSERT_GE(segs.size(), 3u);
  f.l.reset();
  auto bytes = test::read_all(seg(segs[1], ".log"));
  bytes[30] ^= 0xff;  // inside the CRC-covered header of the segment's first batch
  test::write_all(seg(segs[1], ".log"), bytes);
  ASSERT_TRUE(f.reopen(false, 0));
  EXPECT_EQ(f->log_end_offset(), segs[1]);
  EXPECT_EQ(f->segment_base_offsets(), (std::vector<int64_t>{segs[0], segs[1]}));
  EXPECT_FALSE(std::filesystem::exists(seg(segs[2], ".log")));
}

TEST_F(RecoveryTest, MissingIndexRebuilt) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(6000));
  for (int i = 0; i < 10; ++i) f.append(10, 100);
  ASSERT_TRUE(f->close());
  ASSERT_GE(f->segment_count(), 2u);
  auto index = test::read_all(seg(0, ".index"));
  auto timeindex = test::read_all(seg(0, ".timeindex"));
  ASSERT_FALSE(index.empty());
  f.l.reset();
  std::filesystem::remove(seg(0, ".index"));
  ASSERT_TRUE(f.reopen(true, 0));
  EXPECT_EQ(f->recovery().indexes_rebuilt, std::vector<int64_t>{0});
  EXPECT_EQ(test::read_all(seg(0, ".index")), index);  // rebuilt byte for byte
  EXPECT_EQ(test::read_all(seg(0, ".timeindex")), timeindex);
  EXPECT_EQ(f->read(25, 1, INT64_MAX, true)->first_batch_offset, 20);
}

TEST_F(RecoveryTest, CorruptIndexRebuiltOnFirstUse) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(6000));
  for (int i = 0; i < 10; ++i) f.append(10, 100);
  ASSERT_TRUE(f->close());
  auto index = test::read_all(seg(0, ".index"));
  ASSERT_GE(index.size(), 16u);
  f.l.reset();
  auto bad = index;
  std::swap_ranges(bad.begin(), bad.begin() + 8, bad.begin() + 8);  // entries out of order
  test::write_all(seg(0, ".index"), bad);
  ASSERT_TRUE(f.reopen(true, 0));
  for (int64_t off = 0; off < 40; ++off) EXPECT_EQ(f->read(off, 1, INT64_MAX, true)->first_batch_offset, off / 10 * 10);
  EXPECT_EQ(test::read_all(seg(0, ".index")), index);
}

TEST_F(RecoveryTest, RecoveryRebuildsLeaderEpochCache) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(1 << 20));
  ASSERT_TRUE(f.append_batch(make_batch(2, 10), 1));
  ASSERT_TRUE(f.append_batch(make_batch(2, 10), 4));
  auto entries = f->leader_epochs().entries();
  f.l.reset();
  std::filesystem::remove(d.sub("t-0/leader-epoch-checkpoint"));
  ASSERT_TRUE(f.reopen(false, 0));
  EXPECT_EQ(f->leader_epochs().entries(), entries);
  EXPECT_TRUE(std::filesystem::exists(d.sub("t-0/leader-epoch-checkpoint")));
}

TEST_F(RecoveryTest, TornTailDespiteCleanMarkerIsRecovered) {
  log_fixture f(d.sub("t-0"), cfg_with_segment_bytes(1 << 20));
  for (int i = 0; i < 3; ++i) f.append(3, 10);
  ASSERT_TRUE(f->close());
  f.l.reset();
  auto bytes = test::read_all(seg(0, ".log"));
  bytes.resize(bytes.size() - 7);
  test::write_all(seg(0, ".log"), bytes);
  ASSERT_TRUE(f.reopen(true, 0));
  EXPECT_EQ(f->log_end_offset(), 6);
}

// 1 GiB flushed + 10 MiB unflushed: recovery reads only the 10 MiB segment. fsync is skipped
// (fault_file_system::skip_fsync) to keep the test fast; the scan counters are what it asserts.
TEST_F(RecoveryTest, RecoveryScansOnlyUnflushedDataOf1GiBLog) {
  posix_file_system& posix = posix_file_system::instance();
  fault_file_system fs(posix);
  fs.skip_fsync(true);
  log_config c;
  c.segment_bytes = 128 << 20;
  log_fixture f(d.sub("t-0"), c, &fs);
  auto batch = make_batch(1024, 1000);  // ~1 MiB of 1 KiB records
  uint64_t flushed = 0;
  while (flushed < (uint64_t{1} << 30)) {
    ASSERT_TRUE(f->append(batch, 0));
    flushed += batch.size();
  }
  ASSERT_TRUE(f->force_roll());
  ASSERT_TRUE(f->flush());
  int64_t rp = f->recovery_point();
  ASSERT_EQ(rp, f->segment_base_offsets().back());
  uint64_t unflushed = 0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(f->append(batch, 0));
    unflushed += batch.size();
  }
  int64_t leo = f->log_end_offset();
  size_t segments = f->segment_count();
  ASSERT_TRUE(f.reopen(false, rp));  // crash: no close(), recovery point from the checkpoint
  EXPECT_EQ(f->recovery().segments_loaded, segments);
  EXPECT_EQ(f->recovery().recovered_segments, std::vector<int64_t>{rp});
  EXPECT_GE(f->recovery().bytes_scanned, unflushed);
  EXPECT_LE(f->recovery().bytes_scanned, unflushed + batch.size());
  EXPECT_EQ(f->log_end_offset(), leo);
  EXPECT_EQ(f->read(rp - 1, 1, INT64_MAX, true)->first_batch_offset, rp - 1024);
}

}  // namespace
}  // namespace sluice::storage
