#include "server/dispatcher.h"

#include "base/logging.h"
#include "protocol/api.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

asio::awaitable<net::handler_reply> dispatcher::handle(const net::connection_info& conn, std::vector<uint8_t> frame) {
  ++_in_flight;
  struct done {
    std::atomic<int64_t>& n;
    ~done() { --n; }
  } guard{_in_flight};
  co_return co_await dispatch(conn, std::move(frame));
}

asio::awaitable<net::handler_reply> dispatcher::dispatch(const net::connection_info& conn, std::vector<uint8_t> frame) {
  auto log = log::get("server");
  // The reader is built over the mutable frame so Produce can rewrite batch headers in place.
  protocol::reader r{std::span<uint8_t>(frame)};
  net::handler_reply reply;
  auto header = protocol::decode_request_header(r);
  if (!header) {
    int16_t key = frame.size() >= 2 ? static_cast<int16_t>(frame[0] << 8 | frame[1]) : -1;
    int16_t ver = frame.size() >= 4 ? static_cast<int16_t>(frame[2] << 8 | frame[3]) : -1;
    log->warn("connection {} ({}): malformed request header (api key {}, version {}) at byte {}; closing", conn.id,
              conn.peer, key, ver, r.error_offset());
    reply.act = net::handler_reply::action::close;
    co_return reply;
  }
  request_context ctx{conn, std::move(*header), _broker};
  const handler_entry* h = find_handler(ctx.header.api_key);
  if (!h) {
    // Kafka closes the connection on an API key it does not know; kafka-python relies on it.
    log->warn("connection {} ({}): unsupported api key {} (version {}); closing", conn.id, conn.peer,
              ctx.header.api_key, ctx.header.api_version);
    reply.act = net::handler_reply::action::close;
    co_return reply;
  }
  if (ctx.version() < h->min_version || ctx.version() > h->max_version) {
    if (ctx.header.api_key == protocol::api_versions_key) {
      // KIP-511: answer in v0 with UNSUPPORTED_VERSION and our ranges, so the client can retry.
      ctx.header.api_version = 0;
      reply.frame = encode_response(ctx, api_versions_body(code(protocol::error_code::unsupported_version)),
                                    protocol::api_versions_key);
      co_return reply;
    }
    log->warn("connection {} ({}): {} version {} not supported (we support {}-{}); closing", conn.id, conn.peer,
              h->name, ctx.version(), h->min_version, h->max_version);
    reply.act = net::handler_reply::action::close;
    co_return reply;
  }
  co_return co_await h->run(ctx, r);
}

}  // namespace sluice::server
