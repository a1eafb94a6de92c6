#include "storage/producer_state.h"

#include <filesystem>
#include <limits>

#include <gtest/gtest.h>

#include "base/endian.h"
#include "storage/errc.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::log_fixture;
using test::small_segments;
using test::temp_dir;

constexpr int32_t int32_max = std::numeric_limits<int32_t>::max();
constexpr int64_t pid = 1000;

// A batch of `records` records from producer `id`/`epoch` starting at sequence `seq` (offsets as
// the log would assign them from `offset`).
producer_batch_info info(int64_t id, int16_t epoch, int32_t seq, int32_t records, int64_t offset = 0,
                         int64_t ts = 1'700'000'000'000) {
  return {id, epoch, seq, increment_sequence(seq, records - 1), offset, offset + records - 1, ts};
}

std::error_code err(errc e) { return make_error_code(e); }

struct ProducerStateTest : ::testing::Test {
  temp_dir d;
  producer_state_manager m{posix_file_system::instance(), d.path(), 86'400'000};

  result<std::optional<producer_batch>> check(const producer_batch_info& b) const {
    return m.check_client_batches(std::span(&b, 1));
  }
  // Checks and, if new, applies (what log::append does).
  void append(const producer_batch_info& b) {
    auto r = check(b);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_FALSE(*r) << "unexpected duplicate";
    m.apply(b);
  }
};

TEST(SequenceArithmetic, WrapsAtInt32Max) {
  EXPECT_EQ(increment_sequence(5, 3), 8);
  EXPECT_EQ(increment_sequence(int32_max, 1), 0);
  EXPECT_EQ(increment_sequence(int32_max - 1, 4), 2);
  EXPECT_EQ(increment_sequence(int32_max, 0), int32_max);
  EXPECT_EQ(decrement_sequence(8, 3), 5);
  EXPECT_EQ(decrement_sequence(0, 1), int32_max);
  EXPECT_EQ(decrement_sequence(2, 4), int32_max - 1);
}

TEST_F(ProducerStateTest, NewProducerMustStartAtSequenceZero) {
  auto r = check(info(pid, 0, 5, 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), err(errc::unknown_producer_id));
  append(info(pid, 0, 0, 3, 0));
  const auto* e = m.find(pid);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->epoch, 0);
  EXPECT_EQ(e->last_seq(), 2);
  EXPECT_EQ(e->last_offset(), 2);
}

TEST_F(ProducerStateTest, InSequenceAcceptedGapRejected) {
  append(info(pid, 0, 0, 3, 0));
  append(info(pid, 0, 3, 2, 3));
  auto gap = check(info(pid, 0, 6, 1, 5));
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error(), err(errc::out_of_order_sequence));
  // An earlier sequence that is not exactly a retained batch is out of order too.
  auto overlap = check(info(pid, 0, 4, 1, 5));
  ASSERT_FALSE(overlap);
  EXPECT_EQ(overlap.error(), err(errc::out_of_order_sequence));
  append(info(pid, 0, 5, 1, 5));
  EXPECT_EQ(m.find(pid)->last_seq(), 5);
}

TEST_F(ProducerStateTest, DuplicateOfEachOfLastFiveBatchesReturnsOriginalOffsets) {
  // Seven batches of 2 records at offsets 10, 12, ...; the last five are retained.
  for (int i = 0; i < 7; ++i) append(info(pid, 0, i * 2, 2, 10 + i * 2));
  ASSERT_EQ(m.find(pid)->batches.size(), producer_batches_to_retain);
  for (int i = 2; i < 7; ++i) {
    auto r = check(info(pid, 0, i * 2, 2, 999));
    ASSERT_TRUE(r) << i;
    ASSERT_TRUE(*r) << i;
    EXPECT_EQ((*r)->first_offset, 10 + i * 2);
    EXPECT_EQ((*r)->last_offset, 11 + i * 2);
    EXPECT_EQ((*r)->first_seq, i * 2);
  }
  // Older than the retained window: not a known duplicate, so out of order.
  auto old = check(info(pid, 0, 2, 2, 999));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error(), err(errc::out_of_order_sequence));
  // Same first sequence but a different length is not a duplicate.
  auto partial = check(info(pid, 0, 12, 1, 999));
  ASSERT_FALSE(partial);
  EXPECT_EQ(partial.error(), err(errc::out_of_order_sequence));
}

