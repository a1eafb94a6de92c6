// Transactional offset commits (TxnOffsetCommit) in the group manager: pending until the
// producer's marker, committed by COMMIT, dropped by ABORT, replayed on load, and hidden from
// OffsetFetch (UNSTABLE_OFFSET_COMMIT with require_stable) while pending.
#include <gtest/gtest.h>

#include "coordinator/group/group_manager.h"
#include "coordinator/group/offsets_format.h"
#include "coordinator/testing/group_manager_fixture.h"
#include "coordinator/testing/memory_partition.h"

namespace sluice::coordinator::group {
namespace {

using testing::memory_log;
using memory_store = testing::memory_partition;

constexpr int32_t P = 3;
constexpr int64_t pid = 4000;

struct TxnOffsets : testing::group_manager_fixture {
  TxnOffsets() : group_manager_fixture(P) {}

  struct slot {
    bool done = false;
    std::vector<errc> r;
  };
  std::shared_ptr<slot> txn_async(const txn_commit_request& req) {
    auto s = std::make_shared<slot>();
    gm->txn_commit(P, req, [s](std::vector<errc> r) {
      EXPECT_FALSE(s->done) << "answered twice";
      s->done = true;
      s->r = std::move(r);
    });
    return s;
  }
  std::vector<errc> txn(const txn_commit_request& req) {
    auto s = txn_async(req);
    EXPECT_TRUE(s->done) << "not answered";
    return s->r;
  }
  // A v0-2 style request: no member, no generation.
  static txn_commit_request simple(const std::string& group, int64_t producer, int16_t epoch, int64_t offset,
                                   int32_t partition = 0) {
    txn_commit_request r;
    r.group_id = group;
    r.producer_id = producer;
    r.producer_epoch = epoch;
    r.partitions = {{"t", partition, offset, 2, std::string("m")}};
    return r;
  }
  std::vector<errc> plain(const std::string& group, int64_t offset, int32_t partition = 0) {
    std::vector<errc> out;
    gm->commit(P, {group, -1, "", std::nullopt, {{"t", partition, offset, -1, std::nullopt}}},
               [&](std::vector<errc> r) { out = std::move(r); });
    return out;
  }
  fetched_offset fetch(const std::string& group, int32_t partition = 0, bool stable = false) {
    auto f = gm->fetch_offsets(P, group, std::vector<topic_partition_id>{{"t", partition}}, stable);
    EXPECT_EQ(f.error, errc::none);
    return f.offsets.at(0);
  }
  // A group with one member in generation 1 (Stable).
  std::string stable_group(const std::string& group) {
    join_request j;
    j.group_id = group;
    j.session_timeout_ms = 1000;
    j.rebalance_timeout_ms = 5000;
    j.protocol_type = "consumer";
    j.protocols = {{"range", {}}};
    join_response jr;
    gm->join(P, j, [&](join_response r) { jr = std::move(r); });
    EXPECT_EQ(jr.error, errc::none);
    sync_response sr;
    gm->sync(P, {group, jr.generation_id, jr.member_id, std::nullopt, {{jr.member_id, {}}}},
             [&](sync_response r) { sr = std::move(r); });
    EXPECT_EQ(sr.error, errc::none);
    return jr.member_id;
  }
};

TEST_F(TxnOffsets, PendingUntilCommitMarkerThenCommitted) {
  ASSERT_EQ(plain("g", 5), std::vector<errc>{errc::none});
  ASSERT_EQ(txn(simple("g", pid, 0, 10)), std::vector<errc>{errc::none});
  // Written as the producer's transactional batch.
  ASSERT_EQ(log->records.size(), 2u);
  const auto& b = log->batches.at(1);
  EXPECT_EQ(b.producer_id, pid);
  EXPECT_EQ(b.producer_epoch, 0);
  EXPECT_TRUE(b.transactional);
  EXPECT_EQ(b.control, control_type::none);
  // Invisible: OffsetFetch returns the committed value; require_stable says UNSTABLE_OFFSET_COMMIT.
  EXPECT_EQ(fetch("g").offset, 5);
  auto st = fetch("g", 0, true);
  EXPECT_EQ(st.error, errc::unstable_offset_commit);
  EXPECT_EQ(st.offset, -1);
  EXPECT_EQ(fetch("g", 1, true).error, errc::none);  // another partition is stable
  // Markers of another producer or another partition change nothing.
  gm->complete_txn(P, pid + 1, true);
  gm->complete_txn(P + 1, pid, true);
  EXPECT_EQ(fetch("g").offset, 5);
  gm->complete_txn(P, pid, true);
  auto f = fetch("g", 0, true);
  EXPECT_EQ(f.error, errc::none);
  EXPECT_EQ(f.offset, 10);
  EXPECT_EQ(f.leader_epoch, 2);
  EXPECT_EQ(f.metadata, "m");
  // A second marker has nothing left to complete.
  gm->complete_txn(P, pid, false);
  EXPECT_EQ(fetch("g").offset, 10);
}

TEST_F(TxnOffsets, AbortMarkerDropsPendingOffsets) {
  ASSERT_EQ(plain("g", 5), std::vector<errc>{errc::none});
  ASSERT_EQ(txn(simple("g", pid, 0, 10)), std::vector<errc>{errc::none});
  gm->complete_txn(P, pid, false);
  auto f = fetch("g", 0, true);
  EXPECT_EQ(f.error, errc::none);
  EXPECT_EQ(f.offset, 5);
  // A later commit marker of the same producer does not bring them back.
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("g").offset, 5);
}

TEST_F(TxnOffsets, PlainCommitWrittenAfterThePendingOneWins) {
  ASSERT_EQ(txn(simple("g", pid, 0, 10)), std::vector<errc>{errc::none});
  ASSERT_EQ(plain("g", 20), std::vector<errc>{errc::none});
  EXPECT_EQ(fetch("g").offset, 20);
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("g").offset, 20);  // Kafka: the record later in the log is the committed one
  restart();
  log->write_marker(pid, 0, true);
  restart();
  EXPECT_EQ(fetch("g").offset, 20);
}

