#include "storage/producer_state.h"

#include <algorithm>
#include <limits>

#include "base/crc32c.h"
#include "base/endian.h"
#include "storage/errc.h"
#include "storage/logger.h"
#include "storage/segment.h"

namespace sluice::storage {

namespace {
constexpr int32_t int32_max = std::numeric_limits<int32_t>::max();

// Snapshot layout (docs/format/producer-snapshot.md).
constexpr size_t snap_version_at = 0;
constexpr size_t snap_crc_at = 2;
constexpr size_t snap_count_at = 6;
constexpr size_t snap_header_size = 10;
constexpr size_t snap_entry_size = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;  // 46

bool in_sequence(int32_t last_seq, int32_t next_seq) {
  return static_cast<int64_t>(next_seq) == static_cast<int64_t>(last_seq) + 1 ||
         (next_seq == 0 && last_seq == int32_max);
}
}  // namespace

int32_t increment_sequence(int32_t seq, int32_t increment) {
  if (seq > int32_max - increment) return increment - (int32_max - seq) - 1;
  return seq + increment;
}

int32_t decrement_sequence(int32_t seq, int32_t decrement) {
  if (seq < decrement) return int32_max - (decrement - seq) + 1;
  return seq - decrement;
}

std::optional<producer_batch> producer_entry::find_batch(int32_t first, int32_t last) const {
  for (const auto& b : batches)
    if (b.first_seq == first && b.last_seq == last) return b;
  return std::nullopt;
}

void producer_entry::add_batch(int16_t new_epoch, const producer_batch& b) {
  if (new_epoch != epoch) {
    batches.clear();
    epoch = new_epoch;
  }
  if (batches.size() == producer_batches_to_retain) batches.pop_front();
  batches.push_back(b);
  last_timestamp = b.max_timestamp;
}

producer_batch_info producer_batch_info::of(const model::batch_view& v) {
  int32_t first_seq = v.base_sequence();
  int32_t last_seq = first_seq < 0 ? no_sequence : increment_sequence(first_seq, v.last_offset_delta());
  return {v.producer_id(), v.producer_epoch(), first_seq, last_seq, v.base_offset(), v.last_offset(), v.max_timestamp(),
          v.is_transactional()};
}

producer_state_manager::producer_state_manager(file_system& fs, std::string dir, int64_t expiration_ms)
    : _fs(fs), _dir(std::move(dir)), _expiration_ms(expiration_ms) {}

const producer_entry* producer_state_manager::find(int64_t producer_id) const {
  auto it = _producers.find(producer_id);
  return it == _producers.end() ? nullptr : &it->second;
}

result<std::optional<producer_batch>> producer_state_manager::check_client_batches(
    std::span<const producer_batch_info> batches) const {
  // What the earlier batches of this append would change (Kafka's ProducerAppendInfo.updatedEntry).
  struct pending {
    int64_t producer_id;
    int16_t epoch;
    int32_t last_seq;  // no_sequence until a batch of this append is seen
  };
  std::vector<pending> updated;
  for (const auto& b : batches) {
    if (b.producer_id == no_producer_id) continue;
    const producer_entry* current = find(b.producer_id);
    const int16_t current_epoch = current ? current->epoch : no_producer_epoch;
    // A duplicate of a batch already in the log: same epoch, same sequence range.
    if (current && b.epoch == current->epoch)
      if (auto dup = current->find_batch(b.first_seq, b.last_seq)) return std::optional<producer_batch>(*dup);
    auto it = std::find_if(updated.begin(), updated.end(), [&](const pending& p) { return p.producer_id == b.producer_id; });
    if (it == updated.end()) {
      updated.push_back({b.producer_id, current_epoch, no_sequence});
      it = std::prev(updated.end());
    }
    if (b.epoch < it->epoch) return errc::invalid_producer_epoch;
    // Kafka's ProducerAppendInfo.checkProducerEpoch + "non-transactional batch with an open
    // transaction": the producer must finish (or abort) its transaction first.
    if (!b.transactional && current && current->current_txn_first_offset >= 0 && b.epoch == current->epoch)
      return errc::invalid_txn_state;
    if (b.epoch != it->epoch) {
      // A new epoch starts its sequences at 0.
      if (b.first_seq != 0) return it->epoch != no_producer_epoch ? errc::out_of_order_sequence : errc::unknown_producer_id;
    } else {
      int32_t last = it->last_seq != no_sequence ? it->last_seq
                     : (current && b.epoch == current->epoch) ? current->last_seq()
                                                              : no_sequence;
      // No epoch on record (e.g. batches of a pre-epoch producer): any sequence is accepted.
      if (current_epoch != no_producer_epoch && !in_sequence(last, b.first_seq)) return errc::out_of_order_sequence;
    }
    it->epoch = b.epoch;
    it->last_seq = b.last_seq;
  }
  return std::optional<producer_batch>{};
}

result<void> producer_state_manager::check_marker(int64_t producer_id, int16_t epoch, int32_t coordinator_epoch) const {
  const producer_entry* e = find(producer_id);
  if (!e) return ok();
  if (epoch < e->epoch) return errc::invalid_producer_epoch;
  if (coordinator_epoch < e->coordinator_epoch) return errc::transaction_coordinator_fenced;
  return ok();
}

std::optional<completed_txn> producer_state_manager::apply(const model::batch_view& v) {
  if (v.producer_id() == no_producer_id) return std::nullopt;
  if (v.is_control()) {
    auto m = model::parse_txn_marker(v);
    if (!m) return std::nullopt;  // other control types (KRaft-internal) carry no producer state
    return apply_marker(v.producer_id(), v.producer_epoch(), *m, v.base_offset(), v.max_timestamp());
  }
  apply(producer_batch_info::of(v));
  return std::nullopt;
}

std::optional<completed_txn> producer_state_manager::apply_marker(int64_t producer_id, int16_t epoch,
                                                                  const model::txn_marker& m, int64_t offset,
                                                                  int64_t timestamp) {
  auto& e = _producers[producer_id];
  e.producer_id = producer_id;
  // As for data batches, a replicated marker of an older epoch does not roll the epoch back.
  if (epoch < e.epoch) return std::nullopt;
  if (epoch != e.epoch) {
    e.batches.clear();  // a bumped epoch (coordinator abort after a timeout) restarts sequences
    e.epoch = epoch;
  }
  e.coordinator_epoch = m.coordinator_epoch;
  e.last_timestamp = std::max(e.last_timestamp, timestamp);
  if (e.current_txn_first_offset < 0) return std::nullopt;  // a retried marker: nothing open
  completed_txn t{producer_id, e.current_txn_first_offset, offset, !m.commit()};
  _ongoing.erase({e.current_txn_first_offset, producer_id});
  e.current_txn_first_offset = -1;
  return t;
}

void producer_state_manager::apply(const producer_batch_info& b) {
  if (b.producer_id == no_producer_id) return;
  auto& e = _producers[b.producer_id];
  e.producer_id = b.producer_id;
  // Replicated/recovered batches of an older epoch are kept in the log but do not roll the
  // producer's epoch back (Kafka warns and applies; the epoch never decreases here).
  if (b.epoch < e.epoch) return;
  e.add_batch(b.epoch, {b.first_seq, b.last_seq, b.first_offset, b.last_offset, b.max_timestamp});
  if (b.transactional && e.current_txn_first_offset < 0) {
    e.current_txn_first_offset = b.first_offset;
    _ongoing.insert({b.first_offset, b.producer_id});
  }
}

void producer_state_manager::rebuild_ongoing() {
  _ongoing.clear();
  for (const auto& [id, e] : _producers)
    if (e.current_txn_first_offset >= 0) _ongoing.insert({e.current_txn_first_offset, id});
}

size_t producer_state_manager::remove_expired(int64_t now_ms) {
  return std::erase_if(_producers, [&](const auto& kv) {
    return kv.second.current_txn_first_offset < 0 && now_ms - kv.second.last_timestamp >= _expiration_ms;
  });
}

// ---- snapshots ----

std::string producer_state_manager::snapshot_path(int64_t offset) const {
  return _dir + "/" + segment_file_name(offset, producer_snapshot_suffix);
}

std::vector<uint8_t> producer_state_manager::encode_snapshot(const std::unordered_map<int64_t, producer_entry>& producers) {
  // Sorted by producer id so the same state always gives the same bytes.
  std::vector<const producer_entry*> sorted;
  size_t count = 0;
  for (const auto& [id, e] : producers) {
    sorted.push_back(&e);
    count += std::max<size_t>(e.batches.size(), 1);  // a producer without batches: one empty entry
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->producer_id < b->producer_id; });
  std::vector<uint8_t> out(snap_header_size + count * snap_entry_size);
  store_be<int16_t>(out.data() + snap_version_at, producer_snapshot_version);
  store_be<int32_t>(out.data() + snap_count_at, static_cast<int32_t>(count));
  uint8_t* p = out.data() + snap_header_size;
  for (const auto* e : sorted) {
    // One entry per retained batch, oldest first: Kafka's reader keeps the last entry of a
    // producer id (its newest batch); ours keeps all of them.
    auto put = [&](const producer_batch& b, int64_t ts) {
      store_be<int64_t>(p, e->producer_id);
      store_be<int16_t>(p + 8, e->epoch);
      store_be<int32_t>(p + 10, b.last_seq);
      store_be<int64_t>(p + 14, b.last_offset);
      store_be<int32_t>(p + 22, b.last_offset < 0 ? 0 : static_cast<int32_t>(b.last_offset - b.first_offset));
      store_be<int64_t>(p + 26, ts);
      store_be<int32_t>(p + 34, e->coordinator_epoch);
      store_be<int64_t>(p + 38, e->current_txn_first_offset);
      p += snap_entry_size;
    };
    // Kafka's entry for a producer without batch metadata (e.g. only a marker since its epoch
    // bump): last sequence -1, last offset -1, offset delta 0, the producer's last timestamp.
    if (e->batches.empty()) put(producer_batch{}, e->last_timestamp);
    // The newest batch's entry carries the producer's last timestamp, as Kafka's does: a marker
    // written after that batch moves the expiry clock past the batch's own timestamp.
    for (const auto& b : e->batches) put(b, &b == &e->batches.back() ? e->last_timestamp : b.max_timestamp);
  }
  uint32_t crc = crc32c(out.data() + snap_count_at, out.size() - snap_count_at);
  store_be<uint32_t>(out.data() + snap_crc_at, crc);
  return out;
}