TEST_F(ProducerStateTest, DuplicateNeedsSameEpoch) {
  append(info(pid, 3, 0, 1, 0));
  // Same sequences with an older epoch: fenced, not a duplicate.
  auto r = check(info(pid, 2, 0, 1, 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), err(errc::invalid_producer_epoch));
}

TEST_F(ProducerStateTest, OlderEpochIsInvalidProducerEpoch) {
  append(info(pid, 5, 0, 1, 0));
  for (int32_t seq : {0, 1, 7}) {
    auto r = check(info(pid, 4, seq, 1, 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), err(errc::invalid_producer_epoch));
  }
}

TEST_F(ProducerStateTest, NewEpochStartsAtZeroAndDropsOldBatches) {
  append(info(pid, 0, 0, 1, 0));
  append(info(pid, 0, 1, 1, 1));
  auto bad = check(info(pid, 1, 2, 1, 2));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), err(errc::out_of_order_sequence));  // known producer: not unknown
  append(info(pid, 1, 0, 1, 2));
  const auto* e = m.find(pid);
  EXPECT_EQ(e->epoch, 1);
  ASSERT_EQ(e->batches.size(), 1u);
  EXPECT_EQ(e->batches.front().first_offset, 2);
  // The old epoch's batch is no longer a duplicate source and the old epoch is fenced.
  auto old = check(info(pid, 0, 1, 1, 3));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error(), err(errc::invalid_producer_epoch));
}

TEST_F(ProducerStateTest, SequenceWrapsAroundAtInt32Max) {
  append(info(pid, 0, 0, 1, 0));
  // Force the state close to the wrap: a replicated batch (no checks) ending at INT32_MAX - 1.
  m.apply(info(pid, 0, int32_max - 3, 3, 1));
  EXPECT_EQ(m.find(pid)->last_seq(), int32_max - 1);
  // A batch crossing the wrap: INT32_MAX, 0, 1.
  auto crossing = info(pid, 0, int32_max, 3, 4);
  EXPECT_EQ(crossing.last_seq, 1);
  append(crossing);
  EXPECT_EQ(m.find(pid)->last_seq(), 1);
  append(info(pid, 0, 2, 1, 7));
  // Its duplicate is recognised across the wrap.
  auto dup = check(info(pid, 0, int32_max, 3, 99));
  ASSERT_TRUE(dup && *dup);
  EXPECT_EQ((*dup)->first_offset, 4);
  // Exactly at INT32_MAX: the next batch starts at 0.
  producer_state_manager m2{posix_file_system::instance(), d.path(), 86'400'000};
  m2.apply(info(pid, 0, int32_max - 1, 2, 0));
  auto next = info(pid, 0, 0, 1, 2);
  auto r = m2.check_client_batches(std::span(&next, 1));
  ASSERT_TRUE(r) << r.error().message();
  auto skip = info(pid, 0, 1, 1, 2);
  auto r2 = m2.check_client_batches(std::span(&skip, 1));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), err(errc::out_of_order_sequence));
}

TEST_F(ProducerStateTest, SeveralBatchesInOneAppendAreCheckedInOrder) {
  append(info(pid, 0, 0, 1, 0));
  std::vector<producer_batch_info> ok_batches{info(pid, 0, 1, 2, 1), info(pid, 0, 3, 1, 3), info(pid + 1, 0, 0, 1, 4)};
  auto r = m.check_client_batches(ok_batches);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(*r);
  std::vector<producer_batch_info> gap{info(pid, 0, 1, 2, 1), info(pid, 0, 4, 1, 3)};
  auto r2 = m.check_client_batches(gap);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), err(errc::out_of_order_sequence));
  // A new epoch in the first batch, continued in the second.
  std::vector<producer_batch_info> bump{info(pid, 1, 0, 1, 1), info(pid, 1, 1, 1, 2)};
  EXPECT_TRUE(m.check_client_batches(bump));
  // Nothing was applied by checking.
  EXPECT_EQ(m.find(pid)->last_seq(), 0);
  EXPECT_EQ(m.find(pid + 1), nullptr);
}

