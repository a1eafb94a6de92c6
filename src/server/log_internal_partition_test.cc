// Group coordinator writes over a real partition log whose leader state has a second in-sync
// replica (broker 1) that has not fetched: an offset commit is answered only once the high
// watermark passes it (simulated follower fetch), else COORDINATOR_NOT_AVAILABLE after
// offsets.commit.timeout.ms, NOT_COORDINATOR when leadership moves, and the offsets become
// visible only with the answer.
#include "server/log_internal_partition.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "coordinator/placement.h"
#include "server/group_coordinator.h"
#include "storage/file_system.h"
#include "storage/log_manager.h"

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

struct GroupWriteReplication : ::testing::Test {
  std::string dir;
  std::unique_ptr<storage::log_manager> logs;
  net::shard_group shards{1};
  std::unique_ptr<partition_manager> pm;
  std::unique_ptr<group_coordinator> groups;

  void start(int64_t commit_timeout_ms, const std::string& min_isr = "1") {
    char tmpl[] = "/tmp/sluice-lip-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    storage::log_manager_config lc;
    lc.log_dirs = {dir};
    auto opened = storage::log_manager::open(lc, storage::posix_file_system::instance(), system_clock::instance());
    ASSERT_TRUE(opened) << opened.error().message();
    logs = std::move(*opened);
    pm = std::make_unique<partition_manager>(shards, *logs, std::map<std::string, std::string>{}, self_id);
    pm->apply_blocking(image_of(self_id, 0, min_isr));
    cg::group_config cfg;
    cfg.offsets_commit_timeout_ms = commit_timeout_ms;
    groups = std::make_unique<group_coordinator>(shards, *pm, self_id, cfg, system_clock::instance());
    shards.start();
    // First use loads the partition (posted: a later turn of the shard's loop).
    on_shard([&] { groups->manager_for(0); });
    auto status = cg::group_manager::partition_status::loading;
    for (int i = 0; i < 200 && status != cg::group_manager::partition_status::loaded; ++i) {
      if (i > 0) std::this_thread::sleep_for(5ms);
      on_shard([&] { status = groups->manager().status(0); });
    }
    ASSERT_EQ(status, cg::group_manager::partition_status::loaded);
  }
  ~GroupWriteReplication() override {
    shards.stop();
    groups.reset();
    pm.reset();
    logs.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }

  // Runs fn on the partition's shard and waits for it (bounded).
  template <typename F>
  void on_shard(F fn) {
    std::promise<void> ran;
    auto fut = ran.get_future();
    shards.post(0, [&] {
      fn();
      ran.set_value();
    });
    ASSERT_EQ(fut.wait_for(10s), std::future_status::ready) << "shard did not run the step";
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

}  // namespace
}  // namespace sluice::server
