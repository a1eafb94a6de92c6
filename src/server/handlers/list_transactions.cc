// ListTransactions (key 66), v0-1: the transactional ids of every __transaction_state partition
// this broker coordinates, filtered by state names (Kafka's, exact), producer ids and, from v1
// (KIP-994), duration: duration_filter >= 0 lists only transactions started more than that many ms
// ago (an Empty one has no start time and is left out). State filters that name no state are echoed
// in unknown_state_filters; while some partition is still loading the answer is
// COORDINATOR_LOAD_IN_PROGRESS with no entries, as Kafka.
#include <algorithm>
#include <array>

#include "server/handlers/handlers.h"
#include "server/txn_coordinator.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
namespace ct = coordinator::txn;
using resp_t = protocol::list_transactions_response;
constexpr std::array<const char*, 8> state_names = {"Empty",          "Ongoing",       "PrepareCommit",
                                                    "PrepareAbort",   "CompleteCommit", "CompleteAbort",
                                                    "PrepareEpochFence", "Dead"};
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::list_transactions_request& req, resp_t& resp) {
  auto& broker = ctx.broker;
  std::vector<std::string> states;
  for (const auto& s : req.state_filters) {
    if (std::find(state_names.begin(), state_names.end(), s) == state_names.end())
      resp.unknown_state_filters.push_back(s);
    else
      states.push_back(s);
  }
  // Only unknown names given: nothing can match (Kafka answers an empty list).
  if (!req.state_filters.empty() && states.empty()) co_return;
  if (!broker.txns) co_return;
  bool loading = false;
  std::vector<ct::listed_txn> all;
  for (net::shard_id s = 0; s < broker.shards.size(); ++s) {
    auto part = co_await broker.shards.invoke_on(
        s, [&broker, &states, &req, &loading]() -> asio::awaitable<std::vector<ct::listed_txn>> {
          auto& tm = broker.txns->manager();
          if (tm.loading()) loading = true;
          co_return tm.list(states, req.producer_id_filters, req.duration_filter);
        });
    all.insert(all.end(), part.begin(), part.end());
  }
  if (loading) {
    resp.error_code = code(E::coordinator_load_in_progress);
    co_return;
  }
  for (auto& t : all) resp.transaction_states.push_back({t.transactional_id, t.producer_id, t.state});
  co_return;
}

}  // namespace sluice::server