TEST_F(ProducerStateTest, BatchesWithoutProducerIdPass) {
  auto b = info(no_producer_id, no_producer_epoch, no_sequence, 3);
  b.last_seq = no_sequence;
  auto r = check(b);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  m.apply(b);
  EXPECT_EQ(m.size(), 0u);
}

TEST_F(ProducerStateTest, ExpiryForgetsIdleProducers) {
  const int64_t t0 = 1'700'000'000'000;
  append(info(pid, 0, 0, 1, 0, t0));
  append(info(pid + 1, 0, 0, 1, 1, t0 + 50'000'000));
  EXPECT_EQ(m.remove_expired(t0 + 86'399'999), 0u);
  EXPECT_EQ(m.remove_expired(t0 + 86'400'000), 1u);
  EXPECT_EQ(m.find(pid), nullptr);
  ASSERT_NE(m.find(pid + 1), nullptr);
  // Forgotten: it must start over (UNKNOWN_PRODUCER_ID for a later sequence).
  auto r = check(info(pid, 0, 1, 1, 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), err(errc::unknown_producer_id));
}

TEST_F(ProducerStateTest, SnapshotRoundTripKeepsAllRetainedBatches) {
  for (int i = 0; i < 6; ++i) append(info(pid, 2, i, 1, i));
  append(info(pid + 7, 0, 0, 4, 6));
  auto bytes = producer_state_manager::encode_snapshot(m.producers());
  // 10-byte header + one 46-byte entry per retained batch (5 + 1).
  EXPECT_EQ(bytes.size(), 10u + 6 * 46);
  auto decoded = producer_state_manager::decode_snapshot(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message();
  ASSERT_EQ(decoded->size(), 2u);
  const auto& e = decoded->at(pid);
  EXPECT_EQ(e.epoch, 2);
  EXPECT_EQ(e.batches, m.find(pid)->batches);
  EXPECT_EQ(e.last_timestamp, m.find(pid)->last_timestamp);
  EXPECT_EQ(decoded->at(pid + 7).batches.front().first_seq, 0);
  EXPECT_EQ(decoded->at(pid + 7).batches.front().last_seq, 3);
  EXPECT_EQ(decoded->at(pid + 7).batches.front().first_offset, 6);
}

TEST_F(ProducerStateTest, SnapshotBytesFollowKafkaLayout) {
  append(info(pid, 3, 0, 2, 40, 1234));
  auto bytes = producer_state_manager::encode_snapshot(m.producers());
  ASSERT_EQ(bytes.size(), 56u);
  EXPECT_EQ(load_be<int16_t>(bytes.data()), 1);            // version
  EXPECT_EQ(load_be<int32_t>(bytes.data() + 6), 1);        // entries
  EXPECT_EQ(load_be<int64_t>(bytes.data() + 10), pid);     // producer_id
  EXPECT_EQ(load_be<int16_t>(bytes.data() + 18), 3);       // epoch
  EXPECT_EQ(load_be<int32_t>(bytes.data() + 20), 1);       // last_sequence
  EXPECT_EQ(load_be<int64_t>(bytes.data() + 24), 41);      // last_offset
  EXPECT_EQ(load_be<int32_t>(bytes.data() + 32), 1);       // offset_delta
  EXPECT_EQ(load_be<int64_t>(bytes.data() + 36), 1234);    // timestamp
  EXPECT_EQ(load_be<int32_t>(bytes.data() + 44), -1);      // coordinator_epoch
  EXPECT_EQ(load_be<int64_t>(bytes.data() + 48), -1);      // current_txn_first_offset
}

TEST_F(ProducerStateTest, CorruptSnapshotIsRejected) {
  append(info(pid, 0, 0, 1, 0));
  auto bytes = producer_state_manager::encode_snapshot(m.producers());
  auto flipped = bytes;
  flipped[20] ^= 1;
  EXPECT_EQ(producer_state_manager::decode_snapshot(flipped).error(), err(errc::corrupt_snapshot));
  auto shortened = bytes;
  shortened.pop_back();
  EXPECT_FALSE(producer_state_manager::decode_snapshot(shortened));
  auto bad_version = bytes;
  bad_version[1] = 2;
  EXPECT_FALSE(producer_state_manager::decode_snapshot(bad_version));
  EXPECT_FALSE(producer_state_manager::decode_snapshot(std::span<const uint8_t>(bytes.data(), 5)));
}

TEST_F(ProducerStateTest, LoadTakesNewestIntactSnapshotAtOrBelowOffset) {
  append(info(pid, 0, 0, 1, 0));
  ASSERT_TRUE(m.take_snapshot(1));
  append(info(pid, 0, 1, 1, 1));
  ASSERT_TRUE(m.take_snapshot(2));
  append(info(pid, 0, 2, 1, 2));
  ASSERT_TRUE(m.take_snapshot(3));
  EXPECT_EQ(m.snapshot_offsets(), (std::vector<int64_t>{1, 2, 3}));
  const int64_t now = 1'700'000'000'000;
  auto l = m.load_latest_snapshot(2, now);
  ASSERT_TRUE(l && *l);
  EXPECT_EQ(**l, 2);
  EXPECT_EQ(m.find(pid)->last_seq(), 1);
  // Corrupt 3: loading falls back to 2 and deletes 3.
  test::write_all(m.snapshot_path(3), {0, 1, 2});
  l = m.load_latest_snapshot(100, now);
  ASSERT_TRUE(l && *l);
  EXPECT_EQ(**l, 2);
  EXPECT_EQ(m.snapshot_offsets(), (std::vector<int64_t>{1, 2}));
  // Expired producers are not loaded.
  l = m.load_latest_snapshot(100, now + 86'400'000 * 2);
  ASSERT_TRUE(l && *l);
  EXPECT_EQ(m.size(), 0u);
  m.delete_snapshots_below(2);
  EXPECT_EQ(m.snapshot_offsets(), (std::vector<int64_t>{2}));
}

// ---- through the log ----

struct ProducerLogTest : ::testing::Test {
  temp_dir d;
  log_fixture f{d.sub("t-0"), small_segments()};

  std::vector<uint8_t> batch(int64_t id, int16_t epoch, int32_t seq, int records = 2, size_t value_bytes = 100) {
    return test::producer_batch(id, epoch, seq, records, value_bytes, f.clock.wall_ms());
  }
  result<append_result> send(int64_t id, int16_t epoch, int32_t seq, int records = 2, size_t value_bytes = 100) {
    auto b = batch(id, epoch, seq, records, value_bytes);
    return f->append(b, 0);
  }
  std::vector<std::string> snapshot_files() { return test::files_with_extension(f.dir, ".snapshot"); }
};

TEST_F(ProducerLogTest, DuplicateIsAnsweredWithOriginalOffsetsAndNotAppended) {
  ASSERT_TRUE(send(pid, 0, 0));
  auto second = send(pid, 0, 2, 3);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->base_offset, 2);
  int64_t leo = f->log_end_offset();
  uint64_t size = f->size_bytes();
  auto dup = send(pid, 0, 2, 3);
  ASSERT_TRUE(dup);
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->base_offset, 2);
  EXPECT_EQ(dup->last_offset, 4);
  EXPECT_EQ(f->log_end_offset(), leo);
  EXPECT_EQ(f->size_bytes(), size);
  auto gap = send(pid, 0, 9);
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error(), err(errc::out_of_order_sequence));
  auto fenced = send(pid, -1 + 0, 5);  // epoch -1 < 0
  ASSERT_FALSE(fenced);
  EXPECT_EQ(fenced.error(), err(errc::invalid_producer_epoch));
  EXPECT_EQ(f->log_end_offset(), leo);
}

