// AddPartitionsToTxn (key 24), v0-3: adds partitions to the producer's ongoing transaction
// (starting one if needed), answered once the new state is replicated. As Kafka's KafkaApis:
// partitions of topics or partitions that do not exist get UNKNOWN_TOPIC_OR_PARTITION and the
// others OPERATION_NOT_ATTEMPTED (nothing is added); otherwise every partition gets the
// coordinator's one answer. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2 (KIP-588).
// v4 (KIP-890 broker-to-broker verification) is not implemented nor advertised.
#include "server/handlers/handlers.h"
#include "server/handlers/txn_common.h"

namespace sluice::server {

namespace {
using E = protocol::error_code;
namespace ct = coordinator::txn;
using resp_t = protocol::add_partitions_to_txn_response;
}  // namespace

asio::awaitable<void> handle(request_context& ctx, protocol::add_partitions_to_txn_request& req, resp_t& resp) {
  auto img = ctx.broker.partitions.image();
  std::vector<ct::topic_partition> tps;
  bool unknown = false;
  for (const auto& t : req.v3_and_below_topics) {
    const auto* tm = img->find(t.name);
    for (auto p : t.partitions) {
      if (!tm || !tm->find_partition(p)) unknown = true;
      tps.push_back({t.name, p});
    }
  }
  // Per-partition answer: the coordinator's one error, or the existence check's.
  auto answer = [&](auto error_for) {
    for (const auto& t : req.v3_and_below_topics) {
      resp_t::add_partitions_to_txn_topic_result rt;
      rt.name = t.name;
      const auto* tm = img->find(t.name);
      for (auto p : t.partitions) {
        resp_t::add_partitions_to_txn_partition_result rp;
        rp.partition_index = p;
        rp.partition_error_code = code(error_for(tm && tm->find_partition(p)));
        rt.results_by_partition.push_back(rp);
      }
      resp.results_by_topic_v3_and_below.push_back(std::move(rt));
    }
  };
  if (unknown) {
    answer([](bool exists) { return exists ? E::operation_not_attempted : E::unknown_topic_or_partition; });
    co_return;
  }
  const std::string id = req.v3_and_below_transactional_id;
  const int64_t pid = req.v3_and_below_producer_id;
  const int16_t epoch = req.v3_and_below_producer_epoch;
  auto start = [&](ct::transaction_manager& tm, int32_t partition, std::function<void(E)> done) {
    tm.add_partitions(partition, id, pid, epoch, tps, std::move(done));
  };
  E error = E::none;
  if (id.empty()) {
    error = E::invalid_request;
  } else {
    auto got = co_await ask_txn_coordinator<E>(ctx.broker, id, start);
    error = answer_error(got, ctx.version() < 2);
  }
  answer([error](bool) { return error; });
  co_return;
}

}  // namespace sluice::server
