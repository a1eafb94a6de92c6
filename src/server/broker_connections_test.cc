// broker_connections against fake brokers (fake_marker_broker_test_fixture.h): connections are
// reused per destination, a reused connection the other side closed is replaced without the
// caller seeing an error, at most max_idle_per_broker stay idle, and a broker that moved to
// another port is reached at its new one.
#include "server/broker_connections.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "server/fake_marker_broker_test_fixture.h"

namespace sluice::server {
namespace {

using test::fake_marker_broker;
using write_result = result<protocol::write_txn_markers_response>;

protocol::write_txn_markers_request one_marker(int64_t producer_id) {
  protocol::write_txn_markers_request req;
  protocol::write_txn_markers_request::writable_txn_marker m;
  m.producer_id = producer_id;
  m.producer_epoch = 0;
  m.transaction_result = true;
  m.coordinator_epoch = 0;
  protocol::write_txn_markers_request::writable_txn_marker_topic t;
  t.name = "a";
  t.partition_indexes = {0};
  m.topics.push_back(std::move(t));
  req.markers.push_back(std::move(m));
  return req;
}

struct BrokerConnections : ::testing::Test {
  asio::io_context ctx;
  fake_marker_broker broker{ctx};
  fake_marker_broker moved{ctx};
  broker_connections pool{ctx.get_executor(), 1};

  BrokerConnections() {
    asio::co_spawn(ctx, broker.serve(), asio::detached);
    asio::co_spawn(ctx, moved.serve(), asio::detached);
  }

  cluster::broker_endpoint at(const fake_marker_broker& b) { return {1, "127.0.0.1", b.port(), std::nullopt}; }

  // Starts a request for a marker of `producer_id`; its result lands in `out`.
  void start(cluster::broker_endpoint to, int64_t producer_id, std::optional<write_result>& out) {
    asio::co_spawn(
        ctx,
        [this, to, producer_id, &out]() -> asio::awaitable<void> {
          auto req = one_marker(producer_id);
          out = co_await pool.request<protocol::write_txn_markers_api>(to, req, 1, 2000);
        },
        asio::detached);
  }
  // Runs the loop until every result is in (bounded).
  void run_until(std::initializer_list<const std::optional<write_result>*> results) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto all_in = [&] {
      for (auto* r : results)
        if (!r->has_value()) return false;
      return true;
    };
    while (!all_in() && std::chrono::steady_clock::now() < until) ctx.run_for(std::chrono::milliseconds(10));
  }
  write_result send(cluster::broker_endpoint to, int64_t producer_id) {
    std::optional<write_result> r;
    start(to, producer_id, r);
    run_until({&r});
    if (!r) return std::make_error_code(std::errc::timed_out);
    return std::move(*r);
  }
};

TEST_F(BrokerConnections, SuccessiveRequestsShareOneConnection) {
  for (int64_t pid = 1; pid <= 3; ++pid) {
    auto r = send(at(broker), pid);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->markers.at(0).producer_id, pid);
  }
  EXPECT_EQ(broker.connections, 1);
  EXPECT_EQ(broker.requests, 3);
  EXPECT_EQ(pool.opened(), 1);
  EXPECT_EQ(pool.idle(1), 1u);
}

TEST_F(BrokerConnections, ReusedConnectionClosedByTheOtherSideIsReplaced) {
  broker.close_after_answer = true;
  ASSERT_TRUE(send(at(broker), 1));
  ctx.run_for(std::chrono::milliseconds(50));  // the other side closes the idle connection
  auto r = send(at(broker), 2);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->markers.at(0).producer_id, 2);
  EXPECT_EQ(broker.connections, 2);
  EXPECT_EQ(broker.requests, 2);  // each answered once; the stale connection got nothing through
  EXPECT_EQ(pool.opened(), 2);
}

TEST_F(BrokerConnections, FailureOnANewConnectionIsTheCallers) {
  broker.drop_first = true;
  EXPECT_FALSE(send(at(broker), 1));  // not retried: the connection was new
  EXPECT_EQ(broker.requests, 1);
  EXPECT_EQ(pool.idle(1), 0u);
  EXPECT_TRUE(send(at(broker), 2));
}

TEST_F(BrokerConnections, KeepsAtMostMaxIdleConnections) {
  std::optional<write_result> a, b;
  start(at(broker), 1, a);
  start(at(broker), 2, b);  // while the first is in flight: a second connection
  run_until({&a, &b});
  ASSERT_TRUE(a && *a);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(broker.connections, 2);
  EXPECT_EQ(pool.idle(1), 1u);  // max_idle_per_broker = 1: the other was closed
}

TEST_F(BrokerConnections, BrokerThatMovedIsReachedAtItsNewAddress) {
  ASSERT_TRUE(send(at(broker), 1));
  ASSERT_TRUE(send(at(moved), 2));  // broker 1 now listens on another port
  EXPECT_EQ(moved.requests, 1);
  EXPECT_EQ(broker.requests, 1);
  ASSERT_TRUE(send(at(moved), 3));
  EXPECT_EQ(moved.connections, 1);
  EXPECT_EQ(pool.idle(1), 1u);
}

}  // namespace
}  // namespace sluice::server
