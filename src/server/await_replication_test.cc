// partition_manager::await_replication, the acks=all wait of Produce and of transaction markers,
// over a real partition log whose leader state has a second in-sync replica (broker 1) that
// fetches only when the test says so. Produce and WriteTxnMarkers append every partition of a
// request before waiting, so the wait is registered after other work: it must refuse an append
// made in an earlier leader epoch (the log may have been truncated and rewritten since).
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "model/record_batch_builder.h"
#include "server/one_shard_broker_test_fixture.h"

namespace sluice::server {
namespace {

using E = protocol::error_code;
using namespace std::chrono_literals;

constexpr int32_t self_id = 0;
constexpr int32_t follower_id = 1;
const model::topic_partition tp{"t", 0};

cluster::image_ptr image_of(int32_t leader_epoch) {
  auto img = std::make_shared<cluster::metadata_image>();
  img->self_id = self_id;
  img->version = leader_epoch + 1;
  cluster::topic_metadata t;
  t.name = tp.topic;
  cluster::partition_metadata p;
  p.partition = tp.partition;
  p.replicas = {self_id, follower_id};
  p.isr = p.replicas;
  p.leader = self_id;
  p.leader_epoch = leader_epoch;
  t.partitions.push_back(p);
  img->topics[t.name] = t;
  return img;
}

struct AwaitReplication : ::testing::Test, testing::one_shard_broker {
  void SetUp() override {
    open_partitions(image_of(0));
    shards.start();
  }

  // Appends one record as the leader; returns {end offset, leader epoch of the append}.
  std::pair<int64_t, int32_t> append() {
    std::pair<int64_t, int32_t> out{-1, -1};
    on_shard([&] {
      partition& p = *pm->get(tp);
      model::record_data rec;
      rec.value = std::string("v");
      auto batch = model::build_batch({rec}, {});
      auto appended = p.log().append(batch, p.leader_epoch());
      ASSERT_TRUE(appended);
      p.leader()->on_leader_log_end(p.log().log_end_offset());
      out = {appended->last_offset + 1, p.leader_epoch()};
    });
    return out;
  }
  void follower_caught_up() {
    on_shard([&] {
      partition& p = *pm->get(tp);
      const int64_t leo = p.log().log_end_offset();
      ASSERT_TRUE(p.leader()->on_follower_fetch(follower_id, leo, leo, pm->clock().monotonic_ms()));
      p.publish_high_watermark();
    });
  }
  E await(int64_t end_offset, int32_t leader_epoch, int64_t timeout_ms = 5000) {
    const int64_t deadline = pm->clock().monotonic_ms() + timeout_ms;
    auto fut = asio::co_spawn(shards.context(0), pm->await_replication(tp, end_offset, leader_epoch, deadline),
                              asio::use_future);
    EXPECT_EQ(fut.wait_for(10s), std::future_status::ready);
    return fut.get();
  }
};

TEST_F(AwaitReplication, AnsweredOnceTheFollowerHasTheAppend) {
  auto [end, epoch] = append();
  EXPECT_EQ(await(end, epoch, 200), E::request_timed_out);  // the follower has not fetched
  follower_caught_up();
  EXPECT_EQ(await(end, epoch), E::none);
}

TEST_F(AwaitReplication, AppendOfAnEarlierLeaderEpochIsNotLeader) {
  auto [end, epoch] = append();
  follower_caught_up();
  // Led here again, in a later epoch: what was appended in the earlier one may be gone.
  auto applied = asio::co_spawn(shards.context(0), pm->apply(image_of(epoch + 1)), asio::use_future);
  ASSERT_EQ(applied.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(await(end, epoch), E::not_leader_or_follower);
  auto [end2, epoch2] = append();
  EXPECT_EQ(epoch2, epoch + 1);
  follower_caught_up();
  EXPECT_EQ(await(end2, epoch2), E::none);
}

}  // namespace
}  // namespace sluice::server