result<std::unordered_map<int64_t, producer_entry>> producer_state_manager::decode_snapshot(std::span<const uint8_t> bytes) {
  if (bytes.size() < snap_header_size) return errc::corrupt_snapshot;
  if (load_be<int16_t>(bytes.data() + snap_version_at) != producer_snapshot_version) return errc::corrupt_snapshot;
  uint32_t crc = load_be<uint32_t>(bytes.data() + snap_crc_at);
  if (crc32c(bytes.data() + snap_count_at, bytes.size() - snap_count_at) != crc) return errc::corrupt_snapshot;
  int32_t count = load_be<int32_t>(bytes.data() + snap_count_at);
  if (count < 0 || (bytes.size() - snap_header_size) != static_cast<size_t>(count) * snap_entry_size)
    return errc::corrupt_snapshot;
  std::unordered_map<int64_t, producer_entry> out;
  const uint8_t* p = bytes.data() + snap_header_size;
  for (int32_t i = 0; i < count; ++i, p += snap_entry_size) {
    int64_t id = load_be<int64_t>(p);
    int16_t epoch = load_be<int16_t>(p + 8);
    int32_t last_seq = load_be<int32_t>(p + 10);
    int64_t last_offset = load_be<int64_t>(p + 14);
    int32_t offset_delta = load_be<int32_t>(p + 22);
    int64_t ts = load_be<int64_t>(p + 26);
    int32_t coordinator_epoch = load_be<int32_t>(p + 34);
    int64_t txn_first_offset = load_be<int64_t>(p + 38);
    if (id < 0 || txn_first_offset < -1) return errc::corrupt_snapshot;
    auto& e = out[id];
    e.producer_id = id;
    e.coordinator_epoch = coordinator_epoch;
    e.current_txn_first_offset = txn_first_offset;  // the last entry of a producer wins (as Kafka)
    if (last_offset == -1 && offset_delta == 0 && last_seq == no_sequence) {
      // No batch metadata: only the epoch and the timestamp.
      if (epoch != e.epoch) e.batches.clear();
      e.epoch = epoch;
      e.last_timestamp = ts;
      continue;
    }
    if (offset_delta < 0 || last_offset < offset_delta) return errc::corrupt_snapshot;
    producer_batch b{last_seq < 0 ? no_sequence : decrement_sequence(last_seq, offset_delta), last_seq,
                     last_offset - offset_delta, last_offset, ts};
    e.add_batch(epoch, b);
  }
  return out;
}