TEST_F(ProducerLogTest, CleanRestartLoadsSnapshotAtLogEnd) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(send(pid, 0, i * 2));
  int64_t leo = f->log_end_offset();
  ASSERT_TRUE(f->close());
  EXPECT_TRUE(std::filesystem::exists(f.dir + "/" + segment_file_name(leo, ".snapshot")));
  ASSERT_TRUE(f.reopen(true));
  const auto* e = f->producer_state().find(pid);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->batches.size(), 5u);
  EXPECT_EQ(e->last_seq(), 11);
  // All five retained batches are still recognised as duplicates after the restart.
  for (int i = 1; i < 6; ++i) {
    auto dup = send(pid, 0, i * 2);
    ASSERT_TRUE(dup) << i;
    EXPECT_TRUE(dup->duplicate) << i;
    EXPECT_EQ(dup->base_offset, i * 2);
  }
  EXPECT_EQ(f->log_end_offset(), leo);
  ASSERT_TRUE(send(pid, 0, 12));
}

TEST_F(ProducerLogTest, UncleanRestartRebuildsFromLog) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send(pid, 1, i * 2));
  ASSERT_TRUE(send(pid + 1, 0, 0));
  // No close: like SIGKILL. No snapshot exists (no roll), the log is replayed.
  ASSERT_TRUE(f.reopen(false, 0));
  EXPECT_TRUE(snapshot_files().empty());
  ASSERT_NE(f->producer_state().find(pid), nullptr);
  EXPECT_EQ(f->producer_state().find(pid)->last_seq(), 5);
  EXPECT_EQ(f->producer_state().find(pid)->epoch, 1);
  EXPECT_EQ(f->producer_state().find(pid + 1)->last_seq(), 1);
  auto dup = send(pid, 1, 2);
  ASSERT_TRUE(dup && dup->duplicate);
  EXPECT_EQ(dup->base_offset, 2);
  auto gap = send(pid, 1, 7);
  EXPECT_EQ(gap.error(), err(errc::out_of_order_sequence));
}

