// The transaction coordinator over a real __transaction_state partition log whose leader state
// has a second in-sync replica (broker 1) that has not fetched: an InitProducerId is answered
// (and its state applied) only once the high watermark passes its record (simulated follower
// fetch), else COORDINATOR_NOT_AVAILABLE after the write timeout, NOT_COORDINATOR when
// leadership moves. Also the KIP-890 verifier (server/txn_verifier.h) against a loaded
// coordinator and with a remote one.
#include "server/txn_coordinator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "cluster/embedded_store.h"
#include "coordinator/placement.h"
#include "server/one_shard_broker_test_fixture.h"
#include "server/txn_verifier.h"

namespace sluice::server {
namespace {

namespace ct = coordinator::txn;
using E = protocol::error_code;
using namespace std::chrono_literals;

constexpr int32_t self_id = 0;
constexpr int32_t follower_id = 1;
const model::topic_partition txn_tp{coordinator::transaction_state_topic, 0};

// __transaction_state with one partition (every transactional id maps to it) and topic "t".
cluster::image_ptr image_of(int32_t leader, int32_t leader_epoch, bool with_follower) {
  auto img = std::make_shared<cluster::metadata_image>();
  img->self_id = self_id;
  img->version = leader_epoch + 1;
  img->brokers.push_back({self_id, "127.0.0.1", 1});
  img->brokers.push_back({follower_id, "127.0.0.1", 2});
  cluster::topic_metadata t;
  t.name = txn_tp.topic;
  t.internal = true;
  t.configs["min.insync.replicas"] = "1";
  cluster::partition_metadata p;
  p.partition = 0;
  p.replicas = with_follower ? std::vector<int32_t>{self_id, follower_id} : std::vector<int32_t>{self_id};
  p.isr = p.replicas;
  p.leader = leader;
  p.leader_epoch = leader_epoch;
  t.partitions.push_back(p);
  img->topics[t.name] = t;
  cluster::topic_metadata data;
  data.name = "t";
  cluster::partition_metadata d;
  d.partition = 0;
  d.replicas = {self_id};
  d.isr = {self_id};
  d.leader = self_id;
  data.partitions.push_back(d);
  img->topics[data.name] = data;
  return img;
}

struct answer_slot {
  bool done = false;
  ct::init_pid_response resp;
};

struct TxnCoordinator : ::testing::Test, testing::one_shard_broker {
  std::unique_ptr<cluster::embedded_store> store = cluster::embedded_store::in_memory();
  std::unique_ptr<coordinator::producer_id_manager> ids;
  std::unique_ptr<txn_coordinator> txns;

  void start(int64_t write_timeout_ms, bool with_follower) {
    open_partitions(image_of(self_id, 0, with_follower));
    ids = std::make_unique<coordinator::producer_id_manager>(*store, self_id);
    txn_coordinator_settings cfg;
    cfg.write_timeout_ms = write_timeout_ms;
    txns = std::make_unique<txn_coordinator>(shards, *pm, self_id, *ids, cfg, system_clock::instance());
    shards.start();
    on_shard([&] { txns->manager_for(0); });
    ASSERT_TRUE(wait_on_shard(
        [&] { return txns->manager().status(0) == ct::transaction_manager::partition_status::loaded; }));
  }
  ~TxnCoordinator() override {
    shards.stop();
    txns.reset();
  }

