#include "replication/follower_log.h"

#include <gtest/gtest.h>

#include "storage/test_utils.h"

namespace sluice::replication {
namespace {

using storage::test::log_fixture;
using storage::test::make_batch;
using storage::test::range_bytes;
using E = protocol::error_code;

// The leader's half of a follower fetch (what handlers/fetch.cc does), over a local log.
struct leader_answer {
  std::vector<uint8_t> bytes;
  fetch_answer a;
};
leader_answer answer(storage::log& leader, fetch_position pos, int32_t max_bytes = 1 << 20) {
  leader_answer out;
  out.a.high_watermark = leader.high_watermark();
  out.a.log_start_offset = leader.log_start_offset();
  if (auto d = find_divergence(leader.leader_epochs(), leader.log_end_offset(), pos.last_fetched_epoch,
                               pos.fetch_offset)) {
    out.a.diverging = d;
    return out;
  }
  auto r = leader.read(pos.fetch_offset, max_bytes, leader.log_end_offset(), true);
  if (!r) {
    out.a.error = E::offset_out_of_range;
    return out;
  }
  out.bytes = range_bytes(*r);
  out.a.records = out.bytes;
  return out;
}

// Fetches until the follower is at the leader's end; returns the actions taken.
std::vector<follower_action> replicate(storage::log& leader, storage::log& follower, int32_t max_bytes = 1 << 20) {
  std::vector<follower_action> actions;
  for (int i = 0; i < 100 && next_fetch_position(follower).fetch_offset != leader.log_end_offset(); ++i) {
    auto ans = answer(leader, next_fetch_position(follower), max_bytes);
    auto r = apply_fetch_answer(follower, ans.a);
    EXPECT_TRUE(r) << r.error().message();
    if (!r) break;
    actions.push_back(*r);
  }
  // One more round to carry the final HW over.
  auto ans = answer(leader, next_fetch_position(follower), max_bytes);
  EXPECT_TRUE(apply_fetch_answer(follower, ans.a));
  return actions;
}

std::vector<uint8_t> all_bytes(storage::log& l) {
  auto r = l.read(l.log_start_offset(), 1 << 30, l.log_end_offset(), true);
  EXPECT_TRUE(r);
  return r ? range_bytes(*r) : std::vector<uint8_t>{};
}

struct FollowerLog : ::testing::Test {
  storage::test::temp_dir d;
  log_fixture leader{d.sub("leader")};
  log_fixture follower{d.sub("follower")};
};

TEST_F(FollowerLog, ReplicatesByteForByteWithEpochsAndHw) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(leader.append_batch(make_batch(10, 50), 0));
  ASSERT_TRUE(leader->leader_epochs().assign(3, leader->log_end_offset()));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(leader.append_batch(make_batch(7, 30), 3));
  leader->set_high_watermark(70);
  // Small max_bytes: several rounds, one batch each.
  auto actions = replicate(*leader, *follower, 100);
  EXPECT_EQ(actions.size(), 9u);
  EXPECT_EQ(follower->log_end_offset(), 78);
  EXPECT_EQ(all_bytes(*follower), all_bytes(*leader));
  EXPECT_EQ(follower->leader_epochs().entries(), leader->leader_epochs().entries());
  EXPECT_EQ(follower->high_watermark(), 70);  // min(leader HW, own LEO)
  EXPECT_EQ(next_fetch_position(*follower), (fetch_position{78, 3}));
}

TEST_F(FollowerLog, FollowerAheadInOldEpochTruncatesThenCatchesUp) {
  // Both have offsets 0..19 in epoch 0. The follower also got 20..29 in epoch 0 from the old
  // leader; the new leader (epoch 2 from 20) wrote different data there.
  for (int i = 0; i < 2; ++i) {
    auto b = make_batch(10, 20, 1'000, 0);
    ASSERT_TRUE(leader.append_batch(b, 0));
  }
  ASSERT_TRUE(replicate(*leader, *follower).size() >= 1);
  ASSERT_TRUE(follower->append_as_follower(make_batch(10, 20, 5'000, 20, 0)));
  ASSERT_TRUE(leader->leader_epochs().assign(2, 20));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(leader.append_batch(make_batch(10, 99, 9'000), 2));
  leader->set_high_watermark(40);
  auto actions = replicate(*leader, *follower);
  ASSERT_FALSE(actions.empty());
  EXPECT_EQ(actions.front(), follower_action::truncated);
  EXPECT_EQ(all_bytes(*follower), all_bytes(*leader));
  EXPECT_EQ(follower->leader_epochs().entries(), leader->leader_epochs().entries());
  EXPECT_EQ(follower->high_watermark(), 40);
}

TEST_F(FollowerLog, EmptyEpochsLedAtTheEndAreDroppedSoTheFollowerConverges) {
  // Both hold 0..19 in epoch 1. This broker then led epochs 2 and 3 without appending anything
  // (entries 2->20, 3->20); the new leader took over in epoch 4 at 20 and appended.
  ASSERT_TRUE(leader->leader_epochs().assign(1, 0));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(leader.append_batch(make_batch(10, 20), 1));
  leader->set_high_watermark(20);
  replicate(*leader, *follower);
  ASSERT_TRUE(follower->leader_epochs().assign(2, 20));
  ASSERT_TRUE(follower->leader_epochs().assign(3, 20));
  ASSERT_TRUE(leader->leader_epochs().assign(4, 20));
  ASSERT_TRUE(leader.append_batch(make_batch(5, 20), 4));
  leader->set_high_watermark(25);
  // The leader answers {epoch 1, end 20}: nothing to cut, but epochs 2 and 3 must go, or the
  // next fetch (last_fetched_epoch 3) gets the same answer forever.
  auto actions = replicate(*leader, *follower);
  ASSERT_GE(actions.size(), 2u);
  EXPECT_EQ(actions[0], follower_action::truncated);
  EXPECT_EQ(actions[1], follower_action::appended);
  EXPECT_EQ(follower->log_end_offset(), 25);
  EXPECT_EQ(all_bytes(*follower), all_bytes(*leader));
  EXPECT_EQ(follower->leader_epochs().entries(), leader->leader_epochs().entries());
}

TEST_F(FollowerLog, OutOfRangeBelowLeaderStartResets) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(leader.append_batch(make_batch(10, 20), 0));
  fetch_answer a;
  a.error = E::offset_out_of_range;
  a.log_start_offset = 20;
  a.high_watermark = 30;
  auto r = apply_fetch_answer(*follower, a);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, follower_action::reset);
  EXPECT_EQ(follower->log_start_offset(), 20);
  EXPECT_EQ(follower->log_end_offset(), 20);
  // Other errors are retried and change nothing.
  a.error = E::not_leader_or_follower;
  EXPECT_EQ(*apply_fetch_answer(*follower, a), follower_action::retry);
  EXPECT_EQ(follower->log_end_offset(), 20);
}

TEST_F(FollowerLog, SkipsBatchesAlreadyHeldAndCutOffTail) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(leader.append_batch(make_batch(10, 20), 0));
  auto all = all_bytes(*leader);
  auto b0 = make_batch(10, 20);
  // Follower already has the first batch; the answer holds all three, the last one cut short.
  ASSERT_TRUE(follower->append_as_follower(std::span<const uint8_t>(all.data(), b0.size())));
  fetch_answer a;
  a.high_watermark = 30;
  a.records = std::span<const uint8_t>(all.data(), all.size() - 5);
  EXPECT_EQ(*apply_fetch_answer(*follower, a), follower_action::appended);
  EXPECT_EQ(follower->log_end_offset(), 20);
  EXPECT_EQ(follower->high_watermark(), 20);
}

}  // namespace
}  // namespace sluice::replication
