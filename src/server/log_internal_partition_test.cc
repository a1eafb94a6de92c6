// Group coordinator writes over a real partition log whose leader state has a second in-sync
// replica (broker 1) that has not fetched: an offset commit is answered only once the high
// watermark passes it (simulated follower fetch), else COORDINATOR_NOT_AVAILABLE after
// offsets.commit.timeout.ms, NOT_COORDINATOR when leadership moves, and the offsets become
// visible only with the answer. Transactional offsets: written as the producer's transactional
// batch, fenced by an older epoch, decided by the marker (on_txn_marker, and read_all on reload).
#include "server/log_internal_partition.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "coordinator/placement.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "server/group_coordinator.h"
#include "server/one_shard_broker_test_fixture.h"

namespace sluice::server {
namespace {

namespace cg = coordinator::group;
using E = protocol::error_code;
using namespace std::chrono_literals;

constexpr int32_t self_id = 0;
constexpr int32_t follower_id = 1;
const model::topic_partition offsets_tp{coordinator::consumer_offsets_topic, 0};

cluster::image_ptr image_of(int32_t leader, int32_t leader_epoch, const std::string& min_isr = "1") {
  auto img = std::make_shared<cluster::metadata_image>();
  img->self_id = self_id;
  img->version = leader_epoch + 1;
  cluster::topic_metadata t;
  t.name = offsets_tp.topic;
  t.internal = true;
  t.configs["min.insync.replicas"] = min_isr;
  cluster::partition_metadata p;
  p.partition = 0;
  p.replicas = {self_id, follower_id};
  p.isr = {self_id, follower_id};
  p.leader = leader;
  p.leader_epoch = leader_epoch;
  t.partitions.push_back(p);
  img->topics[t.name] = t;
  return img;
}

struct commit_slot {
  bool done = false;
  std::vector<E> errors;
};

struct GroupWriteReplication : ::testing::Test, testing::one_shard_broker {
  std::unique_ptr<group_coordinator> groups;

  void start(int64_t commit_timeout_ms, const std::string& min_isr = "1") {
    open_partitions(image_of(self_id, 0, min_isr));
    cg::group_config cfg;
    cfg.offsets_commit_timeout_ms = commit_timeout_ms;
    groups = std::make_unique<group_coordinator>(shards, *pm, self_id, cfg, system_clock::instance());
    shards.start();
    load();
  }
  // First use loads the partition (posted: a later turn of the shard's loop); waits for it.
  void load() {
    on_shard([&] { groups->manager_for(0); });
    ASSERT_TRUE(
        wait_on_shard([&] { return groups->manager().status(0) == cg::group_manager::partition_status::loaded; }));
  }
  ~GroupWriteReplication() override {
    shards.stop();
    groups.reset();
  }

