#include "net/connection.h"

#include <sys/sendfile.h>

#include <cerrno>
#include <cstring>
#include <chrono>

#include "base/endian.h"
#include "base/logging.h"

namespace sluice::net {

using asio::awaitable;
using asio::use_awaitable;
namespace {
constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

connection::connection(asio::ip::tcp::socket socket, frame_handler& handler, connection_limits limits,
                       connection_info info)
    : _socket(std::move(socket)),
      _handler(handler),
      _limits(limits),
      _info(std::move(info)),
      _requests_changed(_socket.get_executor()),
      _responses_changed(_socket.get_executor()),
      _idle_timer(_socket.get_executor()) {}

void connection::start() {
  _last_activity_ms = steady_ms();
  auto self = shared_from_this();
  asio::co_spawn(_socket.get_executor(), [self] { return self->read_loop(); }, asio::detached);
  asio::co_spawn(_socket.get_executor(), [self] { return self->process_loop(); }, asio::detached);
  asio::co_spawn(_socket.get_executor(), [self] { return self->write_loop(); }, asio::detached);
  if (_limits.idle_timeout_ms >= 0)
    asio::co_spawn(_socket.get_executor(), [self] { return self->idle_watch(); }, asio::detached);
}

void connection::close() {
  if (_closed) return;
  _closed = true;
  asio::error_code ignored;
  _socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  _socket.close(ignored);
  _requests_changed.cancel();
  _responses_changed.cancel();
  _idle_timer.cancel();
}

awaitable<void> connection::wait(asio::steady_timer& t) {
  t.expires_at(asio::steady_timer::time_point::max());
  co_await t.async_wait(as_tuple_awaitable);
}

awaitable<void> connection::read_loop() {
  auto log = log::get("net");
  while (!_closed) {
    while (!_closed && _requests.size() >= _limits.max_queued_requests) co_await wait(_requests_changed);
    if (_closed) break;
    uint8_t size_buf[4];
    auto [ec, n] = co_await asio::async_read(_socket, asio::buffer(size_buf), as_tuple_awaitable);
    if (ec) break;
    int32_t size = load_be<int32_t>(size_buf);
    if (size <= 0 || size > _limits.max_frame_bytes) {
      log->warn("connection {} from {}: frame of {} bytes outside [1, {}] (socket.request.max.bytes); closing",
                _info.id, _info.peer, size, _limits.max_frame_bytes);
      break;
    }
    std::vector<uint8_t> frame(static_cast<size_t>(size));
    auto [ec2, n2] = co_await asio::async_read(_socket, asio::buffer(frame), as_tuple_awaitable);
    if (ec2) break;
    _last_activity_ms = steady_ms();
    _requests.push_back(std::move(frame));
    notify(_requests_changed);
  }
  _reader_done = true;
  notify(_requests_changed);
  // Requests already read are still answered; the processor closes when it drains the queue.
}

awaitable<void> connection::process_loop() {
  auto self = shared_from_this();
  while (!_closed) {
    while (!_closed && (_requests.empty() || _responses.size() >= _limits.max_queued_responses)) {
      if (_requests.empty() && _reader_done) {
        // Client went away (or sent a bad frame): flush what we owe, then close.
        while (!_closed && !_responses.empty()) co_await wait(_requests_changed);
        close();
        co_return;
      }
      co_await wait(_requests_changed);
    }
    if (_closed) break;
    auto frame = std::move(_requests.front());
    _requests.pop_front();
    notify(_requests_changed);  // reader may continue
    handler_reply reply;
    _in_handler = true;
    try {
      reply = co_await _handler.handle(_info, std::move(frame));
    } catch (const std::exception& e) {
      log::get("net")->error("connection {}: request handler failed: {}; closing", _info.id, e.what());
      reply.act = handler_reply::action::close;
    }
    _in_handler = false;
    _last_activity_ms = steady_ms();
    if (reply.act == handler_reply::action::close) {
      // Send responses already produced, then close.
      _reader_done = true;
      _requests.clear();
      continue;
    }
    if (reply.act == handler_reply::action::respond) {
      _responses.push_back(std::move(reply.frame));
      notify(_responses_changed);
    }
  }
}

awaitable<void> connection::write_loop() {
  auto self = shared_from_this();
  while (!_closed) {
    while (!_closed && _responses.empty()) co_await wait(_responses_changed);
    if (_closed) break;
    bool ok = co_await write_frame(_responses.front());
    _responses.pop_front();
    _last_activity_ms = steady_ms();
    notify(_requests_changed);  // processor may be waiting for room or for the drain
    if (!ok) {
      close();
      break;
    }
  }
}

awaitable<bool> connection::write_frame(outgoing_frame& f) {
  std::vector<asio::const_buffer> pending;
  auto flush_buffers = [&]() -> awaitable<bool> {
    if (pending.empty()) co_return true;
    auto [ec, n] = co_await asio::async_write(_socket, pending, as_tuple_awaitable);
    pending.clear();
    co_return !ec;
  };
  for (auto& chunk : f.chunks) {
    if (auto* bytes = std::get_if<std::vector<uint8_t>>(&chunk)) {
      if (!bytes->empty()) pending.emplace_back(asio::buffer(*bytes));
      continue;
    }
    if (!co_await flush_buffers()) co_return false;
    auto& range = std::get<file_range>(chunk);
    // Zero-copy: the kernel moves page-cache pages of the segment file to the socket.
    if (!_socket.native_non_blocking()) _socket.native_non_blocking(true);
    off_t off = static_cast<off_t>(range.offset);
    size_t left = range.size;
    while (left > 0) {
      ssize_t n = ::sendfile(_socket.native_handle(), range.fd, &off, left);
      if (n > 0) {
        left -= static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto [ec] = co_await _socket.async_wait(asio::ip::tcp::socket::wait_write, as_tuple_awaitable);
        if (ec) co_return false;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        log::get("net")->debug("connection {}: peer closed during a response", _info.id);
        co_return false;
      }
      // n == 0: the file is shorter than promised (truncated under us); the frame cannot be
      // completed, so the connection must close rather than send a corrupt stream.
      log::get("net")->warn("connection {}: sendfile failed ({}), closing", _info.id,
                            n < 0 ? std::strerror(errno) : "file shorter than the response");
      co_return false;
    }
  }
  co_return co_await flush_buffers();
}

awaitable<void> connection::idle_watch() {
  auto self = shared_from_this();
  while (!_closed) {
    _idle_timer.expires_after(std::chrono::milliseconds(std::min<int64_t>(_limits.idle_timeout_ms, 1000) + 1));
    co_await _idle_timer.async_wait(as_tuple_awaitable);
    if (_closed) break;
    bool busy = _in_handler || !_requests.empty() || !_responses.empty();
    if (!busy && steady_ms() - _last_activity_ms > _limits.idle_timeout_ms) {
      log::get("net")->debug("connection {} idle for {} ms, closing", _info.id, _limits.idle_timeout_ms);
      close();
    }
  }
}

}  // namespace sluice::net