TEST_F(TxnOffsets, LoadReplaysMarkersFromTheLog) {
  constexpr int64_t a = 1, b = 2, c = 3;
  ASSERT_EQ(plain("g", 5, 0), std::vector<errc>{errc::none});
  ASSERT_EQ(plain("g", 6, 1), std::vector<errc>{errc::none});
  ASSERT_EQ(txn(simple("g", a, 0, 100, 0)), std::vector<errc>{errc::none});
  ASSERT_EQ(txn(simple("g", b, 0, 200, 1)), std::vector<errc>{errc::none});
  ASSERT_EQ(txn(simple("g", c, 0, 300, 2)), std::vector<errc>{errc::none});
  ASSERT_EQ(txn(simple("solo", c, 0, 301, 0)), std::vector<errc>{errc::none});
  log->write_marker(a, 0, true);
  log->write_marker(b, 0, false);
  restart();
  EXPECT_EQ(fetch("g", 0, true).offset, 100);  // COMMIT followed: committed
  EXPECT_EQ(fetch("g", 1, true).offset, 6);    // ABORT followed: dropped
  EXPECT_EQ(fetch("g", 2).offset, -1);         // no marker yet: still pending
  EXPECT_EQ(fetch("g", 2, true).error, errc::unstable_offset_commit);
  EXPECT_EQ(fetch("solo", 0, true).error, errc::unstable_offset_commit);  // a group with pending offsets only
  // The marker arriving after the load completes them, in both groups.
  gm->complete_txn(P, c, true);
  EXPECT_EQ(fetch("g", 2, true).offset, 300);
  EXPECT_EQ(fetch("solo", 0, true).offset, 301);
  // A marker before the transactional offsets in the log does not apply to them.
  log->write_marker(c, 0, true);
  ASSERT_EQ(txn(simple("late", c, 0, 7)), std::vector<errc>{errc::none});
  restart();
  EXPECT_EQ(fetch("late", 0, true).error, errc::unstable_offset_commit);
  EXPECT_EQ(fetch("g", 2).offset, 300);
}

TEST_F(TxnOffsets, LoadedAbortMarkerBeforeLaterTransactionKeepsNewOnePending) {
  ASSERT_EQ(txn(simple("g", pid, 0, 10)), std::vector<errc>{errc::none});
  log->write_marker(pid, 0, false);
  ASSERT_EQ(txn(simple("g", pid, 0, 11)), std::vector<errc>{errc::none});
  restart();
  EXPECT_EQ(fetch("g", 0, true).error, errc::unstable_offset_commit);
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("g").offset, 11);
}

TEST_F(TxnOffsets, ValidationAsKafka) {
  // Group id, then coordinator.
  EXPECT_EQ(txn(simple("", pid, 0, 1)), std::vector<errc>{errc::invalid_group_id});
  group_manager other(cfg, clock);
  std::vector<errc> got;
  other.txn_commit(P, simple("g", pid, 0, 1), [&](std::vector<errc> r) { got = std::move(r); });
  EXPECT_EQ(got, std::vector<errc>{errc::not_coordinator});
  other.begin_loading(P);
  other.txn_commit(P, simple("g", pid, 0, 1), [&](std::vector<errc> r) { got = std::move(r); });
  EXPECT_EQ(got, std::vector<errc>{errc::coordinator_load_in_progress});
  // Unknown group: with a member id it is unknown; without (v0-2), an offsets-only group.
  auto with_member = simple("new", pid, 0, 1);
  with_member.member_id = "m-1";
  with_member.generation_id = 1;
  EXPECT_EQ(txn(with_member), std::vector<errc>{errc::unknown_member_id});
  EXPECT_EQ(gm->group_count(), 0u);
  EXPECT_EQ(txn(simple("new", pid, 0, 1)), std::vector<errc>{errc::none});
  // A group with members: v0-2 requests (no member) are accepted in any state; v3's
  // member/generation are checked.
  auto member = stable_group("g");
  EXPECT_EQ(txn(simple("g", pid, 0, 1)), std::vector<errc>{errc::none});
  auto r = simple("g", pid, 0, 2);
  r.member_id = member;
  r.generation_id = 1;
  EXPECT_EQ(txn(r), std::vector<errc>{errc::none});
  r.generation_id = 2;
  EXPECT_EQ(txn(r), std::vector<errc>{errc::illegal_generation});
  r.generation_id = 1;
  r.member_id = "someone-else";
  EXPECT_EQ(txn(r), std::vector<errc>{errc::unknown_member_id});
  r.member_id = "";
  r.generation_id = 1;  // a generation alone also asks for the membership check
  EXPECT_EQ(txn(r), std::vector<errc>{errc::unknown_member_id});
  // Metadata above offset.metadata.max.bytes: that partition only.
  cfg.offset_metadata_max_bytes = 3;
  restart();
  auto big = simple("g", pid, 0, 5);
  big.partitions = {{"t", 0, 5, -1, std::string("toolong")}, {"t", 1, 6, -1, std::nullopt}};
  EXPECT_EQ(txn(big), (std::vector<errc>{errc::offset_metadata_too_large, errc::none}));
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("g", 1).offset, 6);
  EXPECT_EQ(fetch("g", 1).metadata, "");  // null metadata is stored as ""
}