TEST_F(ProducerLogTest, RollWritesSnapshotAndRestartReplaysOnlyAfterIt) {
  // ~1.1 KiB batches into 4 KiB segments: rolls every few batches.
  int32_t seq = 0;
  while (f->segment_count() < 4) {
    ASSERT_TRUE(send(pid, 0, seq, 2, 500));
    seq += 2;
  }
  auto bases = f->segment_base_offsets();
  auto snaps = snapshot_files();
  ASSERT_EQ(snaps.size(), 3u);  // one per roll
  for (size_t i = 1; i < bases.size(); ++i)
    EXPECT_EQ(snaps[i - 1], segment_file_name(bases[i], ".snapshot"));
  // The snapshot at the last roll holds the state before that segment.
  producer_state_manager probe{posix_file_system::instance(), f.dir, 86'400'000};
  auto l = probe.load_latest_snapshot(bases.back(), f.clock.wall_ms());
  ASSERT_TRUE(l && *l);
  EXPECT_EQ(probe.find(pid)->last_offset(), bases.back() - 1);
  // Unclean restart: snapshot + replay of the last segment give the full state.
  ASSERT_TRUE(f.reopen(false, bases.back()));
  EXPECT_EQ(f->producer_state().find(pid)->last_seq(), seq - 1);
  EXPECT_EQ(f->producer_state().find(pid)->last_offset(), f->log_end_offset() - 1);
  ASSERT_TRUE(send(pid, 0, seq));
}

