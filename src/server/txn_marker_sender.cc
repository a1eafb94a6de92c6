#include "server/txn_marker_sender.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <asio/experimental/as_tuple.hpp>

#include "base/logging.h"
#include "protocol/error_code.h"
#include "protocol/messages/write_txn_markers.h"

namespace sluice::server {

namespace {
using coordinator::txn::marker_work;
using coordinator::txn::topic_partition;
using E = protocol::error_code;
constexpr int16_t write_txn_markers_version = 1;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}  // namespace

txn_marker_sender::txn_marker_sender(asio::any_io_executor ex, broker_connections& connections,
                                     txn_marker_sender_deps deps, txn_marker_sender_config cfg)
    : _ex(std::move(ex)), _connections(connections), _deps(std::move(deps)), _cfg(cfg) {}

txn_marker_sender::~txn_marker_sender() { *_alive = false; }

void txn_marker_sender::stop() { *_alive = false; }

void txn_marker_sender::send(const marker_work& work) {
  if (!*_alive) return;
  work_key key{work.txn_partition, work.transactional_id, work.producer_id, work.producer_epoch, work.commit};
  if (!_in_flight.insert(key).second) return;  // the same work is being sent
  // Named copies: GCC 12 mishandles temporaries passed to coroutine parameters.
  marker_work copy = work;
  auto alive = _alive;
  asio::co_spawn(_ex, run(copy, alive), asio::detached);
}

asio::awaitable<void> txn_marker_sender::run(marker_work work, std::shared_ptr<bool> alive) {
  std::vector<topic_partition> pending = work.partitions;
  int64_t backoff_ms = _cfg.retry_backoff_ms;
  asio::steady_timer sleep(_ex);
  bool finished = false;
  while (*alive) {
    if (!_deps.still_wanted(work)) break;
    // Group what is left by the current leader; deleted topics are done.
    std::map<int32_t, std::pair<cluster::broker_endpoint, std::vector<topic_partition>>> by_leader;
    auto round = std::make_shared<round_state>(_ex);
    for (const auto& tp : pending) {
      if (!_deps.topic_exists(tp.topic)) continue;
      auto dest = _deps.leader_of(tp.topic, tp.partition);
      if (!dest) {
        round->retry.push_back(tp);
        continue;
      }
      auto& slot = by_leader[dest->id];
      slot.first = *dest;
      slot.second.push_back(tp);
    }
    // Every leader is sent its markers at once, as Kafka's marker channel does: each write waits
    // for its replication, and the transaction (and the producer's next AddPartitionsToTxn,
    // CONCURRENT_TRANSACTIONS until then) waits for the slowest leader, not for their sum.
    round->sending = by_leader.size();
    for (auto& [broker_id, entry] : by_leader) {
      auto& [dest, tps] = entry;
      asio::co_spawn(_ex, send_to_leader(work, dest, tps, round, alive), asio::detached);
    }
    while (round->sending > 0) co_await round->all_answered.async_wait(as_tuple);
    if (!*alive) co_return;
    if (round->retry.empty()) {
      finished = true;
      break;
    }
    pending = std::move(round->retry);
    sleep.expires_after(std::chrono::milliseconds(backoff_ms));
    co_await sleep.async_wait(asio::use_awaitable);
    backoff_ms = std::min(backoff_ms * 2, _cfg.max_backoff_ms);
  }
  if (!*alive) co_return;
  _in_flight.erase({work.txn_partition, work.transactional_id, work.producer_id, work.producer_epoch, work.commit});
  if (finished) _deps.done(work);
}

asio::awaitable<void> txn_marker_sender::send_to_leader(marker_work work, cluster::broker_endpoint dest,
                                                        std::vector<topic_partition> tps,
                                                        std::shared_ptr<round_state> round,
                                                        std::shared_ptr<bool> alive) {
  auto not_written = co_await write_markers(work, dest, tps, alive);
  round->retry.insert(round->retry.end(), not_written.begin(), not_written.end());
  if (--round->sending == 0) round->all_answered.cancel();
}

asio::awaitable<std::vector<topic_partition>> txn_marker_sender::write_markers(marker_work work,
                                                                               cluster::broker_endpoint dest,
                                                                               std::vector<topic_partition> tps,
                                                                               std::shared_ptr<bool> alive) {
  auto log = log::get("coordinator");
  protocol::write_txn_markers_request req;
  protocol::write_txn_markers_request::writable_txn_marker m;
  m.producer_id = work.producer_id;
  m.producer_epoch = work.producer_epoch;
  m.transaction_result = work.commit;
  m.coordinator_epoch = work.coordinator_epoch;
  std::map<std::string, std::vector<int32_t>> topics;
  for (const auto& tp : tps) topics[tp.topic].push_back(tp.partition);
  for (auto& [name, parts] : topics) {
    protocol::write_txn_markers_request::writable_txn_marker_topic t;
    t.name = name;
    t.partition_indexes = parts;
    m.topics.push_back(std::move(t));
  }
  req.markers.push_back(std::move(m));
  auto resp = co_await _connections.request<protocol::write_txn_markers_api>(dest, req, write_txn_markers_version,
                                                                            _cfg.request_timeout_ms);
  if (!*alive) co_return std::vector<topic_partition>{};  // stopped: `this` may be gone
  if (!resp) {
    log->debug("markers of {}: WriteTxnMarkers to broker {} at {}:{} failed: {}", work.transactional_id,
               dest.id, dest.host, dest.port, resp.error().message());
    co_return tps;
  }
  // Every partition asked must be answered NONE (or UNKNOWN_TOPIC_OR_PARTITION for a topic
  // deleted meanwhile); anything else, or no answer, is retried.
  std::vector<topic_partition> not_written;
  std::map<topic_partition, int16_t> answers;
  for (const auto& mr : resp->markers) {
    if (mr.producer_id != work.producer_id) continue;
    for (const auto& t : mr.topics)
      for (const auto& p : t.partitions) answers[{t.name, p.partition_index}] = p.error_code;
  }
  for (const auto& tp : tps) {
    auto it = answers.find(tp);
    if (it != answers.end() && it->second == static_cast<int16_t>(E::none)) continue;
    if (it != answers.end() && it->second == static_cast<int16_t>(E::unknown_topic_or_partition) &&
        !_deps.topic_exists(tp.topic))
      continue;
    if (it != answers.end())
      log->debug("markers of {}: {}-{} answered {}", work.transactional_id, tp.topic, tp.partition,
                 protocol::error_code_name(static_cast<E>(it->second)));
    not_written.push_back(tp);
  }
  co_return not_written;
}

}  // namespace sluice::server