TEST_F(TxnOffsets, StaticMemberFencedAndRebalanceDoesNotBlock) {
  join_request j;
  j.group_id = "g";
  j.group_instance_id = "inst";
  j.session_timeout_ms = 1000;
  j.rebalance_timeout_ms = 5000;
  j.protocol_type = "consumer";
  j.protocols = {{"range", {}}};
  join_response jr;
  gm->join(P, j, [&](join_response x) { jr = std::move(x); });
  ASSERT_EQ(jr.error, errc::none);
  // CompletingRebalance (no SyncGroup yet): a plain commit gets REBALANCE_IN_PROGRESS, a
  // transactional one is accepted (Kafka checks no state for transactions).
  auto r = simple("g", pid, 0, 9);
  r.member_id = jr.member_id;
  r.generation_id = jr.generation_id;
  r.group_instance_id = "inst";
  EXPECT_EQ(txn(r), std::vector<errc>{errc::none});
  r.member_id = "old-incarnation";
  EXPECT_EQ(txn(r), std::vector<errc>{errc::fenced_instance_id});
}

TEST_F(TxnOffsets, OlderProducerEpochIsFenced) {
  ASSERT_EQ(txn(simple("g", pid, 3, 10)), std::vector<errc>{errc::none});
  const auto n = log->records.size();
  EXPECT_EQ(txn(simple("g", pid, 2, 11)), std::vector<errc>{errc::invalid_producer_epoch});
  EXPECT_EQ(log->records.size(), n);  // nothing written
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("g").offset, 10);
}

TEST_F(TxnOffsets, FailedWriteIsNotPending) {
  log->hold = true;
  auto s = txn_async(simple("g", pid, 0, 10));
  EXPECT_FALSE(s->done);
  // Appended: pending from now on (a marker can only follow it in the log).
  EXPECT_EQ(fetch("g", 0, true).error, errc::unstable_offset_commit);
  log->release(make_error_code(write_errc::timed_out));
  ASSERT_TRUE(s->done);
  EXPECT_EQ(s->r, std::vector<errc>{errc::coordinator_not_available});
  EXPECT_EQ(fetch("g", 0, true).error, errc::none);
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("g").offset, -1);
  // Append failures are answered at once and leave nothing pending.
  log->hold = false;
  log->fail = true;
  log->fail_with = write_errc::not_leader;
  EXPECT_EQ(txn(simple("g", pid, 0, 11)), std::vector<errc>{errc::not_coordinator});
  log->fail = false;
  EXPECT_EQ(fetch("g", 0, true).error, errc::none);
}

TEST_F(TxnOffsets, PendingOffsetsKeepAnEmptyGroupFromExpiring) {
  cfg.offsets_retention_ms = 1000;
  cfg.retention_check_interval_ms = 100;
  restart();
  ASSERT_EQ(txn(simple("solo", pid, 0, 10)), std::vector<errc>{errc::none});
  clock.advance_ms(5000);
  gm->tick();
  EXPECT_EQ(gm->group_count(), 1u);
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("solo").offset, 10);
}

TEST_F(TxnOffsets, UnloadDropsPendingAndReloadRestoresThem) {
  ASSERT_EQ(txn(simple("g", pid, 0, 10)), std::vector<errc>{errc::none});
  gm->unload(P);
  gm->complete_txn(P, pid, true);  // not loaded here: nothing happens
  ASSERT_TRUE(gm->load(P, std::make_unique<memory_store>(log)));
  EXPECT_EQ(fetch("g", 0, true).error, errc::unstable_offset_commit);
  gm->complete_txn(P, pid, true);
  EXPECT_EQ(fetch("g").offset, 10);
}

}  // namespace
}  // namespace sluice::coordinator::group
