// DescribeTransactions (key 65), v0: the state of each transactional id, asked of its
// coordinator shard on this broker. An id coordinated elsewhere (or before __transaction_state
// exists) answers NOT_COORDINATOR, one still loading COORDINATOR_LOAD_IN_PROGRESS, an unknown
// one TRANSACTIONAL_ID_NOT_FOUND, as Kafka. Partitions are grouped by topic.
#include <map>

#include "server/handlers/handlers.h"
#include "server/txn_coordinator.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
namespace ct = coordinator::txn;
using resp_t = protocol::describe_transactions_response;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::describe_transactions_request& req, resp_t& resp) {
  auto& broker = ctx.broker;
  for (const auto& id : req.transactional_ids) {
    resp_t::transaction_state_entry e;
    e.transactional_id = id;
    e.producer_id = -1;
    e.producer_epoch = -1;
    e.transaction_start_time_ms = -1;
    auto pl = broker.txns && !id.empty() ? broker.txns->place(id) : std::nullopt;
    if (id.empty()) {
      e.error_code = code(E::transactional_id_not_found);
    } else if (!pl) {
      e.error_code = code(E::not_coordinator);
    } else {
      const int32_t partition = pl->partition;
      const std::string key = id;
      auto d = co_await broker.shards.invoke_on(pl->shard, [&broker, partition, &key]() -> asio::awaitable<ct::described_txn> {
        co_return broker.txns->manager_for(partition).describe(partition, key);
      });
      e.error_code = code(d.error);
      if (d.error == E::none) {
        e.transaction_state = d.state;
        e.transaction_timeout_ms = d.transaction_timeout_ms;
        e.transaction_start_time_ms = d.start_timestamp_ms;
        e.producer_id = d.producer_id;
        e.producer_epoch = d.producer_epoch;
        std::map<std::string, std::vector<int32_t>> by_topic;
        for (const auto& tp : d.partitions) by_topic[tp.topic].push_back(tp.partition);
        for (auto& [topic, parts] : by_topic) e.topics.push_back({topic, std::move(parts)});
      }
    }
    resp.transaction_states.push_back(std::move(e));
  }
  co_return;
}

}  // namespace sluice::server
