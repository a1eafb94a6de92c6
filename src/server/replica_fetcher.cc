#include "server/replica_fetcher.h"

#include <chrono>
#include <future>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <asio/experimental/as_tuple.hpp>

#include "base/logging.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "protocol/messages/fetch.h"
#include "protocol/reader.h"
#include "protocol/writer.h"
#include "replication/follower_log.h"
#include "server/broker_client.h"
#include "server/partition_manager.h"

namespace sluice::server {

using asio::ip::tcp;
using E = protocol::error_code;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr int16_t fetch_version = 12;  // first flexible version, with last_fetched_epoch/diverging_epoch

// One source broker: its connection and the loop fetching every partition it leads for us.
// Lives on the home shard; the loop's frame holds a shared_ptr, the manager another.
struct replica_fetcher_manager::source {
  source(asio::io_context& ctx, int32_t id) : broker(id), socket(ctx), wake(ctx), deadline(ctx) {}
  int32_t broker;
  tcp::socket socket;
  asio::steady_timer wake;      // a sleeping loop; cancelled to wake it early
  asio::steady_timer deadline;  // closes the socket when an I/O step takes too long
  int32_t correlation_id = 0;
  bool running = true;
};

namespace {

// One partition of a fetch round: what was asked and, after the answer, what to do next.
struct round_item {
  model::topic_partition tp;
  int32_t leader_epoch = -1;
  bool skip = false;  // no longer followed from this source in this epoch
  replication::fetch_position position;
  int64_t log_start_offset = -1;
  const protocol::fetch_response::partition_data* answer = nullptr;
  bool retry = false;  // back off before fetching it again
};

// Arms `deadline` to close `socket` after `ms` unless cancelled first (server/broker_client.h).
void arm(asio::steady_timer& deadline, tcp::socket& socket, int64_t ms) { close_after(deadline, socket, ms); }

}  // namespace

replica_fetcher_manager::replica_fetcher_manager(partition_manager& partitions, net::shard_id home,
                                                 replica_fetcher_config cfg)
    : _partitions(partitions), _shards(partitions.shards()), _home(home), _cfg(cfg) {}

replica_fetcher_manager::~replica_fetcher_manager() = default;

int64_t replica_fetcher_manager::now_ms() const { return _partitions.clock().monotonic_ms(); }

void replica_fetcher_manager::follow(const model::topic_partition& tp, int32_t leader, int32_t leader_epoch) {
  _shards.post(_home, [this, tp, leader, leader_epoch] { on_follow(tp, leader, leader_epoch); });
}

void replica_fetcher_manager::unfollow(const model::topic_partition& tp) {
  _shards.post(_home, [this, tp] { _followed.erase(tp); });
}

void replica_fetcher_manager::on_follow(const model::topic_partition& tp, int32_t leader, int32_t leader_epoch) {
  if (_stopped) return;
  auto& f = _followed[tp];
  if (f.leader == leader && f.leader_epoch == leader_epoch) return;
  f.leader = leader;
  f.leader_epoch = leader_epoch;
  f.retry_after_ms = 0;
  ensure_source(leader);
}

void replica_fetcher_manager::ensure_source(int32_t broker) {
  auto it = _sources.find(broker);
  if (it != _sources.end()) {
    it->second->wake.cancel();  // a sleeping loop picks the new partition up now
    return;
  }
  auto src = std::make_shared<source>(_shards.context(_home), broker);
  _sources.emplace(broker, src);
  asio::co_spawn(_shards.context(_home), run_source(src), asio::detached);
}

void replica_fetcher_manager::stop() {
  std::promise<void> done;
  _shards.post(_home, [this, &done] {
    _stopped = true;
    _followed.clear();
    for (auto& [id, src] : _sources) {
      asio::error_code ignored;
      src->socket.close(ignored);
      src->wake.cancel();
      src->deadline.cancel();
    }
    done.set_value();
  });
  done.get_future().wait();
  // The loops end at their next step (every wait was cancelled); give them a moment so none is
  // left suspended when the shards stop.
  for (int i = 0; i < 200; ++i) {
    std::promise<bool> empty;
    _shards.post(_home, [this, &empty] { empty.set_value(_sources.empty()); });
    if (empty.get_future().get()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

asio::awaitable<void> replica_fetcher_manager::sleep(source& src, int64_t ms) {
  src.wake.expires_after(std::chrono::milliseconds(std::max<int64_t>(ms, 0)));
  co_await src.wake.async_wait(as_tuple);
}

asio::awaitable<bool> replica_fetcher_manager::connect(source& src) {
  auto log = log::get("replication");
  auto img = _partitions.image();
  const cluster::broker_endpoint* ep = img->find_broker(src.broker);
  if (!ep) co_return false;  // not registered (down): the next image brings it back
  const std::string host = ep->host;
  const int32_t port = ep->port;
  auto cerr = co_await connect_to(src.socket, src.deadline, host, port, _cfg.socket_timeout_ms);
  if (cerr) {
    log->debug("replica fetcher: cannot connect to broker {} at {}:{}: {}", src.broker, host, port, cerr.message());
    co_return false;
  }
  log->info("replica fetcher: connected to broker {} at {}:{}", src.broker, host, port);
  co_return true;
}

asio::awaitable<void> replica_fetcher_manager::run_source(std::shared_ptr<source> src) {
  auto log = log::get("replication");
  const int32_t self = _partitions.broker_id();
  const std::string client_id = "sluice-replica-fetcher-" + std::to_string(self);
  auto drop_connection = [&] {
    asio::error_code ignored;
    src->socket.close(ignored);
  };
  std::vector<round_item> items;
  std::vector<uint8_t> response;
  while (!_stopped) {
    // The partitions this source leads for us, ready to fetch (not backing off).
    items.clear();
    const int64_t now = now_ms();
    int64_t next_retry = std::numeric_limits<int64_t>::max();
    bool any = false;
    for (const auto& [tp, f] : _followed) {
      if (f.leader != src->broker) continue;
      any = true;
      if (f.retry_after_ms <= now) items.push_back(round_item{tp, f.leader_epoch});
      else next_retry = std::min(next_retry, f.retry_after_ms);
    }
    if (!any) break;  // nothing left to fetch from this broker: the loop and its connection end
    if (items.empty()) {
      co_await sleep(*src, next_retry - now);
      continue;
    }
    if (!src->socket.is_open() && !co_await connect(*src)) {
      co_await sleep(*src, _cfg.backoff_ms);
      continue;
    }

    // Where each partition's fetch starts, read on its owning shard (one hop per shard).
    for (net::shard_id s = 0; s < _shards.size(); ++s) {
      bool mine = false;
      for (const auto& it : items) mine = mine || _partitions.shard_of(it.tp) == s;
      if (!mine) continue;
      co_await _shards.invoke_on(s, [this, s, &items, &src]() -> asio::awaitable<void> {
        for (auto& it : items) {
          if (_partitions.shard_of(it.tp) != s) continue;
          partition* p = _partitions.get(it.tp);
          if (!p || p->leader() || p->leader_id() != src->broker || p->leader_epoch() != it.leader_epoch) {
            it.skip = true;
            continue;
          }
          it.position = replication::next_fetch_position(p->log());
          it.log_start_offset = p->log().log_start_offset();
        }
        co_return;
      });
    }

    protocol::fetch_request req;
    req.replica_id = self;
    req.max_wait_ms = _cfg.max_wait_ms;
    req.min_bytes = _cfg.min_bytes;
    req.max_bytes = _cfg.response_max_bytes;
    req.isolation_level = 0;
    req.session_id = 0;
    req.session_epoch = -1;  // KIP-227 FINAL_EPOCH: a full fetch without a session
    for (const auto& it : items) {
      if (it.skip) continue;
      if (req.topics.empty() || req.topics.back().topic != it.tp.topic) {
        req.topics.emplace_back();
        req.topics.back().topic = it.tp.topic;  // _followed is ordered, so a topic's partitions are adjacent
      }
      protocol::fetch_request::fetch_partition fp;
      fp.partition = it.tp.partition;
      fp.current_leader_epoch = it.leader_epoch;
      fp.fetch_offset = it.position.fetch_offset;
      fp.last_fetched_epoch = it.position.last_fetched_epoch;
      fp.log_start_offset = it.log_start_offset;
      fp.partition_max_bytes = _cfg.partition_max_bytes;
      req.topics.back().partitions.push_back(fp);
    }
    if (req.topics.empty()) {
      // Every partition changed role meanwhile; the posts that tell us are on their way.
      for (auto& it : items)
        if (auto f = _followed.find(it.tp); f != _followed.end() && f->second.leader_epoch == it.leader_epoch)
          f->second.retry_after_ms = now_ms() + _cfg.backoff_ms;
      continue;
    }

    // Send, then read the answer (a frame: int32 length, response header v1, Fetch v12 body).
    protocol::writer w;
    const size_t frame = w.begin_frame();
    protocol::request_header header;
    header.api_key = protocol::fetch_api::key;
    header.api_version = fetch_version;
    header.correlation_id = ++src->correlation_id;
    header.client_id = client_id;
    header.encode(w, 2);
    req.encode(w, fetch_version);
    w.end_frame(frame);
    const auto out = w.flatten();
    arm(src->deadline, src->socket, _cfg.socket_timeout_ms + _cfg.max_wait_ms);
    auto [werr, wn] = co_await asio::async_write(src->socket, asio::buffer(out), as_tuple);
    uint8_t len_bytes[4] = {};
    asio::error_code rerr = werr;
    if (!rerr) std::tie(rerr, std::ignore) = co_await asio::async_read(src->socket, asio::buffer(len_bytes), as_tuple);
    int64_t len = -1;
    if (!rerr) {
      len = static_cast<int32_t>(uint32_t{len_bytes[0]} << 24 | uint32_t{len_bytes[1]} << 16 |
                                 uint32_t{len_bytes[2]} << 8 | uint32_t{len_bytes[3]});
      // The leader honours max_bytes but may exceed it by one batch per response (KIP-74).
      const int64_t bound = int64_t{_cfg.response_max_bytes} + int64_t{_cfg.partition_max_bytes} + (16 << 20);
      if (len < 0 || len > bound) {
        log->error("replica fetcher: broker {} sent a {}-byte frame; reconnecting", src->broker, len);
        rerr = asio::error::message_size;
      }
    }
    if (!rerr) {
      response.resize(static_cast<size_t>(len));
      std::tie(rerr, std::ignore) = co_await asio::async_read(src->socket, asio::buffer(response), as_tuple);
    }
    src->deadline.cancel();
    if (rerr) {
      if (!_stopped)
        log->info("replica fetcher: connection to broker {} failed: {}; retrying in {} ms", src->broker,
                  rerr.message(), _cfg.backoff_ms);
      drop_connection();
      co_await sleep(*src, _cfg.backoff_ms);
      continue;
    }
    protocol::reader r{std::span<const uint8_t>(response)};
    protocol::response_header rh;
    protocol::fetch_response resp;
    (void)rh.decode(r, 1);
    if (r.ok()) (void)resp.decode(r, fetch_version);
    if (!r.ok() || rh.correlation_id != src->correlation_id) {
      log->error("replica fetcher: undecodable Fetch response from broker {}; reconnecting", src->broker);
      drop_connection();
      co_await sleep(*src, _cfg.backoff_ms);
      continue;
    }
    if (resp.error_code != 0) {
      log->warn("replica fetcher: broker {} answered Fetch with {}", src->broker,
                protocol::error_code_name(static_cast<E>(resp.error_code)));
      co_await sleep(*src, _cfg.backoff_ms);
      continue;
    }

    // Match the answers to the round's partitions, then apply them on their owning shards.
    for (const auto& t : resp.responses)
      for (const auto& pd : t.partitions)
        for (auto& it : items)
          if (!it.skip && it.tp.partition == pd.partition_index && it.tp.topic == t.topic) it.answer = &pd;
    for (net::shard_id s = 0; s < _shards.size(); ++s) {
      bool mine = false;
      for (const auto& it : items) mine = mine || (it.answer && _partitions.shard_of(it.tp) == s);
      if (!mine) continue;
      co_await _shards.invoke_on(s, [this, s, &items, &src, &log]() -> asio::awaitable<void> {
        for (auto& it : items) {
          if (!it.answer || _partitions.shard_of(it.tp) != s) continue;
          partition* p = _partitions.get(it.tp);
          if (!p || p->leader() || p->leader_id() != src->broker || p->leader_epoch() != it.leader_epoch) continue;
          const auto& pd = *it.answer;
          replication::fetch_answer a;
          a.error = static_cast<E>(pd.error_code);
          a.high_watermark = pd.high_watermark;
          a.log_start_offset = pd.log_start_offset;
          if (pd.diverging_epoch.epoch >= 0 && pd.diverging_epoch.end_offset >= 0)
            a.diverging = replication::epoch_end_offset{pd.diverging_epoch.epoch, pd.diverging_epoch.end_offset};
          if (!pd.records.is_null() && !pd.records.has_files()) a.records = pd.records.data();
          auto applied = replication::apply_fetch_answer(p->log(), a);
          if (!applied) {
            log->error("replica fetcher: {}: applying the leader's data failed: {}", it.tp, applied.error().message());
            it.retry = true;
            continue;
          }
          if (*applied == replication::follower_action::retry) {
            log->debug("replica fetcher: {}: broker {} answered {}", it.tp, src->broker,
                       protocol::error_code_name(a.error));
            it.retry = true;
          }
          if (*applied != replication::follower_action::none) p->notify_waiters();
        }
        co_return;
      });
    }
    for (const auto& it : items) {
      if (!it.retry) continue;
      auto f = _followed.find(it.tp);
      if (f != _followed.end() && f->second.leader == src->broker && f->second.leader_epoch == it.leader_epoch)
        f->second.retry_after_ms = now_ms() + _cfg.backoff_ms;
    }
  }
  src->running = false;
  drop_connection();
  src->deadline.cancel();
  if (auto it = _sources.find(src->broker); it != _sources.end() && it->second == src) _sources.erase(it);
}

}  // namespace sluice::server
