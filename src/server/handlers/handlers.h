#pragma once
// One handler per API (handlers/<api>.cc). The table in handlers.cc lists every API this broker
// implements with the version range it advertises in ApiVersions: an API is advertised if and
// only if it has a handler here.
#include <span>
#include <vector>

#include <asio.hpp>

#include "net/connection.h"
#include "protocol/messages.h"
#include "protocol/reader.h"
#include "server/request_context.h"

namespace sluice::server {

struct handler_entry {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
  const char* name;
  // Decodes the body from `r`, runs the handler, encodes the response (header included) into a
  // frame. The reply says no_response for acks=0 Produce and close on a malformed body.
  asio::awaitable<net::handler_reply> (*run)(request_context& ctx, protocol::reader& r);
};

std::span<const handler_entry> all_handlers();
const handler_entry* find_handler(int16_t key);

// Encodes header + body into a frame.
template <typename Response>
net::outgoing_frame encode_response(const request_context& ctx, const Response& resp, int16_t api_key) {
  protocol::writer w;
  auto pos = w.begin_frame();
  protocol::response_header h;
  h.correlation_id = ctx.header.correlation_id;
  h.encode(w, protocol::response_header_version(api_key, ctx.version()));
  resp.encode(w, ctx.version());
  w.end_frame(pos);
  net::outgoing_frame f;
  f.chunks = std::move(w).take_chunks();
  return f;
}

// The handlers. Each fills `resp` from `req`.
asio::awaitable<void> handle(request_context&, protocol::api_versions_request&, protocol::api_versions_response&);
asio::awaitable<void> handle(request_context&, protocol::metadata_request&, protocol::metadata_response&);
asio::awaitable<void> handle(request_context&, protocol::produce_request&, protocol::produce_response&);
asio::awaitable<void> handle(request_context&, protocol::fetch_request&, protocol::fetch_response&);
asio::awaitable<void> handle(request_context&, protocol::list_offsets_request&, protocol::list_offsets_response&);
asio::awaitable<void> handle(request_context&, protocol::offset_for_leader_epoch_request&,
                             protocol::offset_for_leader_epoch_response&);
asio::awaitable<void> handle(request_context&, protocol::create_topics_request&, protocol::create_topics_response&);
asio::awaitable<void> handle(request_context&, protocol::find_coordinator_request&, protocol::find_coordinator_response&);
asio::awaitable<void> handle(request_context&, protocol::delete_topics_request&, protocol::delete_topics_response&);
asio::awaitable<void> handle(request_context&, protocol::delete_records_request&, protocol::delete_records_response&);
asio::awaitable<void> handle(request_context&, protocol::describe_configs_request&, protocol::describe_configs_response&);
asio::awaitable<void> handle(request_context&, protocol::alter_configs_request&, protocol::alter_configs_response&);
asio::awaitable<void> handle(request_context&, protocol::describe_log_dirs_request&, protocol::describe_log_dirs_response&);
asio::awaitable<void> handle(request_context&, protocol::create_partitions_request&, protocol::create_partitions_response&);
asio::awaitable<void> handle(request_context&, protocol::incremental_alter_configs_request&,
                             protocol::incremental_alter_configs_response&);
asio::awaitable<void> handle(request_context&, protocol::describe_cluster_request&, protocol::describe_cluster_response&);
// Consumer groups (handlers/group_common.h, server/group_coordinator.h).
asio::awaitable<void> handle(request_context&, protocol::join_group_request&, protocol::join_group_response&);
asio::awaitable<void> handle(request_context&, protocol::sync_group_request&, protocol::sync_group_response&);
asio::awaitable<void> handle(request_context&, protocol::heartbeat_request&, protocol::heartbeat_response&);
asio::awaitable<void> handle(request_context&, protocol::leave_group_request&, protocol::leave_group_response&);
asio::awaitable<void> handle(request_context&, protocol::offset_commit_request&, protocol::offset_commit_response&);
asio::awaitable<void> handle(request_context&, protocol::offset_fetch_request&, protocol::offset_fetch_response&);
asio::awaitable<void> handle(request_context&, protocol::txn_offset_commit_request&,
                             protocol::txn_offset_commit_response&);
asio::awaitable<void> handle(request_context&, protocol::describe_groups_request&, protocol::describe_groups_response&);
asio::awaitable<void> handle(request_context&, protocol::list_groups_request&, protocol::list_groups_response&);
asio::awaitable<void> handle(request_context&, protocol::delete_groups_request&, protocol::delete_groups_response&);
asio::awaitable<void> handle(request_context&, protocol::offset_delete_request&, protocol::offset_delete_response&);
asio::awaitable<void> handle(request_context&, protocol::init_producer_id_request&, protocol::init_producer_id_response&);
// Transactions, partition side.
asio::awaitable<void> handle(request_context&, protocol::write_txn_markers_request&, protocol::write_txn_markers_response&);
asio::awaitable<void> handle(request_context&, protocol::describe_producers_request&, protocol::describe_producers_response&);
// Transactions, coordinator side (server/txn_coordinator.h).
asio::awaitable<void> handle(request_context&, protocol::add_partitions_to_txn_request&,
                             protocol::add_partitions_to_txn_response&);
asio::awaitable<void> handle(request_context&, protocol::add_offsets_to_txn_request&,
                             protocol::add_offsets_to_txn_response&);
asio::awaitable<void> handle(request_context&, protocol::end_txn_request&, protocol::end_txn_response&);
asio::awaitable<void> handle(request_context&, protocol::describe_transactions_request&,
                             protocol::describe_transactions_response&);
asio::awaitable<void> handle(request_context&, protocol::list_transactions_request&,
                             protocol::list_transactions_response&);

// ApiVersions body answering an unsupported ApiVersions version (always encoded as v0).
protocol::api_versions_response api_versions_body(int16_t error_code);

}  // namespace sluice::server
