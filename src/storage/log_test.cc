#include "storage/log.h"

#include <gtest/gtest.h>

#include "storage/errc.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::log_fixture;
using test::make_batch;
using test::temp_dir;

log_config small_config() {
  log_config c;
  c.segment_bytes = 64 * 1024;
  c.index_interval_bytes = 0;  // index every batch after the first
  c.segment_index_bytes = 4096;
  return c;
}

struct LogTest : ::testing::Test {
  temp_dir d;
  log_fixture f{d.sub("t-0"), small_config()};
};

TEST_F(LogTest, AppendAssignsOffsetsFromLogEnd) {
  auto b = make_batch(10, 50);
  auto r = f->append(b, 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->base_offset, 0);
  EXPECT_EQ(r->last_offset, 9);
  EXPECT_EQ(r->log_append_time_ms, -1);
  auto b2 = make_batch(5, 50, 2000, /*base_offset=*/777);
  auto r2 = f->append(b2, 3);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->base_offset, 10);
  EXPECT_EQ(r2->last_offset, 14);
  EXPECT_EQ(f->log_end_offset(), 15);
  EXPECT_EQ(f->size_bytes(), b.size() + b2.size());
}

TEST_F(LogTest, AppendRewritesHeaderInPlaceAndWritesWireBytes) {
  auto b = make_batch(3, 20);
  f.append();  // offsets 0..9
  auto r = f->append(b, 7);
  ASSERT_TRUE(r);
  model::batch_view v(b);  // caller's buffer was rewritten in place
  EXPECT_EQ(v.base_offset(), 10);
  EXPECT_EQ(v.partition_leader_epoch(), 7);
  EXPECT_TRUE(v.crc_ok());
  auto rd = f->read(10, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(rd);
  EXPECT_EQ(test::range_bytes(*rd), b);
}

TEST_F(LogTest, LogAppendTimeStampsBatch) {
  f.cfg.message_timestamp_type = timestamp_type::log_append_time;
  f->set_config(f.cfg);
  auto b = make_batch(3, 20, 5);
  auto r = f->append(b, 0, {.now_ms = 123456});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->log_append_time_ms, 123456);
  model::batch_view v(b);
  EXPECT_TRUE(v.log_append_time());
  EXPECT_EQ(v.max_timestamp(), 123456);
  EXPECT_TRUE(v.crc_ok());
  EXPECT_TRUE(model::validate_batch(b));
}

TEST_F(LogTest, AppendSeveralBatchesInOneCall) {
  auto a = make_batch(2, 10), b = make_batch(3, 10);
  std::vector<uint8_t> both(a);
  both.insert(both.end(), b.begin(), b.end());
  auto r = f->append(both, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->batches, 2);
  EXPECT_EQ(r->last_offset, 4);
  auto rd = f->read(2, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->first_batch_offset, 2);
}

TEST_F(LogTest, OversizedBatchRejectedLogUntouched) {
  f.cfg.max_message_bytes = 500;
  f->set_config(f.cfg);
  auto b = make_batch(10, 100);
  auto r = f->append(b, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::message_too_large));
  EXPECT_EQ(f->log_end_offset(), 0);
  EXPECT_EQ(f->size_bytes(), 0u);
  EXPECT_EQ(test::file_size(d.sub("t-0/00000000000000000000.log")), 0u);
}

TEST_F(LogTest, MalformedFramingRejectedLogUntouched) {
  f.append();
  auto b = make_batch(2, 10);
  b.resize(b.size() - 5);  // length field claims more than there is
  auto r = f->append(b, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::corrupt_batch));
  EXPECT_EQ(f->log_end_offset(), 10);
  auto rd = f->read(0, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->next_offset, 10);
}

TEST_F(LogTest, FollowerAppendKeepsOffsetsAndEpochs) {
  auto b = make_batch(5, 10, 1000, 100, 4);
  auto r = f->append_as_follower(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->base_offset, 100);
  EXPECT_EQ(f->log_end_offset(), 105);
  EXPECT_EQ(f->segment_base_offsets(), std::vector<int64_t>{100});  // empty segment 0 replaced
  EXPECT_EQ(f->leader_epochs().latest_epoch(), 4);
  auto old = make_batch(5, 10, 1000, 103, 4);
  auto r2 = f->append_as_follower(old);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), make_error_code(errc::invalid_offset));
}

