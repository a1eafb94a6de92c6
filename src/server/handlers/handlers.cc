#include "server/handlers/handlers.h"

#include <algorithm>

#include "base/logging.h"

namespace sluice::server {
namespace {

template <typename Api>
asio::awaitable<net::handler_reply> run(request_context& ctx, protocol::reader& r) {
  typename Api::request req;
  net::handler_reply reply;
  if (auto d = req.decode(r, ctx.version()); !d) {
    log::get("server")->warn("connection {} ({}): malformed {} v{} request (correlation id {}) at byte {}: {}; closing",
                             ctx.connection.id, ctx.connection.peer, Api::name, ctx.version(),
                             ctx.header.correlation_id, r.error_offset(), d.error().message());
    reply.act = net::handler_reply::action::close;
    co_return reply;
  }
  // Like Kafka, bytes after a complete request are ignored: librdkafka 2.0.2 (Debian 12) sends
  // one extra byte after its ListGroups v4 body (docs/protocol.md).
  if (r.remaining() != 0)
    log::get("server")->debug("connection {}: {} v{} request has {} byte(s) after its body; ignored",
                              ctx.connection.id, Api::name, ctx.version(), r.remaining());
  typename Api::response resp;
  co_await handle(ctx, req, resp);
  if (ctx.no_response) {
    reply.act = net::handler_reply::action::no_response;
    co_return reply;
  }
  reply.frame = encode_response(ctx, resp, Api::key);
  co_return reply;
}

// Advertised ranges: from the lowest version any supported client uses up to Profile B of
// shared/reference/kafka-protocol.md (docs/protocol.md lists them).
template <typename Api>
constexpr handler_entry entry() {
  return {Api::key, Api::min_version, Api::max_version, Api::name, &run<Api>};
}

const handler_entry table[] = {
    entry<protocol::produce_api>(),
    entry<protocol::fetch_api>(),
    entry<protocol::list_offsets_api>(),
    entry<protocol::metadata_api>(),
    entry<protocol::api_versions_api>(),
    entry<protocol::create_topics_api>(),
    entry<protocol::find_coordinator_api>(),
    entry<protocol::delete_topics_api>(),
    entry<protocol::delete_records_api>(),
    entry<protocol::init_producer_id_api>(),
    entry<protocol::offset_for_leader_epoch_api>(),
    entry<protocol::describe_configs_api>(),
    entry<protocol::alter_configs_api>(),
    entry<protocol::describe_log_dirs_api>(),
    entry<protocol::create_partitions_api>(),
    entry<protocol::incremental_alter_configs_api>(),
    entry<protocol::describe_cluster_api>(),
    // Consumer groups.
    entry<protocol::offset_commit_api>(),
    entry<protocol::offset_fetch_api>(),
    entry<protocol::join_group_api>(),
    entry<protocol::heartbeat_api>(),
    entry<protocol::leave_group_api>(),
    entry<protocol::sync_group_api>(),
    entry<protocol::describe_groups_api>(),
    entry<protocol::list_groups_api>(),
    entry<protocol::delete_groups_api>(),
    entry<protocol::offset_delete_api>(),
    // Transactions, partition side.
    entry<protocol::write_txn_markers_api>(),
    entry<protocol::describe_producers_api>(),
    // Transactional offsets (docs/groups.md); the marker side is group_coordinator::on_txn_marker.
    entry<protocol::txn_offset_commit_api>(),
    // Transactions, coordinator side.
    entry<protocol::add_partitions_to_txn_api>(),
    entry<protocol::add_offsets_to_txn_api>(),
    entry<protocol::end_txn_api>(),
    entry<protocol::describe_transactions_api>(),
    entry<protocol::list_transactions_api>(),
};

}  // namespace

std::span<const handler_entry> all_handlers() { return table; }

const handler_entry* find_handler(int16_t key) {
  for (const auto& e : table)
    if (e.key == key) return &e;
  return nullptr;
}

protocol::api_versions_response api_versions_body(int16_t error_code) {
  protocol::api_versions_response resp;
  resp.error_code = error_code;
  std::vector<handler_entry> sorted(std::begin(table), std::end(table));
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.key < b.key; });
  for (const auto& e : sorted) {
    protocol::api_versions_response::api_version v;
    v.api_key = e.key;
    v.min_version = e.min_version;
    v.max_version = e.max_version;
    resp.api_keys.push_back(v);
  }
  return resp;
}

}  // namespace sluice::server
