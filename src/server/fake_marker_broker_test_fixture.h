#pragma once
// Test fixture: a fake broker for the inter-broker client tests (txn_marker_sender_test,
// broker_connections_test): a tiny asio server on 127.0.0.1 that answers WriteTxnMarkers v1.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include "protocol/api.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "protocol/messages/write_txn_markers.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace sluice::server::test {

using tcp = asio::ip::tcp;
inline constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Answers WriteTxnMarkers v1. `script[(topic, partition)]` gives the error of each successive
// attempt (NONE once exhausted); `drop_first` closes the first connection without answering;
// `close_after_answer` closes every connection after its first answer; `hold_answers` keeps
// every answer back until release().
struct fake_marker_broker {
  explicit fake_marker_broker(asio::io_context& ctx)
      : acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  tcp::acceptor acceptor;
  std::map<std::pair<std::string, int32_t>, std::deque<protocol::error_code>> script;
  bool drop_first = false;
  bool close_after_answer = false;
  bool hold_answers = false;
  std::vector<std::shared_ptr<asio::steady_timer>> held;
  int connections = 0;  // accepted
  int requests = 0;
  std::vector<protocol::write_txn_markers_request> received;

  int32_t port() const { return acceptor.local_endpoint().port(); }

  // Sends every held answer and stops holding.
  void release() {
    hold_answers = false;
    for (auto& t : held) t->cancel();
    held.clear();
  }

  asio::awaitable<void> serve() {
    for (;;) {
      auto [err, sock] = co_await acceptor.async_accept(as_tuple);
      if (err) co_return;
      ++connections;
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
      if (hold_answers) {
        auto t = std::make_shared<asio::steady_timer>(acceptor.get_executor(), asio::steady_timer::time_point::max());
        held.push_back(t);
        co_await t->async_wait(as_tuple);
      }
      protocol::write_txn_markers_response resp;
      for (const auto& m : req.markers) {
        protocol::write_txn_markers_response::writable_txn_marker_result mr;
        mr.producer_id = m.producer_id;
        for (const auto& t : m.topics) {
          protocol::write_txn_markers_response::writable_txn_marker_topic_result tr;
          tr.name = t.name;
          for (auto p : t.partition_indexes) {
            auto& q = script[{t.name, p}];
            protocol::error_code e = protocol::error_code::none;
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
      if (close_after_answer) {
        s->close();
        co_return;
      }
    }
  }
};

}  // namespace sluice::server::test