  partition& part() { return *pm->get(txn_tp); }
  std::shared_ptr<answer_slot> init(const std::string& id) {
    auto slot = std::make_shared<answer_slot>();
    on_shard([&] {
      ct::init_pid_request r;
      r.transactional_id = id;
      r.transaction_timeout_ms = 60000;
      txns->manager().init_producer_id(0, r, [slot](ct::init_pid_response x) {
        EXPECT_FALSE(slot->done) << "answered twice";
        slot->done = true;
        slot->resp = x;
      });
    });
    return slot;
  }
  ct::described_txn describe(const std::string& id) {
    ct::described_txn d;
    on_shard([&] { d = txns->manager().describe(0, id); });
    return d;
  }
};

TEST_F(TxnCoordinator, InitProducerIdAnsweredOnlyAfterTheFollowerFetchedIt) {
  start(30'000, true);
  auto a = init("tx");
  on_shard([&] {
    EXPECT_EQ(part().log().log_end_offset(), 1);
    EXPECT_EQ(part().log().high_watermark(), 0);
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(a->done);
  EXPECT_EQ(describe("tx").producer_epoch, -1);  // in flight, not applied
  auto busy = init("tx");
  ASSERT_TRUE(busy->done);
  EXPECT_EQ(busy->resp.error, E::concurrent_transactions);
  on_shard([&] {
    auto& p = part();
    ASSERT_TRUE(p.leader()->on_follower_fetch(follower_id, 1, p.log().log_end_offset(), pm->clock().monotonic_ms()));
    p.publish_high_watermark();
  });
  ASSERT_TRUE(a->done);
  EXPECT_EQ(a->resp.error, E::none);
  EXPECT_EQ(a->resp.producer_epoch, 0);
  auto d = describe("tx");
  EXPECT_EQ(d.state, "Empty");
  EXPECT_EQ(d.producer_id, a->resp.producer_id);
  EXPECT_EQ(d.producer_epoch, 0);
}

TEST_F(TxnCoordinator, NotReplicatedInTimeIsCoordinatorNotAvailable) {
  start(300, true);
  auto a = init("tx");
  for (int i = 0; i < 100 && !a->done; ++i) {
    std::this_thread::sleep_for(50ms);
    on_shard([] {});
  }
  ASSERT_TRUE(a->done);
  EXPECT_EQ(a->resp.error, E::coordinator_not_available);
  EXPECT_EQ(describe("tx").error, E::transactional_id_not_found);
}

TEST_F(TxnCoordinator, LeadershipLostWhileWaitingIsNotCoordinator) {
  start(30'000, true);
  auto a = init("tx");
  EXPECT_FALSE(a->done);
  auto img = image_of(follower_id, 1, true);
  auto applied = asio::co_spawn(shards.context(0), pm->apply(img), asio::use_future);
  ASSERT_EQ(applied.wait_for(10s), std::future_status::ready);
  on_shard([&] { txns->on_image(*img); });
  ASSERT_TRUE(a->done);
  EXPECT_EQ(a->resp.error, E::not_coordinator);
  EXPECT_EQ(describe("tx").error, E::not_coordinator);  // unloaded
}

TEST_F(TxnCoordinator, VerifierAsksTheLocalCoordinator) {
  start(30'000, false);
  auto a = init("tx");
  ASSERT_TRUE(a->done);
  ASSERT_EQ(a->resp.error, E::none);
  bool added = false;
  on_shard([&] {
    txns->manager().add_partitions(0, "tx", a->resp.producer_id, a->resp.producer_epoch, {{"t", 0}},
                                   [&](E e) { added = e == E::none; });
  });
  ASSERT_TRUE(added);
  auto verifier = make_txn_verifier(*txns, *pm, self_id);
  auto ask = [&](std::string id, int64_t pid, int16_t epoch, model::topic_partition tp) {
    auto fut = asio::co_spawn(shards.context(0), verifier(id, pid, epoch, tp), asio::use_future);
    EXPECT_EQ(fut.wait_for(10s), std::future_status::ready);
    return fut.get();
  };
  EXPECT_EQ(ask("tx", a->resp.producer_id, a->resp.producer_epoch, {"t", 0}), E::none);
  EXPECT_EQ(ask("tx", a->resp.producer_id, a->resp.producer_epoch, {"t", 1}), E::invalid_txn_state);
  // Fencing reaches the producer as the INVALID_PRODUCER_EPOCH every Produce version has.
  EXPECT_EQ(ask("tx", a->resp.producer_id, a->resp.producer_epoch + 1, {"t", 0}), E::invalid_producer_epoch);
  EXPECT_EQ(ask("other", a->resp.producer_id, 0, {"t", 0}), E::invalid_producer_id_mapping);
  // The coordinator moves to broker 1, which is asked over the network (DescribeTransactions);
  // nothing listens at its address here, so the answer is the retriable NOT_ENOUGH_REPLICAS.
  auto img = image_of(follower_id, 1, false);
  auto applied = asio::co_spawn(shards.context(0), pm->apply(img), asio::use_future);
  ASSERT_EQ(applied.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ask("tx", a->resp.producer_id, a->resp.producer_epoch, {"t", 1}), E::not_enough_replicas);
}

}  // namespace
}  // namespace sluice::server