TEST_F(LogTest, ReadFromBatchContainingOffset) {
  for (int i = 0; i < 5; ++i) f.append();
  auto rd = f->read(23, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->first_batch_offset, 20);
  EXPECT_EQ(rd->next_offset, 50);
  ASSERT_EQ(rd->ranges.size(), 1u);
  auto bytes = test::range_bytes(*rd);
  model::batch_view v(std::span<const uint8_t>(bytes).first(bytes.size() / 3));
  EXPECT_EQ(v.base_offset(), 20);
}

TEST_F(LogTest, IndexLookupAtAndAroundEntryBoundaries) {
  // index_interval_bytes=0: batch k>0 (offsets 10k..10k+9) has entry (10k+9 -> its position).
  for (int i = 0; i < 6; ++i) f.append();
  for (auto [fetch, first] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 0}, {9, 0}, {10, 10}, {18, 10}, {19, 10}, {20, 20}, {29, 20}, {30, 30}, {59, 50}}) {
    auto rd = f->read(fetch, 1, INT64_MAX, true);
    ASSERT_TRUE(rd) << fetch;
    EXPECT_EQ(rd->first_batch_offset, first) << fetch;
  }
}

TEST_F(LogTest, ReadStopsBeforeMaxOffset) {
  for (int i = 0; i < 5; ++i) f.append();
  auto rd = f->read(0, 1 << 20, 30, true);  // high watermark 30
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->next_offset, 30);
  auto at_hw = f->read(30, 1 << 20, 30, true);
  ASSERT_TRUE(at_hw);
  EXPECT_TRUE(at_hw->ranges.empty());
  EXPECT_EQ(at_hw->first_batch_offset, -1);
}

TEST_F(LogTest, ReadRespectsMaxBytesAndMinOneBatch) {
  for (int i = 0; i < 5; ++i) f.append();
  auto one = f->read(0, 1 << 20, INT64_MAX, true);
  uint64_t batch = one->size_bytes / 5;
  auto two = f->read(0, static_cast<int32_t>(2 * batch + 10), INT64_MAX, true);
  EXPECT_EQ(two->size_bytes, 2 * batch);
  auto none = f->read(0, 10, INT64_MAX, false);
  EXPECT_EQ(none->size_bytes, 0u);
  auto forced = f->read(0, 10, INT64_MAX, true);
  EXPECT_EQ(forced->size_bytes, batch);
}

TEST_F(LogTest, ReadBeforeLogStartIsOutOfRange) {
  for (int i = 0; i < 5; ++i) f.append();
  f->set_high_watermark(50);
  ASSERT_TRUE(f->delete_records_before(20));
  auto r = f->read(19, 1 << 20, INT64_MAX, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::offset_out_of_range));
  EXPECT_TRUE(f->read(20, 1 << 20, INT64_MAX, true));
}

TEST_F(LogTest, ReadPastEndIsOutOfRange) {
  f.append();
  auto r = f->read(11, 1 << 20, INT64_MAX, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::offset_out_of_range));
  auto at_end = f->read(10, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(at_end);
  EXPECT_TRUE(at_end->ranges.empty());
}

TEST_F(LogTest, ReadSpansSegments) {
  f.cfg.segment_bytes = 3000;
  f->set_config(f.cfg);
  for (int i = 0; i < 10; ++i) f.append(10, 100);
  ASSERT_GT(f->segment_count(), 2u);
  auto rd = f->read(0, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->next_offset, 100);
  EXPECT_EQ(rd->ranges.size(), f->segment_count());
  EXPECT_EQ(rd->size_bytes, f->size_bytes());
}

