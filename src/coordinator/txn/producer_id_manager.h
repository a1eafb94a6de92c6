#pragma once
// Producer ids for InitProducerId (Kafka's ProducerIdManager, ZooKeeper flavour): each broker
// claims blocks of `block_size` consecutive ids from the cluster metadata store node
// /latest_producer_id_block, JSON {"version":1,"broker":<id>,"block_start":"<first>",
// "block_end":"<last>"} (docs/format/metadata-store.md), by compare-and-set on the node's
// version, and hands out ids from its block. A claimed block is never given out again, so ids
// stay unique across restarts (ids left in a block at shutdown are skipped) and across brokers.
//
// Thread contract: thread-safe (a mutex); next_id() calls the store only when a block is used
// up (control path, may block briefly).
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>

#include "base/result.h"
#include "cluster/metadata_store.h"

namespace sluice::coordinator {

inline constexpr const char* producer_id_block_path = "/latest_producer_id_block";
inline constexpr int64_t default_producer_id_block_size = 1000;

enum class txn_errc {
  producer_ids_exhausted = 1,  // the next block would pass INT64_MAX
  corrupt_producer_id_block = 2,  // the store node does not parse
  store_unavailable = 3,       // the metadata store failed, or the compare-and-set kept losing for 10 s
};
const std::error_category& txn_category();
inline std::error_code make_error_code(txn_errc e) { return {static_cast<int>(e), txn_category()}; }

struct producer_id_block {
  int32_t broker = -1;
  int64_t first = 0;  // inclusive
  int64_t last = 0;   // inclusive
  bool operator==(const producer_id_block&) const = default;
};
std::string encode_producer_id_block(const producer_id_block& b);
std::optional<producer_id_block> parse_producer_id_block(const std::string& json);

class producer_id_manager {
 public:
  producer_id_manager(cluster::metadata_store& store, int32_t broker_id,
                      int64_t block_size = default_producer_id_block_size);

  // The next unused producer id.
  result<int64_t> next_id();
  // The block ids currently come from (nullopt before the first call).
  std::optional<producer_id_block> current_block() const;

 private:
  result<producer_id_block> claim_block();  // REQUIRES: _mu held

  cluster::metadata_store& _store;
  const int32_t _broker_id;
  const int64_t _block_size;
  mutable std::mutex _mu;
  std::optional<producer_id_block> _block;
  int64_t _next = 0;
};

}  // namespace sluice::coordinator

template <>
struct std::is_error_code_enum<sluice::coordinator::txn_errc> : std::true_type {};
