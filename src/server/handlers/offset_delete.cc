// OffsetDelete (key 47), v0: deletes a group's committed offsets of some partitions, unless the
// group is active and subscribed to the topic (GROUP_SUBSCRIBED_TO_TOPIC).
#include "server/handlers/group_common.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

namespace {
namespace cg = coordinator::group;
using E = protocol::error_code;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::offset_delete_request& req,
                             protocol::offset_delete_response& resp) {
  auto img = ctx.broker.partitions.image();
  std::vector<cg::topic_partition_id> tps;
  std::vector<E> pre;  // per requested partition: an error found here, or none
  for (const auto& t : req.topics) {
    const auto* tm = img->find(t.name);
    for (const auto& p : t.partitions) {
      bool known = tm && tm->find_partition(p.partition_index);
      pre.push_back(known ? E::none : E::unknown_topic_or_partition);
      if (known) tps.push_back({t.name, p.partition_index});
    }
  }
  cg::offset_delete_response out;
  if (req.group_id.empty()) {
    out.error = E::invalid_group_id;
  } else {
    auto fn = [&](cg::group_manager& gm, int32_t partition) { return gm.delete_offsets(partition, req.group_id, tps); };
    auto r = co_await on_group_shard(ctx.broker, req.group_id, fn);
    if (r) out = std::move(*r);
    else out.error = E::not_coordinator;
  }
  resp.error_code = code(out.error);
  if (out.error != E::none) co_return;
  size_t i = 0, k = 0;
  for (const auto& t : req.topics) {
    protocol::offset_delete_response::offset_delete_response_topic rt;
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      protocol::offset_delete_response::offset_delete_response_partition rp;
      rp.partition_index = p.partition_index;
      E e = pre[i++];
      if (e == E::none) {
        e = k < out.partition_errors.size() ? out.partition_errors[k] : E::none;
        ++k;
      }
      rp.error_code = code(e);
      rt.partitions.push_back(rp);
    }
    resp.topics.push_back(std::move(rt));
  }
  co_return;
}

}  // namespace sluice::server