TEST_F(LogTest, RangesStayValidAfterSegmentDeleted) {
  f.cfg.segment_bytes = 3000;
  f.cfg.file_delete_delay_ms = 0;
  f->set_config(f.cfg);
  for (int i = 0; i < 6; ++i) f.append(10, 100);
  auto rd = f->read(0, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(rd);
  auto before = test::range_bytes(*rd);
  f->set_high_watermark(f->log_end_offset());
  ASSERT_TRUE(f->delete_records_before(f->log_end_offset()));
  EXPECT_FALSE(std::filesystem::exists(d.sub("t-0/00000000000000000000.log")));
  EXPECT_EQ(test::range_bytes(*rd), before);
}

TEST_F(LogTest, RollOnSegmentBytes) {
  f.cfg.segment_bytes = 3000;
  f->set_config(f.cfg);
  int64_t a = f.append(10, 100);  // ~1.2 KB each
  f.append(10, 100);
  EXPECT_EQ(f->segment_count(), 1u);
  auto b = make_batch(10, 100);
  auto r = f->append(b, 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->rolled);
  EXPECT_EQ(f->segment_base_offsets(), (std::vector<int64_t>{a, 20}));
  // The rolled segment's indexes were trimmed to their entries.
  EXPECT_EQ(test::file_size(d.sub("t-0/00000000000000000000.index")), 8u);
  EXPECT_EQ(test::file_size(d.sub("t-0/00000000000000000020.index")), 4096u);
}

TEST_F(LogTest, RollOnSegmentMsUsingRecordTimestamps) {
  f.cfg.segment_ms = 1000;
  f->set_config(f.cfg);
  f.append(1, 10, 10'000);
  f.append(1, 10, 10'900);
  EXPECT_EQ(f->segment_count(), 1u);
  auto b = make_batch(1, 10, 11'001);  // 1001 ms after the segment's first batch
  auto r = f->append(b, 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->rolled);
  EXPECT_EQ(f->segment_base_offsets(), (std::vector<int64_t>{0, 2}));
}

TEST_F(LogTest, RollOnSegmentMsUsingWallClockWithoutTimestamps) {
  f.cfg.segment_ms = 1000;
  f->set_config(f.cfg);
  auto first = make_batch(1, 10);
  test::set_max_timestamp(first, -1);  // no timestamp: age counts from segment creation
  ASSERT_TRUE(f->append(first, 0));
  f.clock.advance_ms(1000);
  auto r = f.append_batch(make_batch(1, 10), 0);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->rolled);
  f.clock.advance_ms(1);
  r = f.append_batch(make_batch(1, 10), 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->rolled);
}

TEST_F(LogTest, RollOnSegmentMsHonoursJitter) {
  f.cfg.segment_ms = 1000;
  f.cfg.segment_jitter_ms = 1;  // jitter drawn from [0, 1): 0, deterministic
  ASSERT_TRUE(f.reopen());
  f.append(1, 10, 10'000);
  f.append(1, 10, 11'000);
  EXPECT_EQ(f->segment_count(), 1u);
  f.append(1, 10, 11'001);
  EXPECT_EQ(f->segment_count(), 2u);
}

TEST_F(LogTest, RollOnFullOffsetIndex) {
  f.cfg.segment_index_bytes = 24;  // 3 offset index entries
  ASSERT_TRUE(f.reopen());
  for (int i = 0; i < 4; ++i) f.append(1, 10, 1000);  // same timestamp: one time index entry
  EXPECT_EQ(f->segment_count(), 1u);                  // batches 1..3 indexed: full
  f.append(1, 10, 1000);
  EXPECT_EQ(f->segment_count(), 2u);
}

TEST_F(LogTest, RollOnFullTimeIndex) {
  f.cfg.segment_index_bytes = 24;  // 2 time index entries
  ASSERT_TRUE(f.reopen());
  for (int i = 0; i < 3; ++i) f.append(1, 10, 1000 + i);
  EXPECT_EQ(f->segment_count(), 1u);
  f.append(1, 10, 1003);
  EXPECT_EQ(f->segment_count(), 2u);
}

TEST_F(LogTest, RollOnRelativeOffsetOverflow) {
  ASSERT_TRUE(f->append_as_follower(make_batch(1, 10, 1000, 0)));
  int64_t far = int64_t{1} << 31;  // last offset - base > INT32_MAX
  ASSERT_TRUE(f->append_as_follower(make_batch(1, 10, 1000, far)));
  EXPECT_EQ(f->segment_base_offsets(), (std::vector<int64_t>{0, far}));
  auto rd = f->read(far, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->first_batch_offset, far);
}

TEST_F(LogTest, OffsetForTimestampListOffsetsSemantics) {
  f.append(10, 10, 1000);  // offsets 0..9, ts 1000..1009
  f.append(10, 10, 5000);  // offsets 10..19, ts 5000..5009
  f.append(10, 10, 3000);  // offsets 20..29, ts 3000..3009 (out of order)
  auto earliest = f->offset_for_timestamp(list_offsets_earliest);
  EXPECT_EQ((*earliest)->offset, 0);
  auto latest = f->offset_for_timestamp(list_offsets_latest);
  EXPECT_EQ((*latest)->offset, 30);
  auto max = f->offset_for_timestamp(list_offsets_max_timestamp);
  EXPECT_EQ((*max)->offset, 19);
  EXPECT_EQ((*max)->timestamp, 5009);
  auto t = f->offset_for_timestamp(1005);
  EXPECT_EQ((*t)->offset, 5);
  EXPECT_EQ((*t)->timestamp, 1005);
  auto gap = f->offset_for_timestamp(2000);  // first record with ts >= 2000
  EXPECT_EQ((*gap)->offset, 10);
  EXPECT_EQ((*gap)->leader_epoch, 0);
  auto none = f->offset_for_timestamp(6000);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(LogTest, TruncateToMiddleOfSegment) {
  for (int i = 0; i < 5; ++i) f.append();
  f->set_high_watermark(50);
  ASSERT_TRUE(f->truncate_to(30));
  EXPECT_EQ(f->log_end_offset(), 30);
  EXPECT_EQ(f->high_watermark(), 30);
  auto rd = f->read(0, 1 << 20, INT64_MAX, true);
  EXPECT_EQ(rd->next_offset, 30);
  EXPECT_EQ(f.append(), 30);  // appends continue from the cut
  ASSERT_TRUE(f.reopen());    // and the index survives a restart
  EXPECT_EQ(f->log_end_offset(), 40);
  EXPECT_EQ(f->read(35, 1, INT64_MAX, true)->first_batch_offset, 30);
}

TEST_F(LogTest, TruncateInsideBatchRemovesWholeBatch) {
  for (int i = 0; i < 3; ++i) f.append();
  ASSERT_TRUE(f->truncate_to(15));
  EXPECT_EQ(f->log_end_offset(), 10);
}

TEST_F(LogTest, TruncateIntoEarlierSegmentDropsLaterOnes) {
  f.cfg.segment_bytes = 3000;
  f->set_config(f.cfg);
  for (int i = 0; i < 8; ++i) f.append(10, 100);
  auto segs = f->segment_base_offsets();
  ASSERT_GE(segs.size(), 3u);
  ASSERT_TRUE(f->truncate_to(segs[1] + 10));
  EXPECT_EQ(f->segment_base_offsets(), (std::vector<int64_t>{segs[0], segs[1]}));
  EXPECT_EQ(f->log_end_offset(), segs[1] + 10);
  EXPECT_EQ(f.append(10, 100), segs[1] + 10);
}

TEST_F(LogTest, TruncateBelowFirstSegmentStartsOver) {
  ASSERT_TRUE(f->append_as_follower(make_batch(5, 10, 1000, 100)));
  ASSERT_TRUE(f->truncate_to(50));
  EXPECT_EQ(f->log_start_offset(), 50);
  EXPECT_EQ(f->log_end_offset(), 50);
  EXPECT_EQ(f->segment_base_offsets(), std::vector<int64_t>{50});
}

TEST_F(LogTest, DeleteRecordsAdvancesLogStart) {
  f.cfg.segment_bytes = 3000;
  f->set_config(f.cfg);
  for (int i = 0; i < 8; ++i) f.append(10, 100);
  auto too_far = f->delete_records_before(30);  // HW still 0
  ASSERT_FALSE(too_far);
  EXPECT_EQ(too_far.error(), make_error_code(errc::offset_out_of_range));
  f->set_high_watermark(80);
  auto r = f->delete_records_before(35);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 35);
  EXPECT_EQ(f->log_start_offset(), 35);
  EXPECT_LE(f->segment_base_offsets().front(), 35);
  EXPECT_GT(f->segment_base_offsets().front(), 0);  // whole segments below 35 deleted
  EXPECT_EQ(f->read(35, 1, INT64_MAX, true)->first_batch_offset, 30);
}

TEST_F(LogTest, HighWatermarkAndLsoClamped) {
  f.append();
  EXPECT_EQ(f->set_high_watermark(100), 10);
  EXPECT_EQ(f->set_high_watermark(-5), 0);
  f->set_high_watermark(8);
  EXPECT_EQ(f->last_stable_offset(), 8);  // no open transaction: the LSO is the HW
}

TEST_F(LogTest, LeaderEpochsRecordedOnAppend) {
  ASSERT_TRUE(f.append_batch(make_batch(2, 10), 1));
  ASSERT_TRUE(f.append_batch(make_batch(2, 10), 1));
  ASSERT_TRUE(f.append_batch(make_batch(2, 10), 3));
  EXPECT_EQ(f->leader_epochs().entries(), (std::vector<epoch_entry>{{1, 0}, {3, 4}}));
  EXPECT_EQ(f->leader_epochs().end_offset_for(1, f->log_end_offset()), std::make_pair(1, int64_t{4}));
  ASSERT_TRUE(f->truncate_to(4));
  EXPECT_EQ(f->leader_epochs().latest_epoch(), 1);
}

struct recording_observer : batch_observer {
  std::vector<std::pair<int64_t, int64_t>> appended;
  std::vector<int64_t> truncations, starts;
  void on_append(const model::batch_view& b) override { appended.emplace_back(b.base_offset(), b.last_offset()); }
  void on_truncate(int64_t leo) override { truncations.push_back(leo); }
  void on_log_start_offset(int64_t s) override { starts.push_back(s); }
};

TEST_F(LogTest, ObserverSeesAppendsTruncationsAndLogStart) {
  recording_observer o;
  f->set_batch_observer(&o);
  f.append();
  f.append();
  f->set_high_watermark(20);
  ASSERT_TRUE(f->delete_records_before(5));
  ASSERT_TRUE(f->truncate_to(10));
  EXPECT_EQ(o.appended, (std::vector<std::pair<int64_t, int64_t>>{{0, 9}, {10, 19}}));
  EXPECT_EQ(o.starts, std::vector<int64_t>{5});
  EXPECT_EQ(o.truncations, std::vector<int64_t>{10});
}

TEST_F(LogTest, ReplayFromOffsetAfterReopen) {
  f.cfg.segment_bytes = 3000;
  f->set_config(f.cfg);
  for (int i = 0; i < 6; ++i) f.append(10, 100);
  ASSERT_TRUE(f.reopen());
  recording_observer o;
  ASSERT_TRUE(f->replay(25, o));
  ASSERT_EQ(o.appended.size(), 4u);
  EXPECT_EQ(o.appended.front(), std::make_pair(int64_t{20}, int64_t{29}));
  EXPECT_EQ(o.appended.back(), std::make_pair(int64_t{50}, int64_t{59}));
}

TEST_F(LogTest, FlushMessagesFsyncsAndMovesRecoveryPoint) {
  f.cfg.flush_messages = 25;
  f->set_config(f.cfg);
  f.append();
  f.append();
  EXPECT_EQ(f->recovery_point(), 0);
  auto r = f.append_batch(make_batch(10, 10), 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->flushed);
  EXPECT_EQ(f->recovery_point(), 30);
}

TEST_F(LogTest, FlushMsAppliedByRunPeriodic) {
  f.cfg.flush_ms = 1000;
  f->set_config(f.cfg);
  f.append();
  ASSERT_TRUE(f->run_periodic());
  EXPECT_EQ(f->recovery_point(), 0);
  f.clock.advance_ms(1000);
  ASSERT_TRUE(f->run_periodic());
  EXPECT_EQ(f->recovery_point(), 10);
}

TEST_F(LogTest, RollSchedulesFlushOfRolledSegment) {
  f.cfg.segment_bytes = 3000;
  f->set_config(f.cfg);
  for (int i = 0; i < 3; ++i) f.append(10, 100);
  ASSERT_EQ(f->segment_count(), 2u);
  EXPECT_EQ(f->recovery_point(), 0);
  ASSERT_TRUE(f->run_periodic());
  EXPECT_EQ(f->recovery_point(), 20);  // the new segment's base
}

}  // namespace
}  // namespace sluice::storage
