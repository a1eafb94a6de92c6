#pragma once
// Shared by the consumer group handlers: finding a group's coordinator shard, running the group
// manager there, and waiting for the delayed JoinGroup/SyncGroup answers.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <asio.hpp>

#include "coordinator/group/group_manager.h"
#include "server/group_coordinator.h"
#include "server/request_context.h"

namespace sluice::server {

// Kafka's client host for group members: "/" + the peer's address.
inline std::string client_host_of(const net::connection_info& c) {
  auto colon = c.peer.rfind(':');
  return "/" + (colon == std::string::npos ? c.peer : c.peer.substr(0, colon));
}


// Runs fn(manager, partition) on the shard coordinating `group_id` and returns its result;
// nullopt when __consumer_offsets does not exist (the caller answers NOT_COORDINATOR).
template <typename F>
auto on_group_shard(broker_services& broker, const std::string& group_id, F& fn)
    -> asio::awaitable<std::optional<decltype(fn(std::declval<coordinator::group::group_manager&>(), 0))>> {
  using R = decltype(fn(std::declval<coordinator::group::group_manager&>(), 0));
  auto pl = broker.groups->place(group_id);
  if (!pl) co_return std::nullopt;
  const int32_t partition = pl->partition;
  R out = co_await broker.shards.invoke_on(pl->shard, [&broker, &fn, partition]() -> asio::awaitable<R> {
    auto& gm = broker.groups->manager_for(partition);
    co_return fn(gm, partition);
  });
  co_return out;
}

// A delayed answer: the group manager calls `complete` (on the coordinator shard); the handler
// coroutine, on the same shard, waits for it with wait().
template <typename T>
struct pending_answer {
  explicit pending_answer(asio::any_io_executor ex) : timer(std::move(ex)) {}
  std::optional<T> value;
  asio::steady_timer timer;
  void complete(T v) {
    value = std::move(v);
    timer.cancel();
  }
};

// Waits until the answer arrives or `max_ms` passed (a safety net: the group manager always
// answers, at the latest when a rebalance or session timeout removes the member).
template <typename T>
asio::awaitable<std::optional<T>> wait_answer(std::shared_ptr<pending_answer<T>> p, int64_t max_ms) {
  if (!p->value) {
    p->timer.expires_after(std::chrono::milliseconds(max_ms));
    asio::error_code ec;
    co_await p->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return p->value;
}

}  // namespace sluice::server
