// OffsetFetch (key 9), v0-8: a group's committed offsets (-1 where none). v2+: null topics =
// every committed offset of the group; v7+: require_stable answers UNSTABLE_OFFSET_COMMIT for
// partitions with transactional offsets still pending (older versions get the committed value);
// v8: several groups per request.
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;

// Null `tps`: every committed offset of the group.
asio::awaitable<cg::fetch_offsets_response> fetch_group(broker_services& broker, const std::string& group_id,
                                                        const std::optional<std::vector<cg::topic_partition_id>>& tps,
                                                        bool require_stable) {
  if (group_id.empty()) {
    cg::fetch_offsets_response r;
    r.error = E::invalid_group_id;
    co_return r;
  }
  auto fn = [&](cg::group_manager& gm, int32_t partition) {
    return gm.fetch_offsets(partition, group_id, tps, require_stable);
  };
  auto out = co_await on_group_shard(broker, group_id, fn);
  if (out) co_return std::move(*out);
  cg::fetch_offsets_response r;
  r.error = E::not_coordinator;
  co_return r;
}

template <typename Topics>
std::optional<std::vector<cg::topic_partition_id>> wanted(const Topics& topics) {
  std::vector<cg::topic_partition_id> out;
  for (const auto& t : topics)
    for (int32_t p : t.partition_indexes) out.push_back({t.name, p});
  return out;
}

// Appends fetched offsets (sorted by topic) to a response's topic list. v8's per-group topics and
// v0-7's top-level topics are different generated types of the same shape.
template <typename Topic>
void add_offsets(const std::vector<cg::fetched_offset>& offsets, std::vector<Topic>& topics) {
  for (const auto& o : offsets) {
    if (topics.empty() || topics.back().name != o.topic) {
      Topic t;
      t.name = o.topic;
      topics.push_back(std::move(t));
    }
    typename decltype(Topic::partitions)::value_type p;
    p.partition_index = o.partition;
    p.committed_offset = o.offset;
    p.committed_leader_epoch = o.leader_epoch;
    p.metadata = o.metadata;
    p.error_code = code(o.error);
    topics.back().partitions.push_back(std::move(p));
  }
}
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::offset_fetch_request& req,
                             protocol::offset_fetch_response& resp) {
  auto& broker = ctx.broker;
  const bool require_stable = ctx.version() >= 7 && req.require_stable;
  if (ctx.version() >= 8) {
    for (const auto& g : req.groups) {
      std::optional<std::vector<cg::topic_partition_id>> tps;
      if (g.topics) tps = wanted(*g.topics);
      auto r = co_await fetch_group(broker, g.group_id, tps, require_stable);
      protocol::offset_fetch_response::offset_fetch_response_group rg;
      rg.group_id = g.group_id;
      rg.error_code = code(r.error);
      add_offsets(r.offsets, rg.topics);
      resp.groups.push_back(std::move(rg));
    }
    co_return;
  }
  std::optional<std::vector<cg::topic_partition_id>> tps;
  if (req.topics) tps = wanted(*req.topics);
  auto r = co_await fetch_group(broker, req.group_id, tps, require_stable);
  if (ctx.version() >= 2) {
    resp.error_code = code(r.error);
  } else if (r.error != E::none && tps) {
    // v0-1 have no group-level error: every requested partition carries it.
    for (const auto& tp : *tps) {
      cg::fetched_offset f;
      f.topic = tp.topic;
      f.partition = tp.partition;
      f.metadata = "";
      f.error = r.error;
      r.offsets.push_back(std::move(f));
    }
  }
  add_offsets(r.offsets, resp.topics);
  co_return;
}

}  // namespace sluice::server