TEST_F(ProducerLogTest, TruncationRestoresStateAtTheNewEnd) {
  int32_t seq = 0;
  std::vector<int64_t> bases_of_batch;
  while (f->segment_count() < 3) {
    auto r = send(pid, 0, seq, 2, 500);
    ASSERT_TRUE(r);
    bases_of_batch.push_back(r->base_offset);
    seq += 2;
  }
  for (int i = 0; i < 3; ++i) {
    auto r = send(pid, 0, seq, 2, 500);
    ASSERT_TRUE(r);
    bases_of_batch.push_back(r->base_offset);
    seq += 2;
  }
  auto bases = f->segment_base_offsets();
  // Truncate into the first segment: later snapshots go, state is rebuilt from the log.
  int64_t cut = bases_of_batch[1];  // keeps batch 0 (offsets 0-1)
  ASSERT_TRUE(f->truncate_to(cut));
  EXPECT_EQ(f->log_end_offset(), cut);
  EXPECT_TRUE(snapshot_files().empty());
  const auto* e = f->producer_state().find(pid);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->last_seq(), 1);
  EXPECT_EQ(e->batches.size(), 1u);
  // The producer resends from sequence 2: accepted (the truncated batches are not duplicates).
  auto again = send(pid, 0, 2, 2, 500);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->base_offset, cut);
  // Truncating to everything forgets the producer.
  ASSERT_TRUE(f->truncate_to(0));
  EXPECT_EQ(f->producer_state().find(pid), nullptr);
}

TEST_F(ProducerLogTest, TruncationKeepsSnapshotsBelowTheCut) {
  int32_t seq = 0;
  while (f->segment_count() < 4) {
    ASSERT_TRUE(send(pid, 0, seq, 2, 500));
    seq += 2;
  }
  auto bases = f->segment_base_offsets();
  ASSERT_TRUE(f->truncate_to(bases[2] + 1));
  auto snaps = snapshot_files();
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps.back(), segment_file_name(bases[2], ".snapshot"));
  EXPECT_EQ(f->producer_state().find(pid)->last_offset(), f->log_end_offset() - 1);
}

TEST_F(ProducerLogTest, RetentionKeepsProducerStateAndDeletesOldSnapshots) {
  int32_t seq = 0;
  while (f->segment_count() < 4) {
    ASSERT_TRUE(send(pid, 0, seq, 2, 500));
    seq += 2;
  }
  auto bases = f->segment_base_offsets();
  f->set_high_watermark(f->log_end_offset());
  auto start = f->delete_records_before(bases[2]);
  ASSERT_TRUE(start);
  EXPECT_EQ(*start, bases[2]);
  EXPECT_EQ(f->segment_base_offsets().front(), bases[2]);
  auto snaps = snapshot_files();
  ASSERT_EQ(snaps.size(), 2u);  // of bases[2] and bases[3]; the one of bases[1] went with its segment
  EXPECT_EQ(snaps.front(), segment_file_name(bases[2], ".snapshot"));
  // Kafka 2.5+: the producer stays known although its early batches are gone.
  ASSERT_TRUE(send(pid, 0, seq));
  seq += 2;
  ASSERT_TRUE(f.reopen(false, f->log_end_offset()));
  ASSERT_NE(f->producer_state().find(pid), nullptr);
  EXPECT_EQ(f->producer_state().find(pid)->last_seq(), seq - 1);
  auto gap = send(pid, 0, seq + 1);
  EXPECT_EQ(gap.error(), err(errc::out_of_order_sequence));
}

TEST_F(ProducerLogTest, ExpiryRunsFromRunPeriodic) {
  ASSERT_TRUE(send(pid, 0, 0));
  f.clock.advance_ms(86'400'000 + 600'000);
  ASSERT_TRUE(f->run_periodic());
  EXPECT_EQ(f->producer_state().find(pid), nullptr);
  auto r = send(pid, 0, 2);
  EXPECT_EQ(r.error(), err(errc::unknown_producer_id));
}

TEST_F(ProducerLogTest, FollowerAppendUpdatesStateWithoutChecks) {
  auto b = batch(pid, 0, 40);  // would be unknown_producer_id from a client
  model::batch_view v(b);
  (void)v;
  store_be<int64_t>(b.data(), 0);
  ASSERT_TRUE(f->append_as_follower(b));
  EXPECT_EQ(f->producer_state().find(pid)->last_seq(), 41);
  auto dup = send(pid, 0, 40);
  ASSERT_TRUE(dup && dup->duplicate);
}

}  // namespace
}  // namespace sluice::storage
