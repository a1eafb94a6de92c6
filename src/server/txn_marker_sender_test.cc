// The transaction marker sender against a fake broker (fake_marker_broker_test_fixture.h) that
// answers WriteTxnMarkers v1 from a script of per-partition errors. The sender must group the
// partitions by leader, send to every leader at once, retry failed ones (NOT_LEADER_OR_FOLLOWER,
// unknown leader, a dropped connection) until all succeed, count a deleted topic as done, and
// report the work done once.
#include "server/txn_marker_sender.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "server/fake_marker_broker_test_fixture.h"

namespace sluice::server {
namespace {

using coordinator::txn::marker_work;
using E = protocol::error_code;
using test::fake_marker_broker;

marker_work sample_work() {
  marker_work w;
  w.txn_partition = 7;
  w.transactional_id = "tx";
  w.producer_id = 4000;
  w.producer_epoch = 3;
  w.commit = true;
  w.coordinator_epoch = 5;
  w.partitions = {{"a", 0}, {"a", 1}, {"b", 0}, {"gone", 0}};
  return w;
}

struct TxnMarkerSender : ::testing::Test {
  asio::io_context ctx;
  fake_marker_broker broker{ctx};
  fake_marker_broker other{ctx};
  broker_connections connections{ctx.get_executor()};
  std::vector<marker_work> done;
  bool wanted = true;
  std::map<std::pair<std::string, int32_t>, int> leader;  // -1: unknown
  std::unique_ptr<txn_marker_sender> sender;

  TxnMarkerSender() {
    leader[{"a", 0}] = 1;
    leader[{"a", 1}] = 1;
    leader[{"b", 0}] = 2;
    txn_marker_sender_deps deps;
    deps.leader_of = [this](const std::string& t, int32_t p) -> std::optional<cluster::broker_endpoint> {
      auto it = leader.find({t, p});
      if (it == leader.end() || it->second < 0) return std::nullopt;
      return cluster::broker_endpoint{it->second, "127.0.0.1", it->second == 1 ? broker.port() : other.port()};
    };
    deps.topic_exists = [](const std::string& t) { return t != "gone"; };
    deps.still_wanted = [this](const marker_work&) { return wanted; };
    deps.done = [this](const marker_work& w) { done.push_back(w); };
    txn_marker_sender_config cfg;
    cfg.request_timeout_ms = 2000;
    cfg.retry_backoff_ms = 10;
    cfg.max_backoff_ms = 50;
    sender = std::make_unique<txn_marker_sender>(ctx.get_executor(), connections, deps, cfg);
    asio::co_spawn(ctx, broker.serve(), asio::detached);
    asio::co_spawn(ctx, other.serve(), asio::detached);
  }
  // Runs the loop until the sender has nothing in flight (bounded).
  void run_until_idle(std::chrono::milliseconds max = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + max;
    do {
      ctx.run_for(std::chrono::milliseconds(10));
    } while (sender->in_flight() > 0 && std::chrono::steady_clock::now() < until);
  }
};

TEST_F(TxnMarkerSender, GroupsByLeaderAndReportsDoneOnce) {
  auto w = sample_work();
  sender->send(w);
  sender->send(w);  // a re-emit while in flight is ignored
  EXPECT_EQ(sender->in_flight(), 1u);
  run_until_idle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].transactional_id, "tx");
  // One request per leader; "gone" (deleted topic) is not sent.
  ASSERT_EQ(broker.received.size(), 1u);
  ASSERT_EQ(other.received.size(), 1u);
  const auto& m = broker.received[0].markers.at(0);
  EXPECT_EQ(m.producer_id, 4000);
  EXPECT_EQ(m.producer_epoch, 3);
  EXPECT_TRUE(m.transaction_result);
  EXPECT_EQ(m.coordinator_epoch, 5);
  ASSERT_EQ(m.topics.size(), 1u);
  EXPECT_EQ(m.topics[0].name, "a");
  EXPECT_EQ(m.topics[0].partition_indexes, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(other.received[0].markers.at(0).topics.at(0).name, "b");
}

TEST_F(TxnMarkerSender, SendsToEveryLeaderAtOnce) {
  broker.hold_answers = true;
  other.hold_answers = true;
  sender->send(sample_work());
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((broker.received.empty() || other.received.empty()) && std::chrono::steady_clock::now() < until)
    ctx.run_for(std::chrono::milliseconds(10));
  // Both leaders have their request while neither has answered.
  EXPECT_EQ(broker.received.size(), 1u);
  EXPECT_EQ(other.received.size(), 1u);
  EXPECT_TRUE(done.empty());
  broker.release();
  other.release();
  run_until_idle();
  ASSERT_EQ(done.size(), 1u);
}

TEST_F(TxnMarkerSender, RetriesFailedPartitionsUntilAllSucceed) {
  broker.script[{"a", 1}] = {E::not_leader_or_follower, E::not_enough_replicas};
  leader[{"b", 0}] = -1;  // no leader yet
  sender->send(sample_work());
  ctx.run_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(done.empty());
  leader[{"b", 0}] = 2;
  run_until_idle();
  ASSERT_EQ(done.size(), 1u);
  // a-0 once; a-1 three times (two failures); b-0 once it had a leader.
  ASSERT_EQ(broker.received.size(), 3u);
  EXPECT_EQ(broker.received[1].markers.at(0).topics.at(0).partition_indexes, (std::vector<int32_t>{1}));
  EXPECT_EQ(broker.received[2].markers.at(0).topics.at(0).partition_indexes, (std::vector<int32_t>{1}));
  EXPECT_EQ(other.received.size(), 1u);
}

TEST_F(TxnMarkerSender, ReconnectsAfterADroppedConnection) {
  broker.drop_first = true;
  sender->send(sample_work());
  run_until_idle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(broker.requests, 2);  // the dropped one, then the answered retry
}

TEST_F(TxnMarkerSender, SuccessiveTransactionsReuseTheConnectionToEachBroker) {
  for (int16_t epoch = 3; epoch < 6; ++epoch) {
    auto w = sample_work();
    w.producer_epoch = epoch;
    sender->send(w);
    run_until_idle();
  }
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(broker.received.size(), 3u);
  EXPECT_EQ(other.received.size(), 3u);
  EXPECT_EQ(broker.connections, 1);
  EXPECT_EQ(other.connections, 1);
  EXPECT_EQ(connections.opened(), 2);
}

TEST_F(TxnMarkerSender, UnknownTopicCountsAsDoneOnlyWhenDeleted) {
  auto w = sample_work();
  w.partitions = {{"a", 0}};
  broker.script[{"a", 0}] = {E::unknown_topic_or_partition};
  sender->send(w);
  run_until_idle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(broker.received.size(), 2u);  // "a" exists: UNKNOWN_TOPIC_OR_PARTITION is retried
}

TEST_F(TxnMarkerSender, StopsWhenNoLongerWanted) {
  leader[{"a", 0}] = -1;
  sender->send(sample_work());
  ctx.run_for(std::chrono::milliseconds(100));
  wanted = false;
  run_until_idle();
  EXPECT_EQ(sender->in_flight(), 0u);
  EXPECT_TRUE(done.empty());
}

}  // namespace
}  // namespace sluice::server