  partition& part() { return *pm->get(offsets_tp); }
  std::shared_ptr<commit_slot> commit(int64_t offset) {
    auto slot = std::make_shared<commit_slot>();
    on_shard([&] {
      cg::commit_request req{"g", -1, "", std::nullopt, {{"t", 0, offset, -1, std::nullopt}}};
      groups->manager().commit(0, req, [slot](std::vector<E> e) {
        EXPECT_FALSE(slot->done) << "answered twice";
        slot->done = true;
        slot->errors = std::move(e);
      });
    });
    return slot;
  }
  int64_t committed() {
    int64_t out = -2;
    on_shard([&] {
      auto f = groups->manager().fetch_offsets(0, "g", std::vector<cg::topic_partition_id>{{"t", 0}});
      out = f.offsets.at(0).offset;
    });
    return out;
  }
  std::shared_ptr<commit_slot> txn_commit(int64_t offset, int64_t producer_id, int16_t epoch) {
    auto slot = std::make_shared<commit_slot>();
    on_shard([&] {
      cg::txn_commit_request req;
      req.group_id = "g";
      req.producer_id = producer_id;
      req.producer_epoch = epoch;
      req.partitions = {{"t", 0, offset, -1, std::nullopt}};
      groups->manager().txn_commit(0, req, [slot](std::vector<E> e) {
        EXPECT_FALSE(slot->done) << "answered twice";
        slot->done = true;
        slot->errors = std::move(e);
      });
    });
    return slot;
  }
  // The follower fetched everything: the HW reaches the LEO.
  void follower_caught_up() {
    on_shard([&] {
      auto& p = part();
      const int64_t leo = p.log().log_end_offset();
      ASSERT_TRUE(p.leader()->on_follower_fetch(follower_id, leo, leo, pm->clock().monotonic_ms()));
      p.publish_high_watermark();
    });
  }
  // What WriteTxnMarkers appends: a control batch with Kafka's control record (key: version 0,
  // type 0 abort / 1 commit; value: version 0, coordinator epoch).
  void append_marker(int64_t producer_id, int16_t epoch, bool commit) {
    on_shard([&] {
      model::record_data rec;
      std::string key(4, '\0');
      key[3] = commit ? 1 : 0;
      rec.key = key;
      rec.value = std::string(6, '\0');
      model::batch_options opts;
      opts.attributes = model::batch_attr::control | model::batch_attr::transactional;
      opts.producer_id = producer_id;
      opts.producer_epoch = epoch;
      auto batch = model::build_batch({rec}, opts);
      storage::append_options ao;
      ao.check_producer_state = false;
      ASSERT_TRUE(part().log().append(batch, part().leader_epoch(), ao));
    });
  }
  E stable_error() {
    E out = E::unknown_server_error;
    on_shard([&] {
      auto f = groups->manager().fetch_offsets(0, "g", std::vector<cg::topic_partition_id>{{"t", 0}}, true);
      out = f.offsets.at(0).error;
    });
    return out;
  }
  // The partition is unloaded and loaded again from its log (a coordinator move).
  void reload() {
    on_shard([&] { groups->manager().unload(0); });
    load();
  }
};

TEST_F(GroupWriteReplication, CommitAnsweredOnlyAfterTheFollowerFetchedIt) {
  start(30'000);
  auto c = commit(42);
  on_shard([&] {
    // Appended, HW held back by the follower's LEO, no acks=all waiter completed.
    EXPECT_EQ(part().log().log_end_offset(), 1);
    EXPECT_EQ(part().log().high_watermark(), 0);
    EXPECT_EQ(part().leader()->ack_waiters(), 1u);
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(c->done);
  EXPECT_EQ(committed(), -1);  // staged, not visible
  on_shard([&] {
    // The follower fetches from offset 1: it has the record, the HW moves and the commit is answered.
    auto& p = part();
    ASSERT_TRUE(p.leader()->on_follower_fetch(follower_id, 1, p.log().log_end_offset(), pm->clock().monotonic_ms()));
    p.publish_high_watermark();
    EXPECT_EQ(p.log().high_watermark(), 1);
  });
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->errors, std::vector<E>{E::none});
  EXPECT_EQ(committed(), 42);
}

TEST_F(GroupWriteReplication, CommitNotReplicatedInTimeIsCoordinatorNotAvailable) {
  start(300);
  auto c = commit(42);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(c->done);
  // offsets.commit.timeout.ms (300 ms) passes without a follower fetch.
  for (int i = 0; i < 100 && !c->done; ++i) {
    std::this_thread::sleep_for(50ms);
    on_shard([] {});
  }
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->errors, std::vector<E>{E::coordinator_not_available});
  EXPECT_EQ(committed(), -1);
  on_shard([&] {
    EXPECT_EQ(part().leader()->ack_waiters(), 0u);  // the timed-out waiter was removed
    EXPECT_EQ(part().log().high_watermark(), 0);    // never set by hand
  });
}

TEST_F(GroupWriteReplication, BelowMinInsyncReplicasNothingIsWritten) {
  start(30'000, "3");
  auto c = commit(42);
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->errors, std::vector<E>{E::coordinator_not_available});
  on_shard([&] { EXPECT_EQ(part().log().log_end_offset(), 0); });
  EXPECT_EQ(committed(), -1);
}

TEST_F(GroupWriteReplication, LeadershipLostWhileWaitingIsNotCoordinator) {
  start(30'000);
  auto c = commit(42);
  EXPECT_FALSE(c->done);
  // Broker 1 becomes leader in epoch 1: the waiting write fails with NOT_LEADER_OR_FOLLOWER.
  auto img = image_of(follower_id, 1);
  auto applied = asio::co_spawn(shards.context(0), pm->apply(img), asio::use_future);
  ASSERT_EQ(applied.wait_for(10s), std::future_status::ready);
  on_shard([] {});
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->errors, std::vector<E>{E::not_coordinator});
}

TEST_F(GroupWriteReplication, TransactionalOffsetsDecidedByTheirMarker) {
  start(30'000);
  auto c = txn_commit(42, 7, 1);
  EXPECT_FALSE(c->done);  // waits for the follower, as a plain commit
  follower_caught_up();
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->errors, std::vector<E>{E::none});
  on_shard([&] {
    // The batch entered the partition's producer state as producer 7's (epoch 1).
    const auto* st = part().log().producer_state().find(7);
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(st->epoch, 1);
    EXPECT_EQ(part().log().log_end_offset(), 1);
  });
  EXPECT_EQ(committed(), -1);
  EXPECT_EQ(stable_error(), E::unstable_offset_commit);
  // An older epoch of the producer is fenced: nothing written.
  auto fenced = txn_commit(43, 7, 0);
  ASSERT_TRUE(fenced->done);
  EXPECT_EQ(fenced->errors, std::vector<E>{E::invalid_producer_epoch});
  on_shard([&] { EXPECT_EQ(part().log().log_end_offset(), 1); });
  // Reloaded from the log before any marker: still pending (read_all passed the batch's producer).
  reload();
  EXPECT_EQ(committed(), -1);
  EXPECT_EQ(stable_error(), E::unstable_offset_commit);
  // The COMMIT marker is appended and reported: committed; a marker elsewhere changes nothing.
  append_marker(7, 1, true);
  on_shard([&] { groups->on_txn_marker({"other-topic", 0}, 7, true); });
  EXPECT_EQ(committed(), -1);
  on_shard([&] { groups->on_txn_marker(offsets_tp, 7, true); });
  EXPECT_EQ(committed(), 42);
  EXPECT_EQ(stable_error(), E::none);
  // Another transaction of producer 8 is aborted; the reload replays both markers.
  auto d = txn_commit(50, 8, 0);
  follower_caught_up();
  ASSERT_TRUE(d->done);
  EXPECT_EQ(d->errors, std::vector<E>{E::none});
  append_marker(8, 0, false);
  reload();
  EXPECT_EQ(committed(), 42);
  EXPECT_EQ(stable_error(), E::none);
}

}  // namespace
}  // namespace sluice::server
