// The transaction marker sender against a fake broker: a tiny asio server on 127.0.0.1 that
// answers WriteTxnMarkers v1 from a script of per-partition errors. The sender must group the
// partitions by leader, retry failed ones (NOT_LEADER_OR_FOLLOWER, unknown leader, a dropped
// connection) until all succeed, count a deleted topic as done, and report the work done once.
#include "server/txn_marker_sender.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <map>

#include <asio/experimental/as_tuple.hpp>

#include "protocol/api.h"
#include "protocol/headers.h"
#include "protocol/messages/write_txn_markers.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace sluice::server {
namespace {

using asio::ip::tcp;
using coordinator::txn::marker_work;
using E = protocol::error_code;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Answers WriteTxnMarkers v1. `script[(topic, partition)]` gives the error of each successive
// attempt (NONE once exhausted); `drop_first` closes the first connection without answering.
struct fake_broker {
  explicit fake_broker(asio::io_context& ctx) : acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  tcp::acceptor acceptor;
  std::map<std::pair<std::string, int32_t>, std::deque<E>> script;
  bool drop_first = false;
  int requests = 0;
  std::vector<protocol::write_txn_markers_request> received;

  int32_t port() const { return acceptor.local_endpoint().port(); }

  asio::awaitable<void> serve() {
    for (;;) {
      auto [err, sock] = co_await acceptor.async_accept(as_tuple);
      if (err) co_return;
      auto s = std::make_shared<tcp::socket>(std::move(sock));
      asio::co_spawn(acceptor.get_executor(), conn(s), asio::detached);
    }
  }

  asio::awaitable<void> conn(std::shared_ptr<tcp::socket> s) {
    for (;;) {
      uint8_t len_bytes[4];
      auto [e1, n1] = co_await asio::async_read(*s, asio::buffer(len_bytes), as_tuple);
      if (e1) co_return;
      const uint32_t len = uint32_t{len_bytes[0]} << 24 | uint32_t{len_bytes[1]} << 16 | uint32_t{len_bytes[2]} << 8 |
                           uint32_t{len_bytes[3]};
      std::vector<uint8_t> body(len);
      auto [e2, n2] = co_await asio::async_read(*s, asio::buffer(body), as_tuple);
      if (e2) co_return;
      ++requests;
      if (drop_first) {
        drop_first = false;
        s->close();
        co_return;
      }
      protocol::reader r{std::span<const uint8_t>(body)};
      protocol::request_header h;
      EXPECT_TRUE(h.decode(r, protocol::request_header_version(27, 1)));
      EXPECT_EQ(h.api_key, 27);
      EXPECT_EQ(h.api_version, 1);
      protocol::write_txn_markers_request req;
      EXPECT_TRUE(req.decode(r, 1));
      received.push_back(req);
      protocol::write_txn_markers_response resp;
      for (const auto& m : req.markers) {
        protocol::write_txn_markers_response::writable_txn_marker_result mr;
        mr.producer_id = m.producer_id;
        for (const auto& t : m.topics) {
          protocol::write_txn_markers_response::writable_txn_marker_topic_result tr;
          tr.name = t.name;
          for (auto p : t.partition_indexes) {
            auto& q = script[{t.name, p}];
            E e = E::none;
            if (!q.empty()) {
              e = q.front();
              q.pop_front();
            }
            tr.partitions.push_back({p, static_cast<int16_t>(e)});
          }
          mr.topics.push_back(std::move(tr));
        }
        resp.markers.push_back(std::move(mr));
      }
      protocol::writer w;
      auto pos = w.begin_frame();
      protocol::response_header rh;
      rh.correlation_id = h.correlation_id;
      rh.encode(w, protocol::response_header_version(27, 1));
      resp.encode(w, 1);
      w.end_frame(pos);
      auto out = w.flatten();
      auto [e3, n3] = co_await asio::async_write(*s, asio::buffer(out), as_tuple);
      if (e3) co_return;
    }
  }
};

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
  fake_broker broker{ctx};
  fake_broker other{ctx};
  std::vector<marker_work> done;
  bool wanted = true;
  std::map<std::pair<std::string, int32_t>, int> leader;  // -1: unknown
  std::unique_ptr<txn_marker_sender> sender;

  TxnMarkerSender() {
    leader[{"a", 0}] = 1;
    leader[{"a", 1}] = 1;
    leader[{"b", 0}] = 2;
    txn_marker_sender_deps deps;
    deps.leader_of = [this](const std::string& t, int32_t p) -> std::optional<marker_destination> {
      auto it = leader.find({t, p});
      if (it == leader.end() || it->second < 0) return std::nullopt;
      return marker_destination{it->second, "127.0.0.1", it->second == 1 ? broker.port() : other.port()};
    };
    deps.topic_exists = [](const std::string& t) { return t != "gone"; };
    deps.still_wanted = [this](const marker_work&) { return wanted; };
    deps.done = [this](const marker_work& w) { done.push_back(w); };
    txn_marker_sender_config cfg;
    cfg.request_timeout_ms = 2000;
    cfg.retry_backoff_ms = 10;
    cfg.max_backoff_ms = 50;
    sender = std::make_unique<txn_marker_sender>(ctx.get_executor(), deps, cfg);
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
