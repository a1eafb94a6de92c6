// Transactions on the partition side: producer state with markers, the aborted-transaction
// index (.txnindex), the last stable offset, and their recovery.
#include <filesystem>

#include <gtest/gtest.h>

#include "base/endian.h"
#include "model/control_record.h"
#include "storage/errc.h"
#include "storage/log_dump.h"
#include "storage/producer_state.h"
#include "storage/test_utils.h"
#include "storage/txn_index.h"

namespace sluice::storage {
namespace {

using test::log_fixture;
using test::small_segments;
using test::temp_dir;

constexpr int64_t pid = 4000;
std::error_code err(errc e) { return make_error_code(e); }

producer_batch_info txn_info(int64_t id, int16_t epoch, int32_t seq, int32_t records, int64_t offset) {
  return {id, epoch, seq, increment_sequence(seq, records - 1), offset, offset + records - 1, 1'000, true};
}
model::txn_marker marker(bool commit, int32_t coordinator_epoch = 0) {
  return {commit ? model::control_type::commit : model::control_type::abort, coordinator_epoch};
}

// ---- producer state ----

struct TxnStateTest : ::testing::Test {
  temp_dir d;
  producer_state_manager m{posix_file_system::instance(), d.path(), 86'400'000};
};

TEST_F(TxnStateTest, FirstTransactionalBatchOpensMarkerCloses) {
  m.apply(txn_info(pid, 0, 0, 3, 10));
  m.apply(txn_info(pid, 0, 3, 2, 20));  // later batches keep the first offset
  m.apply(txn_info(pid + 1, 0, 0, 1, 15));
  EXPECT_EQ(m.find(pid)->current_txn_first_offset, 10);
  EXPECT_EQ(m.first_unstable_offset(), 10);
  EXPECT_EQ(m.ongoing_count(), 2u);
  auto done = m.apply_marker(pid, 0, marker(false, 7), 30, 2'000);
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, (completed_txn{pid, 10, 30, true}));
  EXPECT_EQ(m.find(pid)->current_txn_first_offset, -1);
  EXPECT_EQ(m.find(pid)->coordinator_epoch, 7);
  EXPECT_EQ(m.first_unstable_offset(), 15);
  EXPECT_EQ(m.last_stable_offset_after(*done), 15);  // the other producer's transaction
  auto commit = m.apply_marker(pid + 1, 0, marker(true), 31, 2'000);
  ASSERT_TRUE(commit);
  EXPECT_FALSE(commit->aborted);
  EXPECT_EQ(m.last_stable_offset_after(*commit), 32);
  EXPECT_FALSE(m.first_unstable_offset());
}

TEST_F(TxnStateTest, RetriedMarkerIsANoOp) {
  m.apply(txn_info(pid, 0, 0, 1, 0));
  ASSERT_TRUE(m.apply_marker(pid, 0, marker(true), 1, 0));
  EXPECT_FALSE(m.apply_marker(pid, 0, marker(true), 2, 0));
  EXPECT_FALSE(m.apply_marker(pid + 9, 0, marker(false), 3, 0));  // unknown producer
  EXPECT_FALSE(m.first_unstable_offset());
  EXPECT_EQ(m.find(pid + 9)->epoch, 0);
}

TEST_F(TxnStateTest, MarkerOfOlderEpochOrCoordinatorIsFenced) {
  m.apply(txn_info(pid, 3, 0, 1, 0));
  ASSERT_TRUE(m.apply_marker(pid, 3, marker(true, 5), 1, 0));
  EXPECT_EQ(m.check_marker(pid, 2, 5).error(), err(errc::invalid_producer_epoch));
  EXPECT_EQ(m.check_marker(pid, 3, 4).error(), err(errc::transaction_coordinator_fenced));
  EXPECT_TRUE(m.check_marker(pid, 3, 5));
  EXPECT_TRUE(m.check_marker(pid, 4, 6));
  EXPECT_TRUE(m.check_marker(pid + 1, 0, 0));  // unknown producer: written, a no-op
}

TEST_F(TxnStateTest, BumpedEpochMarkerRestartsSequences) {
  m.apply(txn_info(pid, 3, 0, 4, 0));
  ASSERT_TRUE(m.apply_marker(pid, 4, marker(false), 4, 0));  // coordinator abort after a timeout
  EXPECT_EQ(m.find(pid)->epoch, 4);
  auto next = txn_info(pid, 4, 0, 1, 5);
  EXPECT_TRUE(m.check_client_batches(std::span(&next, 1)));
  auto stale = txn_info(pid, 3, 4, 1, 5);
  EXPECT_EQ(m.check_client_batches(std::span(&stale, 1)).error(), err(errc::invalid_producer_epoch));
}

TEST_F(TxnStateTest, NonTransactionalBatchInsideOpenTransactionIsRejected) {
  m.apply(txn_info(pid, 0, 0, 2, 0));
  producer_batch_info plain{pid, 0, 2, 2, 2, 2, 1'000, false};
  EXPECT_EQ(m.check_client_batches(std::span(&plain, 1)).error(), err(errc::invalid_txn_state));
  auto txn = txn_info(pid, 0, 2, 1, 2);
  EXPECT_TRUE(m.check_client_batches(std::span(&txn, 1)));
}

TEST_F(TxnStateTest, SnapshotKeepsOpenTransactionAndMarkerOnlyProducers) {
  m.apply(txn_info(pid, 2, 0, 3, 40));
  m.apply(txn_info(pid + 1, 0, 0, 1, 43));
  ASSERT_TRUE(m.apply_marker(pid + 1, 1, marker(false, 9), 44, 5'000));  // no batches left (epoch bump)
  auto bytes = producer_state_manager::encode_snapshot(m.producers());
  ASSERT_EQ(bytes.size(), 10u + 2 * 46);
  // pid's entry: current_txn_first_offset = 40 in the last 8 bytes of the first entry.
  EXPECT_EQ(load_be<int64_t>(bytes.data() + 10 + 38), 40);
  auto decoded = producer_state_manager::decode_snapshot(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->at(pid).current_txn_first_offset, 40);
  EXPECT_EQ(decoded->at(pid).last_seq(), 2);
  EXPECT_EQ(decoded->at(pid + 1).epoch, 1);
  EXPECT_EQ(decoded->at(pid + 1).coordinator_epoch, 9);
  EXPECT_TRUE(decoded->at(pid + 1).batches.empty());
  EXPECT_EQ(decoded->at(pid + 1).current_txn_first_offset, -1);

  ASSERT_TRUE(m.take_snapshot(45));
  producer_state_manager other{posix_file_system::instance(), d.path(), 1};  // everything "expired"
  auto loaded = other.load_latest_snapshot(45, 1'000'000);
  ASSERT_TRUE(loaded && *loaded == 45);
  // An open transaction keeps its producer despite expiry (it still bounds the LSO).
  ASSERT_NE(other.find(pid), nullptr);
  EXPECT_EQ(other.find(pid + 1), nullptr);
  EXPECT_EQ(other.first_unstable_offset(), 40);
  EXPECT_EQ(other.remove_expired(10'000'000), 0u);
}

TEST_F(TxnStateTest, SnapshotKeepsTheTimestampOfAMarkerAfterTheLastBatch) {
  // The marker moves the producer's expiry clock past its newest batch's timestamp (1'000). As in
  // Kafka, the newest batch's entry carries the producer's last timestamp (the round trip that
  // lost it was found by producer_snapshot_fuzz).
  m.apply(txn_info(pid, 0, 0, 2, 10));
  ASSERT_TRUE(m.apply_marker(pid, 0, marker(true, 3), 12, 90'000));
  ASSERT_EQ(m.find(pid)->last_timestamp, 90'000);
  auto bytes = producer_state_manager::encode_snapshot(m.producers());
  ASSERT_EQ(bytes.size(), 10u + 46);
  EXPECT_EQ(load_be<int64_t>(bytes.data() + 10 + 26), 90'000);
  auto decoded = producer_state_manager::decode_snapshot(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message();
  const auto& e = decoded->at(pid);
  EXPECT_EQ(e.last_timestamp, 90'000);
  EXPECT_EQ(e.coordinator_epoch, 3);
  ASSERT_EQ(e.batches.size(), 1u);
  EXPECT_EQ(e.batches.back(), (producer_batch{0, 1, 10, 11, 90'000}));
  EXPECT_EQ(producer_state_manager::encode_snapshot(*decoded), bytes);

  // Loaded 50 s after the marker with a 60 s expiry: still known (by its batch's time it is not).
  ASSERT_TRUE(m.take_snapshot(13));
  producer_state_manager other{posix_file_system::instance(), d.path(), 60'000};
  ASSERT_TRUE(other.load_latest_snapshot(13, 140'000));
  ASSERT_NE(other.find(pid), nullptr);
  EXPECT_EQ(other.find(pid)->last_seq(), 1);
}

// ---- control records ----

TEST(ControlRecord, BuildAndParseRoundTrip) {
  auto b = model::build_txn_marker_batch(pid, 3, marker(true, 12), 777);
  model::batch_view v(b);
  EXPECT_TRUE(v.is_control());
  EXPECT_TRUE(v.is_transactional());
  EXPECT_EQ(v.records_count(), 1);
  EXPECT_EQ(v.producer_id(), pid);
  EXPECT_EQ(v.producer_epoch(), 3);
  EXPECT_EQ(v.base_sequence(), -1);
  EXPECT_TRUE(model::validate_batch(b));
  auto m = model::parse_txn_marker(v);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->commit());
  EXPECT_EQ(m->coordinator_epoch, 12);
  auto recs = model::decode_records(b);
  ASSERT_TRUE(recs && recs->size() == 1);
  EXPECT_EQ(*recs->front().key, std::string("\x00\x00\x00\x01", 4));
  EXPECT_EQ(*recs->front().value, std::string("\x00\x00\x00\x00\x00\x0c", 6));
  auto data = model::build_batch({model::record_data{std::string("k"), std::string("v"), {}, 0}});
  EXPECT_FALSE(model::parse_txn_marker(model::batch_view(data)));
}

// ---- .txnindex ----

TEST(TxnIndex, EntryBytesFollowKafkaLayout) {
  uint8_t buf[txn_index::entry_size];
  txn_index::encode({1000, 40, 45, 46}, buf);
  const uint8_t expect[34] = {0, 0,  0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0, 40,
                              0, 0, 0, 0, 0, 0, 0, 45, 0, 0, 0, 0, 0, 0, 0, 46};
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + 34), std::vector<uint8_t>(expect, expect + 34));
  auto d = txn_index::decode(std::span<const uint8_t>(buf, 34));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->front(), (aborted_txn{1000, 40, 45, 46}));
  buf[1] = 1;  // version 1: not ours
  EXPECT_FALSE(txn_index::decode(std::span<const uint8_t>(buf, 34)));
}

TEST(TxnIndex, AppendTruncateLoadCollect) {
  temp_dir d;
  auto& fs = posix_file_system::instance();
  std::string path = d.sub("00000000000000000000.txnindex");
  txn_index idx(fs, path);
  ASSERT_TRUE(idx.load());
  EXPECT_FALSE(fs.exists(path));  // created with the first entry
  ASSERT_TRUE(idx.append({1, 0, 5, 6}));
  ASSERT_TRUE(idx.append({2, 3, 9, 10}));
  ASSERT_TRUE(idx.append({1, 12, 14, 15}));
  EXPECT_EQ(idx.append({3, 1, 14, 15}).error(), err(errc::invalid_offset));
  EXPECT_EQ(test::file_size(path), 3 * 34u);
  std::vector<aborted_txn> out;
  EXPECT_TRUE(idx.collect(6, 10, out));  // entry 2's LSO reached the bound
  EXPECT_EQ(out, (std::vector<aborted_txn>{{2, 3, 9, 10}}));
  out.clear();
  EXPECT_FALSE(idx.collect(0, 100, out));
  EXPECT_EQ(out.size(), 3u);
  ASSERT_TRUE(idx.truncate_to(9));  // the marker at 9 goes
  EXPECT_EQ(idx.entries().size(), 1u);
  EXPECT_EQ(test::file_size(path), 34u);
  // A torn entry after a crash is cut at load.
  auto bytes = test::read_all(path);
  bytes.resize(34 + 20, 0);
  test::write_all(path, bytes);
  txn_index again(fs, path);
  ASSERT_TRUE(again.load());
  EXPECT_EQ(again.entries(), (std::vector<aborted_txn>{{1, 0, 5, 6}}));
  EXPECT_EQ(test::file_size(path), 34u);
  ASSERT_TRUE(again.reset());
  EXPECT_FALSE(fs.exists(path));
}

// ---- through the log ----

struct TxnLogTest : ::testing::Test {
  temp_dir d;
  log_fixture f{d.sub("t-0"), small_segments()};

  result<append_result> send(int64_t id, int16_t epoch, int32_t seq, bool transactional, int records = 2,
                             size_t value_bytes = 100) {
    auto b = test::producer_batch(id, epoch, seq, records, value_bytes, f.clock.wall_ms(), transactional);
    return f->append(b, 0);
  }
  result<append_result> end_txn(int64_t id, int16_t epoch, bool commit, int32_t coordinator_epoch = 0) {
    auto b = model::build_txn_marker_batch(id, epoch, marker(commit, coordinator_epoch), f.clock.wall_ms());
    return f->append(b, 0);
  }
  void commit_all() { f->set_high_watermark(f->log_end_offset()); }
  std::vector<std::string> txnindex_files() { return test::files_with_extension(f.dir, ".txnindex"); }
};

TEST_F(TxnLogTest, LsoStopsAtOpenTransactionAndIsCappedByHighWatermark) {
  ASSERT_TRUE(send(1, 0, 0, false));                 // 0-1 idempotent
  ASSERT_EQ(send(pid, 0, 0, true)->base_offset, 2);  // 2-3 transaction opens
  ASSERT_TRUE(send(2, 0, 0, false));                 // 4-5
  EXPECT_EQ(f->last_stable_offset(), 0);             // HW still 0
  f->set_high_watermark(1);
  EXPECT_EQ(f->last_stable_offset(), 1);
  commit_all();
  EXPECT_EQ(f->high_watermark(), 6);
  EXPECT_EQ(f->last_stable_offset(), 2);
  auto m = end_txn(pid, 0, true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->base_offset, 6);
  EXPECT_EQ(f->last_stable_offset(), 6);  // the marker is not below the HW yet
  commit_all();
  EXPECT_EQ(f->last_stable_offset(), 7);
  EXPECT_TRUE(txnindex_files().empty());  // a commit writes no index entry
}

TEST_F(TxnLogTest, AbortWritesIndexEntryAndFetchCollectsIt) {
  ASSERT_TRUE(send(pid, 0, 0, true, 3));        // 0-2
  ASSERT_TRUE(send(pid + 1, 0, 0, true, 2));    // 3-4
  ASSERT_TRUE(end_txn(pid, 0, false, 2));       // 5: abort pid
  ASSERT_TRUE(send(pid, 0, 3, true, 1));        // 6: pid's next transaction
  ASSERT_TRUE(end_txn(pid + 1, 0, false, 2));   // 7: abort pid+1
  ASSERT_TRUE(end_txn(pid, 0, true, 2));        // 8: commit pid
  commit_all();
  EXPECT_EQ(f->last_stable_offset(), 9);
  auto entries = f->collect_aborted_txns(0, 9);
  ASSERT_EQ(entries.size(), 2u);
  // Kafka's lastStableOffset: the first offset of the still-open transaction of pid+1 (3),
  // then of pid's second transaction (6).
  EXPECT_EQ(entries[0], (aborted_txn{pid, 0, 5, 3}));
  EXPECT_EQ(entries[1], (aborted_txn{pid + 1, 3, 7, 6}));
  EXPECT_EQ(f->collect_aborted_txns(6, 9).size(), 1u);       // pid's ended at 5
  EXPECT_EQ(f->collect_aborted_txns(0, 3).size(), 1u);       // pid+1's starts at 3
  EXPECT_EQ(txnindex_files(), (std::vector<std::string>{"00000000000000000000.txnindex"}));
  EXPECT_EQ(test::file_size(f.dir + "/00000000000000000000.txnindex"), 68u);
  // A retried abort (same epoch, nothing open) is written but adds no entry.
  ASSERT_TRUE(end_txn(pid + 1, 0, false, 2));
  EXPECT_EQ(f->collect_aborted_txns(0, 100).size(), 2u);
}

TEST_F(TxnLogTest, FencedMarkerAndPlainBatchInsideTransactionAreRefused) {
  ASSERT_TRUE(send(pid, 5, 0, true));
  auto old = end_txn(pid, 4, false);
  EXPECT_EQ(old.error(), err(errc::invalid_producer_epoch));
  EXPECT_EQ(send(pid, 5, 2, false).error(), err(errc::invalid_txn_state));
  EXPECT_EQ(f->log_end_offset(), 2);
  ASSERT_TRUE(end_txn(pid, 5, false, 3));
  EXPECT_EQ(end_txn(pid, 5, false, 2).error(), err(errc::transaction_coordinator_fenced));
}

TEST_F(TxnLogTest, TruncationRemovesIndexEntriesAndReopensTransaction) {
  ASSERT_TRUE(send(pid, 0, 0, true));   // 0-1
  ASSERT_TRUE(end_txn(pid, 0, false));  // 2
  ASSERT_TRUE(send(pid, 0, 2, true));   // 3-4
  ASSERT_TRUE(end_txn(pid, 0, false));  // 5
  ASSERT_EQ(f->collect_aborted_txns(0, 10).size(), 2u);
  ASSERT_TRUE(f->truncate_to(5));
  EXPECT_EQ(f->collect_aborted_txns(0, 10).size(), 1u);
  EXPECT_EQ(f->producer_state().first_unstable_offset(), 3);  // open again
  commit_all();
  EXPECT_EQ(f->last_stable_offset(), 3);
}

TEST_F(TxnLogTest, FollowerAppendUpdatesStateAndIndex) {
  temp_dir d2;
  log_fixture leader{d2.sub("t-0"), small_segments()};
  std::vector<model::record_data> recs{model::record_data{std::nullopt, std::string("x"), {}, 0}};
  model::batch_options o;
  o.producer_id = pid;
  o.producer_epoch = 0;
  o.base_sequence = 0;
  o.attributes = model::batch_attr::transactional;
  auto b = model::build_batch(recs, o);
  ASSERT_TRUE(leader->append(b, 0));
  auto mk = model::build_txn_marker_batch(pid, 0, marker(false), 0);
  ASSERT_TRUE(leader->append(mk, 0));
  leader->set_high_watermark(2);
  auto r = leader->read(0, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(r);
  auto bytes = test::range_bytes(*r);
  ASSERT_TRUE(f->append_as_follower(bytes));
  EXPECT_EQ(f->collect_aborted_txns(0, 2), (std::vector<aborted_txn>{{pid, 0, 1, 2}}));
  EXPECT_FALSE(f->producer_state().first_unstable_offset());
}

TEST_F(TxnLogTest, UncleanRestartRebuildsIndexAndOpenTransactions) {
  int32_t seq = 0;
  // Several segments: an aborted transaction, then an open one spanning a roll.
  ASSERT_TRUE(send(pid, 0, seq, true, 2, 500));
  seq += 2;
  ASSERT_TRUE(end_txn(pid, 0, false));
  int64_t open_first = f->log_end_offset();
  while (f->segment_count() < 3) {
    ASSERT_TRUE(send(pid + 1, 0, seq - 2, true, 2, 500));
    seq += 2;
  }
  ASSERT_TRUE(send(pid, 0, 2, true, 1));
  ASSERT_TRUE(end_txn(pid, 0, false));  // second abort, in the last segment
  auto before = f->collect_aborted_txns(0, INT64_MAX);
  ASSERT_EQ(before.size(), 2u);
  // Lose the index files entirely, as if never written back, then crash (no close).
  for (auto& n : txnindex_files()) std::filesystem::remove(f.dir + "/" + n);
  ASSERT_TRUE(f.reopen(false, 0));
  EXPECT_EQ(f->collect_aborted_txns(0, INT64_MAX), before);
  EXPECT_EQ(f->producer_state().first_unstable_offset(), open_first);
  commit_all();
  EXPECT_EQ(f->last_stable_offset(), open_first);
  // A clean restart keeps everything from the snapshot and the files.
  ASSERT_TRUE(f->close());
  ASSERT_TRUE(f.reopen(true));
  EXPECT_EQ(f->collect_aborted_txns(0, INT64_MAX), before);
  EXPECT_EQ(f->producer_state().first_unstable_offset(), open_first);
  ASSERT_TRUE(end_txn(pid + 1, 0, true));
  commit_all();
  EXPECT_EQ(f->last_stable_offset(), f->log_end_offset());
}

TEST_F(TxnLogTest, CorruptIndexIsRebuiltAndDeletedSegmentsTakeTheirIndex) {
  int32_t seq = 0;
  while (f->segment_count() < 3) {
    ASSERT_TRUE(send(pid, 0, seq, true, 2, 500));
    seq += 2;
    ASSERT_TRUE(end_txn(pid, 0, false));
  }
  auto files = txnindex_files();
  ASSERT_GE(files.size(), 2u);
  auto before = f->collect_aborted_txns(0, INT64_MAX);
  ASSERT_TRUE(f->close());
  // Version 7 in the first entry: the index fails its checks and is rebuilt from the log.
  auto first = f.dir + "/" + files.front();
  auto bytes = test::read_all(first);
  bytes[1] = 7;
  test::write_all(first, bytes);
  ASSERT_TRUE(f.reopen(true));
  EXPECT_EQ(f->collect_aborted_txns(0, INT64_MAX), before);
  // DeleteRecords past the first segment deletes its .txnindex with it.
  auto bases = f->segment_base_offsets();
  commit_all();
  ASSERT_TRUE(f->delete_records_before(bases[1]));
  EXPECT_FALSE(std::filesystem::exists(first));
  EXPECT_EQ(f->collect_aborted_txns(bases[1], INT64_MAX).front().last_offset >= bases[1], true);
}

TEST_F(TxnLogTest, LogDumpShowsMarkersAndIndexEntries) {
  ASSERT_TRUE(send(pid, 2, 0, true, 3));       // 0-2
  ASSERT_TRUE(end_txn(pid, 2, false, 6));      // 3
  ASSERT_TRUE(send(pid + 1, 0, 0, true, 1));   // 4
  ASSERT_TRUE(end_txn(pid + 1, 0, true, 6));   // 5
  ASSERT_TRUE(f->close());
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  auto s = dump_path(f.dir, {}, out);
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  EXPECT_EQ(s.problems, 0u) << text;
  EXPECT_NE(text.find("| offset: 3 endTxnMarker: ABORT coordinatorEpoch: 6"), std::string::npos) << text;
  EXPECT_NE(text.find("| offset: 5 endTxnMarker: COMMIT coordinatorEpoch: 6"), std::string::npos) << text;
  EXPECT_NE(text.find("version: 0 producerId: 4000 firstOffset: 0 lastOffset: 3 lastStableOffset: 4"),
            std::string::npos) << text;
  // An entry that points at no ABORT marker is reported.
  auto path = f.dir + "/00000000000000000000.txnindex";
  auto bytes = test::read_all(path);
  store_be<int64_t>(bytes.data() + 18, 5);  // last_offset -> the COMMIT marker
  test::write_all(path, bytes);
  out = open_memstream(&buf, &len);
  s = dump_path(path, {}, out);
  std::fclose(out);
  text.assign(buf, len);
  free(buf);
  EXPECT_EQ(s.problems, 1u) << text;
  EXPECT_NE(text.find("lastOffset 5 is not an ABORT marker"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::storage
