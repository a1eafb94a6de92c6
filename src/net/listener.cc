#include "net/listener.h"

#include <sys/socket.h>

#include <fmt/format.h>

#include "base/logging.h"

namespace sluice::net {

std::atomic<uint64_t> listener::next_connection_id{1};

listener::listener(shard_group& shards, frame_handler& handler, listener_config cfg)
    : _shards(shards), _handler(handler), _cfg(std::move(cfg)) {}

listener::~listener() = default;

std::optional<std::string> listener::bind() {
  asio::error_code ec;
  asio::ip::address addr = _cfg.host.empty() ? asio::ip::address(asio::ip::address_v6::any())
                                             : asio::ip::make_address(_cfg.host, ec);
  if (ec) {
    // A host name: resolve it once.
    asio::io_context tmp;
    asio::ip::tcp::resolver r(tmp);
    auto res = r.resolve(_cfg.host, "", ec);
    if (ec || res.empty()) return fmt::format("listener {}: cannot resolve host '{}'", _cfg.name, _cfg.host);
    addr = res.begin()->endpoint().address();
  }
  uint16_t port = _cfg.port;
  for (shard_id s = 0; s < _shards.size(); ++s) {
    auto acc = std::make_unique<asio::ip::tcp::acceptor>(_shards.context(s));
    asio::ip::tcp::endpoint ep(addr, port);
    acc->open(ep.protocol(), ec);
    if (ec && addr.is_v6() && _cfg.host.empty()) {  // no IPv6 on this machine: fall back to IPv4
      addr = asio::ip::address_v4::any();
      ep = asio::ip::tcp::endpoint(addr, port);
      acc->open(ep.protocol(), ec);
    }
    if (ec) return fmt::format("listener {}: socket: {}", _cfg.name, ec.message());
    acc->set_option(asio::ip::tcp::acceptor::reuse_address(true));
    int one = 1;
    ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (addr.is_v6()) acc->set_option(asio::ip::v6_only(false), ec);
    acc->bind(ep, ec);
    if (ec) return fmt::format("listener {}: cannot bind {}:{}: {}", _cfg.name, _cfg.host, port, ec.message());
    acc->listen(_cfg.backlog, ec);
    if (ec) return fmt::format("listener {}: listen: {}", _cfg.name, ec.message());
    if (port == 0) port = acc->local_endpoint().port();
    _acceptors.push_back(std::move(acc));
  }
  _bound_port = port;
  return std::nullopt;
}

void listener::start_accepting() {
  for (shard_id s = 0; s < _acceptors.size(); ++s)
    asio::co_spawn(_shards.context(s), accept_loop(s), asio::detached);
}

void listener::stop_accepting() {
  for (shard_id s = 0; s < _acceptors.size(); ++s) {
    auto* acc = _acceptors[s].get();
    asio::post(_shards.context(s), [acc] {
      asio::error_code ignored;
      acc->close(ignored);
    });
  }
}

asio::awaitable<void> listener::accept_loop(shard_id s) {
  auto& acc = *_acceptors[s];
  auto log = log::get("net");
  for (;;) {
    auto [ec, sock] = co_await acc.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acc.is_open()) co_return;
    if (ec) {
      log->warn("listener {}: accept failed: {}", _cfg.name, ec.message());
      continue;  // e.g. EMFILE: keep serving existing connections
    }
    asio::error_code ignored;
    sock.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (_cfg.send_buffer_bytes > 0) sock.set_option(asio::socket_base::send_buffer_size(_cfg.send_buffer_bytes), ignored);
    if (_cfg.receive_buffer_bytes > 0)
      sock.set_option(asio::socket_base::receive_buffer_size(_cfg.receive_buffer_bytes), ignored);
    connection_info info;
    info.id = next_connection_id++;
    auto remote = sock.remote_endpoint(ignored);
    info.peer = fmt::format("{}:{}", remote.address().to_string(), remote.port());
    info.listener_name = _cfg.name;
    std::make_shared<connection>(std::move(sock), _handler, _cfg.limits, std::move(info))->start();
  }
}

}  // namespace sluice::net
