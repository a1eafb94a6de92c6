#include "server/broker_connections.h"

namespace sluice::server {

namespace {
bool same_address(const cluster::broker_endpoint& a, const cluster::broker_endpoint& b) {
  return a.id == b.id && a.host == b.host && a.port == b.port;
}
}  // namespace

broker_connections::broker_connections(asio::any_io_executor ex, size_t max_idle_per_broker)
    : _state(std::make_shared<state>(state{std::move(ex), max_idle_per_broker, {}, 0})) {}

size_t broker_connections::idle(int32_t broker_id) const {
  auto it = _state->idle.find(broker_id);
  return it == _state->idle.end() ? 0 : it->second.clients.size();
}

std::unique_ptr<broker_client> broker_connections::take_idle(state& s, const cluster::broker_endpoint& to) {
  auto it = s.idle.find(to.id);
  if (it == s.idle.end()) return nullptr;
  if (!same_address(it->second.address, to)) {  // the broker moved: its old connections lead nowhere useful
    s.idle.erase(it);
    return nullptr;
  }
  auto& clients = it->second.clients;
  while (!clients.empty()) {
    auto c = std::move(clients.back());
    clients.pop_back();
    if (c->connected()) return c;
  }
  return nullptr;
}

void broker_connections::give_back(state& s, const cluster::broker_endpoint& to,
                                   std::unique_ptr<broker_client> client) {
  if (!client->connected()) return;
  auto& set = s.idle[to.id];
  if (!same_address(set.address, to)) {
    set.clients.clear();
    set.address = to;
  }
  if (set.clients.size() < s.max_idle_per_broker) set.clients.push_back(std::move(client));
}

}  // namespace sluice::server
