// CreatePartitions (key 37): raises a topic's partition count, optionally with explicit replica
// assignments for the new partitions, through the controller; answers once every shard hosts
// the new partitions. validate_only checks everything and changes nothing. Error messages are
// Kafka's wording (AdminZkClient / ZkAdminManager).
#include <set>

#include <fmt/format.h>

#include "server/handlers/handlers.h"
#include "server/topic_creation.h"

namespace sluice::server {
namespace {

using E = protocol::error_code;

struct problem {
  E code;
  std::string message;
};

// Kafka's checks of explicit assignments for the new partitions.
std::optional<problem> check_assignments(const cluster::metadata_image& img, const cluster::topic_metadata& t,
                                         int32_t count, const std::vector<std::vector<int32_t>>& added) {
  const int32_t current = static_cast<int32_t>(t.partitions.size());
  if (count <= current) return std::nullopt;  // the controller words this one
  const int32_t increment = count - current;
  if (static_cast<int32_t>(added.size()) != increment)
    return problem{E::invalid_replica_assignment,
                   fmt::format("Increasing the number of partitions by {} but {} assignments provided.", increment,
                               added.size())};
  std::set<int32_t> live;
  for (const auto& b : img.brokers) live.insert(b.id);
  std::set<int32_t> unknown;
  for (const auto& a : added)
    for (int32_t b : a)
      if (!live.contains(b)) unknown.insert(b);
  if (!unknown.empty())
    return problem{E::invalid_replica_assignment,
                   fmt::format("Unknown broker(s) in replica assignment: {}.", fmt::join(unknown, ", "))};
  for (size_t i = 0; i < added.size(); ++i) {
    const auto& a = added[i];
    if (a.empty())
      return problem{E::invalid_replica_assignment,
                     fmt::format("Replica assignment for partition {} is empty.", current + static_cast<int32_t>(i))};
    std::set<int32_t> distinct(a.begin(), a.end());
    if (distinct.size() != a.size())
      return problem{E::invalid_replica_assignment,
                     fmt::format("Duplicate brokers not allowed in replica assignment: {} for partition id {}.",
                                 fmt::join(a, ", "), current + static_cast<int32_t>(i))};
  }
  const size_t rf = t.partitions.empty() ? added.front().size() : t.partitions.front().replicas.size();
  std::vector<int32_t> bad_partitions;
  std::vector<size_t> bad_rfs;
  for (size_t i = 0; i < added.size(); ++i) {
    if (added[i].size() != rf) {
      bad_partitions.push_back(current + static_cast<int32_t>(i));
      bad_rfs.push_back(added[i].size());
    }
  }
  if (!bad_partitions.empty())
    return problem{E::invalid_replica_assignment,
                   fmt::format("Inconsistent replication factor between partitions, partition 0 has {} while "
                               "partitions [{}] have replication factors [{}], respectively.",
                               rf, fmt::join(bad_partitions, ", "), fmt::join(bad_rfs, ", "))};
  return std::nullopt;
}

}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::create_partitions_request& req,
                             protocol::create_partitions_response& resp) {
  auto& broker = ctx.broker;
  std::map<std::string, int> seen;
  for (const auto& t : req.topics) seen[t.name]++;
  auto img = broker.controller.image();
  bool created_any = false;
  for (const auto& t : req.topics) {
    protocol::create_partitions_response::create_partitions_topic_result r;
    r.name = t.name;
    r.error_message = std::nullopt;
    auto fail = [&](E e, std::string message) {
      r.error_code = code(e);
      r.error_message = std::move(message);
    };
    const auto* tm = img->find(t.name);
    std::vector<std::vector<int32_t>> added;
    if (t.assignments)
      for (const auto& a : *t.assignments) added.push_back(a.broker_ids);
    if (seen[t.name] > 1) {
      fail(E::invalid_request, "Duplicate topic in request.");
    } else if (!tm) {
      fail(E::unknown_topic_or_partition, fmt::format("The topic '{}' does not exist.", t.name));
    } else if (auto p = !added.empty() ? check_assignments(*img, *tm, t.count, added) : std::nullopt) {
      fail(p->code, p->message);
    } else {
      std::string message;
      if (auto c = broker.controller.create_partitions(t.name, t.count, added, req.validate_only, &message); !c) {
        fail(to_kafka_error(c.error()), message);
      } else {
        created_any = created_any || !req.validate_only;
      }
    }
    resp.results.push_back(std::move(r));
  }
  if (created_any) co_await propagate_metadata(broker);
  co_return;
}

}  // namespace sluice::server
