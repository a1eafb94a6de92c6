#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "base/endian.h"
#include "net/listener.h"

namespace sluice::net {
namespace {

std::vector<uint8_t> with_size_prefix(const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(4);
  store_be<int32_t>(out.data(), static_cast<int32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// Echoes each frame; a frame starting with 'S' sleeps first (so later requests finish first if
// handling were concurrent); 'F' answers with the test file via sendfile; 'X' closes.
class echo_handler final : public frame_handler {
 public:
  int file_fd = -1;
  asio::awaitable<handler_reply> handle(const connection_info&, std::vector<uint8_t> frame) override {
    handler_reply r;
    if (!frame.empty() && frame[0] == 'S') {
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::use_awaitable);
    }
    if (!frame.empty() && frame[0] == 'X') {
      r.act = handler_reply::action::close;
      co_return r;
    }
    if (!frame.empty() && frame[0] == 'F') {
      std::vector<uint8_t> prefix(4);
      store_be<int32_t>(prefix.data(), 5);
      r.frame.chunks.push_back(prefix);
      r.frame.chunks.push_back(file_range{nullptr, file_fd, 1, 5});
      co_return r;
    }
    r.frame.chunks.push_back(with_size_prefix(frame));
    co_return r;
  }
};

class connection_test : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_config cfg;
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.limits.max_frame_bytes = 1024;
    _listener = std::make_unique<listener>(_shards, _handler, cfg);
    ASSERT_EQ(_listener->bind(), std::nullopt);
    _listener->start_accepting();
    _shards.start();
  }
  void TearDown() override {
    _listener->stop_accepting();
    _shards.stop();
  }
  asio::ip::tcp::socket connect() {
    asio::ip::tcp::socket s(_client_ctx);
    s.connect({asio::ip::make_address("127.0.0.1"), _listener->port()});
    return s;
  }
  static std::vector<uint8_t> read_frame(asio::ip::tcp::socket& s) {
    uint8_t sz[4];
    asio::read(s, asio::buffer(sz));
    std::vector<uint8_t> body(static_cast<size_t>(load_be<int32_t>(sz)));
    asio::read(s, asio::buffer(body));
    return body;
  }
  shard_group _shards{2};
  echo_handler _handler;
  std::unique_ptr<listener> _listener;
  asio::io_context _client_ctx;
};

TEST_F(connection_test, pipelined_requests_answered_in_order) {
  auto s = connect();
  std::vector<uint8_t> all;
  for (std::string msg : {"Sfirst", "second", "Sthird", "fourth"}) {
    auto f = with_size_prefix({msg.begin(), msg.end()});
    all.insert(all.end(), f.begin(), f.end());
  }
  asio::write(s, asio::buffer(all));
  for (std::string expect : {"Sfirst", "second", "Sthird", "fourth"}) {
    auto body = read_frame(s);
    EXPECT_EQ(std::string(body.begin(), body.end()), expect);
  }
}

TEST_F(connection_test, oversized_frame_closes_connection) {
  auto s = connect();
  uint8_t huge[8] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4};
  asio::write(s, asio::buffer(huge));
  uint8_t b;
  asio::error_code ec;
  s.read_some(asio::buffer(&b, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  // The listener still serves new connections.
  auto s2 = connect();
  asio::write(s2, asio::buffer(with_size_prefix({'o', 'k'})));
  EXPECT_EQ(read_frame(s2), (std::vector<uint8_t>{'o', 'k'}));
}

TEST_F(connection_test, negative_frame_size_closes_connection) {
  auto s = connect();
  uint8_t neg[4] = {0xff, 0xff, 0xff, 0xfe};
  asio::write(s, asio::buffer(neg));
  uint8_t b;
  asio::error_code ec;
  s.read_some(asio::buffer(&b, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST_F(connection_test, file_range_sent_with_sendfile) {
  char path[] = "/tmp/sluice-net-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "0hello9", 7), 7);
  _handler.file_fd = fd;
  auto s = connect();
  asio::write(s, asio::buffer(with_size_prefix({'F'})));
  auto body = read_frame(s);
  EXPECT_EQ(std::string(body.begin(), body.end()), "hello");
  ::close(fd);
  ::unlink(path);
}

TEST_F(connection_test, handler_close_flushes_earlier_responses) {
  auto s = connect();
  auto a = with_size_prefix({'a'});
  auto x = with_size_prefix({'X'});
  a.insert(a.end(), x.begin(), x.end());
  asio::write(s, asio::buffer(a));
  EXPECT_EQ(read_frame(s), (std::vector<uint8_t>{'a'}));
  uint8_t b;
  asio::error_code ec;
  s.read_some(asio::buffer(&b, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

}  // namespace
}  // namespace sluice::net