result<void> producer_state_manager::take_snapshot(int64_t offset) {
  auto bytes = encode_snapshot(_producers);
  return write_file_atomic(_fs, snapshot_path(offset), bytes);
}

std::vector<int64_t> producer_state_manager::snapshot_offsets() const {
  std::vector<int64_t> out;
  auto entries = _fs.list_dir(_dir);
  if (!entries) return out;
  for (const auto& e : *entries)
    if (auto o = parse_segment_file_name(e.name, producer_snapshot_suffix)) out.push_back(*o);
  std::sort(out.begin(), out.end());
  return out;
}

void producer_state_manager::delete_snapshot(int64_t offset) { (void)_fs.unlink(snapshot_path(offset)); }

void producer_state_manager::delete_snapshots_above(int64_t offset) {
  for (int64_t o : snapshot_offsets())
    if (o > offset) delete_snapshot(o);
}

void producer_state_manager::delete_snapshots_below(int64_t offset) {
  for (int64_t o : snapshot_offsets())
    if (o < offset) delete_snapshot(o);
}

result<std::optional<int64_t>> producer_state_manager::load_latest_snapshot(int64_t max_offset, int64_t now_ms) {
  clear();
  auto offsets = snapshot_offsets();
  for (auto it = offsets.rbegin(); it != offsets.rend(); ++it) {
    if (*it > max_offset) continue;
    auto bytes = read_file(_fs, snapshot_path(*it));
    if (!bytes) return bytes.error();
    auto decoded = decode_snapshot(*bytes);
    if (!decoded) {
      // Kafka too drops a corrupt snapshot and falls back to an older one (or the log).
      logger().warn("{}: deleting corrupt producer snapshot ({}), trying an older one", snapshot_path(*it),
                    decoded.error().message());
      delete_snapshot(*it);
      continue;
    }
    for (auto& [id, e] : *decoded)
      if (e.current_txn_first_offset >= 0 || now_ms - e.last_timestamp < _expiration_ms)
        _producers.emplace(id, std::move(e));
    rebuild_ongoing();
    return std::optional<int64_t>(*it);
  }
  return std::optional<int64_t>{};
}

}  // namespace sluice::storage
