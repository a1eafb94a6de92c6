#include "coordinator/txn/producer_id_manager.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <thread>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/logging.h"

namespace sluice::coordinator {

namespace {
class txn_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "txn"; }
  std::string message(int c) const override {
    switch (static_cast<txn_errc>(c)) {
      case txn_errc::producer_ids_exhausted: return "producer id space exhausted";
      case txn_errc::corrupt_producer_id_block: return "corrupt /latest_producer_id_block node";
      case txn_errc::store_unavailable: return "metadata store unavailable for producer id allocation";
    }
    return "unknown txn error";
  }
};

// Kafka writes block_start/block_end as decimal strings; accept numbers too.
std::optional<int64_t> as_int64(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  int64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return out;
}

// Losing the compare-and-set means another claimer made progress, so retrying cannot livelock
// the cluster, but one claimer can lose many times in a row under contention. Retry with a
// growing, jittered pause until a deadline rather than for a fixed number of attempts.
constexpr auto claim_deadline = std::chrono::seconds(10);
constexpr auto max_claim_pause = std::chrono::milliseconds(20);
}  // namespace

const std::error_category& txn_category() {
  static txn_category_impl c;
  return c;
}

std::string encode_producer_id_block(const producer_id_block& b) {
  nlohmann::json j{{"version", 1}, {"broker", b.broker}, {"block_start", std::to_string(b.first)},
                   {"block_end", std::to_string(b.last)}};
  return j.dump();
}

std::optional<producer_id_block> parse_producer_id_block(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1)
    return std::nullopt;
  if (!j.contains("broker") || !j["broker"].is_number_integer() || !j.contains("block_start") || !j.contains("block_end"))
    return std::nullopt;
  auto first = as_int64(j["block_start"]);
  auto last = as_int64(j["block_end"]);
  if (!first || !last || *first < 0 || *last < *first) return std::nullopt;
  return producer_id_block{j["broker"].get<int32_t>(), *first, *last};
}

producer_id_manager::producer_id_manager(cluster::metadata_store& store, int32_t broker_id, int64_t block_size)
    : _store(store), _broker_id(broker_id), _block_size(block_size) {}

std::optional<producer_id_block> producer_id_manager::current_block() const {
  std::lock_guard g(_mu);
  return _block;
}

result<int64_t> producer_id_manager::next_id() {
  std::lock_guard g(_mu);
  if (!_block || _next > _block->last) {
    auto b = claim_block();
    if (!b) return b.error();
    _block = *b;
    _next = b->first;
  }
  return _next++;
}

result<producer_id_block> producer_id_manager::claim_block() {
  const auto deadline = std::chrono::steady_clock::now() + claim_deadline;
  std::minstd_rand jitter(static_cast<uint32_t>(_broker_id) * 2654435761u +
                          static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  auto pause = std::chrono::microseconds(50);
  while (std::chrono::steady_clock::now() < deadline) {
    auto current = _store.get(producer_id_block_path);
    producer_id_block next{_broker_id, 0, _block_size - 1};
    if (current) {
      auto prev = parse_producer_id_block(current->data);
      if (!prev) return txn_errc::corrupt_producer_id_block;
      if (prev->last > std::numeric_limits<int64_t>::max() - _block_size) return txn_errc::producer_ids_exhausted;
      next.first = prev->last + 1;
      next.last = prev->last + _block_size;
      auto set = _store.set(producer_id_block_path, encode_producer_id_block(next), current->version);
      if (set) return next;
      if (set.error() != make_error_code(cluster::store_errc::bad_version)) return txn_errc::store_unavailable;
    } else if (current.error() == make_error_code(cluster::store_errc::no_node)) {
      auto created = _store.create(producer_id_block_path, encode_producer_id_block(next), false, true);
      if (created) return next;
      if (created.error() != make_error_code(cluster::store_errc::node_exists)) return txn_errc::store_unavailable;
    } else {
      return txn_errc::store_unavailable;
    }
    // Another claimer won the race: pause a random part of the current pause, then read again.
    std::this_thread::sleep_for(std::chrono::microseconds(jitter() % (pause.count() + 1)));
    pause = std::min<std::chrono::microseconds>(pause * 2, max_claim_pause);
  }
  return txn_errc::store_unavailable;
}

}  // namespace sluice::coordinator
