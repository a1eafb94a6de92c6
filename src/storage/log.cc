#include "storage/log.h"

#include <algorithm>
#include <charconv>
#include <random>

#include <fmt/format.h>

#include "base/assert.h"
#include "base/varint.h"
#include "storage/batch_reader.h"
#include "storage/checkpoint_file.h"
#include "storage/errc.h"
#include "storage/logger.h"

namespace sluice::storage {

namespace L = model::batch_layout;

namespace {

// Largest batch recovery will frame (a corrupt length cannot make it allocate more).
constexpr uint64_t recovery_max_batch_bytes = static_cast<uint64_t>(INT32_MAX) + L::log_overhead;

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(v, hi)); }

// Walks the records of an uncompressed batch: first record with timestamp >= target (and
// offset >= min_offset), or the record with the largest timestamp when target is
// list_offsets_max_timestamp. Returns {offset, timestamp}.
std::optional<std::pair<int64_t, int64_t>> search_records(const model::batch_view& v, int64_t target,
                                                           int64_t min_offset) {
  if (v.log_append_time()) {  // every record carries the batch's append time
    int64_t off = std::max(v.base_offset(), min_offset);
    if (target == list_offsets_max_timestamp) return std::pair{v.base_offset(), v.max_timestamp()};
    if (v.max_timestamp() >= target && off <= v.last_offset()) return std::pair{off, v.max_timestamp()};
    return std::nullopt;
  }
  auto recs = v.records();
  const uint8_t* p = recs.data();
  const uint8_t* end = recs.data() + recs.size();
  std::optional<std::pair<int64_t, int64_t>> best;
  for (int32_t i = 0; i < v.records_count() && p < end; ++i) {
    auto len = read_varint(p, end, varint_max_bytes_u32);
    if (!len || len->first < 1 || len->first > end - p - static_cast<int64_t>(len->second)) return best;
    const uint8_t* rec = p + len->second;
    const uint8_t* rec_end = rec + len->first;
    auto ts = read_varint(rec + 1, rec_end);
    if (!ts) return best;
    auto od = read_varint(rec + 1 + ts->second, rec_end, varint_max_bytes_u32);
    if (!od) return best;
    int64_t t = v.base_timestamp() + ts->first;
    int64_t off = v.base_offset() + od->first;
    if (target == list_offsets_max_timestamp) {
      if (!best || t > best->second) best = std::pair{off, t};
    } else if (t >= target && off >= min_offset) {
      return std::pair{off, t};
    }
    p = rec_end;
  }
  return best;
}

}  // namespace

std::string partition_dir_name(const model::topic_partition& tp) { return fmt::format("{}-{}", tp.topic, tp.partition); }

std::optional<model::topic_partition> parse_partition_dir_name(std::string_view name) {
  size_t dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  std::string_view topic = name.substr(0, dash), part = name.substr(dash + 1);
  int32_t p = 0;
  auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), p);
  if (ec != std::errc() || ptr != part.data() + part.size() || p < 0) return std::nullopt;
  if (!model::is_valid_topic_name(topic)) return std::nullopt;
  return model::topic_partition{std::string(topic), p};
}

log::log(const log_options& o)
    : _fs(*o.fs),
      _clock(*o.clock),
      _dir(o.dir),
      _tp(o.tp),
      _cfg(o.config),
      _opts(o),
      _epochs(*o.fs, o.dir + "/" + leader_epoch_checkpoint_name),
      _producers(*o.fs, o.dir, o.producer_id_expiration_ms) {
  int64_t now = _clock.monotonic_ms();
  _next_producer_expiry_check_mono_ms = now + o.producer_id_expiration_check_interval_ms;
  _last_flush_mono_ms = now;
  _next_flush_check_mono_ms = now;
  _next_retention_check_mono_ms = now + o.retention_check_interval_ms;
  draw_roll_jitter();
}

void log::draw_roll_jitter() {
  // Kafka draws a fresh jitter for every segment, in [0, segment.jitter.ms).
  static thread_local std::mt19937_64 rng(std::random_device{}());
  _roll_jitter_ms = _cfg.segment_jitter_ms > 0
                        ? std::uniform_int_distribution<int64_t>(0, _cfg.segment_jitter_ms - 1)(rng)
                        : 0;
}

log::~log() = default;

segment_config log::seg_cfg() const {
  return {_cfg.index_interval_bytes, _cfg.segment_index_bytes, _cfg.preallocate, _cfg.segment_bytes};
}

result<std::unique_ptr<log>> log::open(const log_options& opts) {
  SLUICE_ASSERT(opts.fs && opts.clock, "log_options without file system or clock");
  std::unique_ptr<log> l(new log(opts));
  if (auto r = l->load(); !r) return r.error();
  return l;
}

result<void> log::load() {
  if (auto r = _fs.mkdirs(_dir); !r) return r;
  auto entries = _fs.list_dir(_dir);
  if (!entries) return entries.error();
  std::vector<int64_t> bases;
  std::vector<std::string> names;
  for (auto& e : *entries) names.push_back(e.name);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  for (auto& n : names) {
    auto ends = [&](std::string_view s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
    if (ends(segment::deleted_suffix) || ends(".tmp") || ends(".cleaned") || ends(".swap")) {
      (void)_fs.unlink(_dir + "/" + n);  // leftovers of an interrupted delete, checkpoint or clean
      continue;
    }
    if (auto b = parse_segment_file_name(n, segment::log_suffix)) {
      bases.push_back(*b);
      continue;
    }
    for (auto suffix : {segment::index_suffix, segment::time_index_suffix, segment::txn_index_suffix}) {
      if (auto b = parse_segment_file_name(n, suffix); b && !has(segment_file_name(*b, segment::log_suffix))) {
        logger().info("{}: removing orphan index {}", _tp, n);
        (void)_fs.unlink(_dir + "/" + n);
      }
    }
  }
  std::sort(bases.begin(), bases.end());

  if (auto r = _epochs.load(); !r) {
    logger().warn("{}: {} unreadable ({}); rebuilding it from recovered batches", _tp, _epochs.path(),
                  r.error().message());
    (void)_epochs.clear();
  }

  _recovery.clean_shutdown = _opts.clean_shutdown;
  int64_t now = now_ms();
  bool fresh = bases.empty();
  if (fresh) {
    int64_t start = std::max<int64_t>(0, _opts.log_start_offset);
    auto s = segment::create(_fs, _dir, start, seg_cfg(), now);
    if (!s) return s.error();
    _segments.emplace(start, std::move(*s));
    _dir_dirty = true;
  } else {
    for (int64_t b : bases) {
      auto s = segment::open(_fs, _dir, b, seg_cfg(), now);
      if (!s) return s.error();
      _segments.emplace(b, std::move(*s));
    }
  }
  _recovery.segments_loaded = _segments.size();

  // Segments to read in full: from the one holding the recovery point (unclean shutdown).
  int64_t recover_from = INT64_MAX;
  if (!_opts.clean_shutdown && !fresh) {
    auto it = _segments.upper_bound(_opts.recovery_point);
    recover_from = it == _segments.begin() ? _segments.begin()->first : std::prev(it)->first;
  }
  bool epochs_changed = false;
  const auto epochs_before = _epochs.entries();
  for (auto it = _segments.begin(); it != _segments.end(); ++it) {
    segment& s = *it->second;
    bool last = std::next(it) == _segments.end();
    bool must = s.base_offset() >= recover_from || s.indexes_missing();
    if (!must && last) {
      // Establish the end without a full scan; a torn tail despite the marker means recover.
      if (auto r = s.make_active(); !r) return r;
      auto next = s.next_offset(INT64_MAX);
      if (next) break;
      logger().warn("{}: {} has an invalid tail after a clean shutdown; recovering it", _tp, s.log_path());
      must = true;
    }
    if (!must) continue;
    if (s.indexes_missing() && s.base_offset() < recover_from) _recovery.indexes_rebuilt.push_back(s.base_offset());
    auto res = s.recover(recovery_max_batch_bytes, &_epochs);
    if (!res) return res.error();
    epochs_changed = true;
    _recovery.recovered_segments.push_back(s.base_offset());
    _recovery.bytes_scanned += res->scanned_bytes;
    if (res->truncated_bytes > 0) {
      _recovery.bytes_truncated += res->truncated_bytes;
      logger().warn("{}: recovery cut {} bytes from {} at position {}: {}", _tp, res->truncated_bytes, s.log_path(),
                    res->valid_bytes, res->reason);
      // Everything after an invalid byte is unreachable: drop later segments.
      std::vector<int64_t> later;
      for (auto j = std::next(it); j != _segments.end(); ++j) later.push_back(j->first);
      for (int64_t b : later) {
        logger().warn("{}: deleting segment {} after the cut", _tp, b);
        _recovery.deleted_segments.push_back(b);
        if (auto r = remove_segment(b, false); !r) return r;
      }
      last = true;
    }
    if (last) {
      if (auto r = s.make_active(); !r) return r;
      break;
    }
    if (auto r = s.on_become_inactive(); !r) return r;
  }

  int64_t leo = *active().next_offset(INT64_MAX);
  _leo = leo;
  int64_t first_base = _segments.begin()->first;
  _log_start = clamp64(std::max(_opts.log_start_offset, first_base), first_base, leo);
  _recovery_point = _opts.clean_shutdown ? leo : clamp64(_opts.recovery_point, first_base, leo);
  _hw = clamp64(_opts.high_watermark < 0 ? _log_start.load() : _opts.high_watermark, _log_start, leo);
  _lso = _hw.load();
  // Aborted-transaction indexes to rebuild from the log: those of the segments recovery read in
  // full and those that failed their checks at open.
  int64_t rebuild_txn_from = INT64_MAX;
  if (!_recovery.recovered_segments.empty()) rebuild_txn_from = _recovery.recovered_segments.front();
  for (auto& [b, s] : _segments)
    if (s->txn_index_invalid()) {
      logger().warn("{}: {} failed its checks; rebuilding it", _tp, s->aborted_txns().path());
      rebuild_txn_from = std::min(rebuild_txn_from, b);
      break;
    }
  for (auto it = _segments.lower_bound(rebuild_txn_from); it != _segments.end(); ++it)
    if (auto r = it->second->aborted_txns().reset(); !r) return r;
  if (auto r = _epochs.truncate_from_end(leo); !r) return r;
  if (auto r = _epochs.truncate_from_start(_log_start); !r) return r;
  if (epochs_changed && _epochs.entries() != epochs_before)
    if (auto r = _epochs.flush(); !r) return r;
  recompute_size();
  if (auto r = load_producer_state(rebuild_txn_from); !r) return r;
  update_lso();
  if (!_recovery.recovered_segments.empty())
    logger().info("{}: recovered {} segment(s), {} bytes scanned, {} bytes cut; log end offset {}", _tp,
                  _recovery.recovered_segments.size(), _recovery.bytes_scanned, _recovery.bytes_truncated, leo);
  return ok();
}

namespace {
// Feeds replayed batches into producer state; ABORT markers at or above `rebuild_from` get their
// aborted-transaction index entry (written again after recovery emptied the segment's index).
struct producer_replay final : batch_observer {
  producer_replay(producer_state_manager& m, int64_t rebuild_from,
                  std::function<void(const aborted_txn&)> add_entry)
      : m(m), rebuild_from(rebuild_from), add_entry(std::move(add_entry)) {}
  void on_append(const model::batch_view& v) override {
    auto done = m.apply(v);
    if (done && done->aborted && done->last_offset >= rebuild_from)
      add_entry({done->producer_id, done->first_offset, done->last_offset, m.last_stable_offset_after(*done)});
  }
  void on_truncate(int64_t) override {}
  void on_log_start_offset(int64_t) override {}
  producer_state_manager& m;
  int64_t rebuild_from;
  std::function<void(const aborted_txn&)> add_entry;
};
}  // namespace

result<void> log::load_producer_state(int64_t rebuild_txn_from) {
  const int64_t leo = _leo;
  _producers.delete_snapshots_above(leo);
  // Rebuilding an index needs the open transactions as of its segment: a snapshot from before.
  auto loaded = _producers.load_latest_snapshot(std::min(leo, rebuild_txn_from), now_ms());
  if (!loaded) return loaded.error();
  const int64_t first_base = _segments.begin()->first;
  int64_t from = loaded->value_or(first_base);
  // Snapshots of segments already gone (an interrupted delete) are of no further use.
  _producers.delete_snapshots_below(std::min(from, first_base));
  from = std::max(from, first_base);
  if (from < leo) {
    result<void> index_error = ok();
    producer_replay feed(_producers, rebuild_txn_from, [&](const aborted_txn& e) {
      auto it = _segments.upper_bound(e.last_offset);
      SLUICE_ASSERT(it != _segments.begin(), "marker {} below the first segment", e.last_offset);
      if (auto r = std::prev(it)->second->aborted_txns().append(e); !r && index_error) index_error = r;
    });
    if (auto r = replay(from, feed); !r) return r;
    if (!index_error) return index_error;
  }
  if (!_producers.producers().empty() || loaded->has_value())
    logger().debug("{}: producer state for {} producer(s) from snapshot {} + log [{}, {})", _tp, _producers.size(),
                   loaded->value_or(-1), from, leo);
  return ok();
}

void log::recompute_size() {
  uint64_t total = 0;
  for (auto& [b, s] : _segments) total += s->size();
  _size_bytes = total;
}

int64_t log::next_base_after(int64_t base) const {
  auto it = _segments.upper_bound(base);
  return it == _segments.end() ? INT64_MAX : it->first;
}

std::vector<int64_t> log::segment_base_offsets() const {
  std::vector<int64_t> v;
  for (auto& [b, s] : _segments) v.push_back(b);
  return v;
}

void log::set_config(const log_config& c) {
  bool jitter_changed = c.segment_jitter_ms != _cfg.segment_jitter_ms;
  _cfg = c;
  if (jitter_changed) draw_roll_jitter();
}

void log::set_dir(std::string dir) {
  _dir = std::move(dir);
  _producers.set_dir(_dir);
}

int64_t log::set_high_watermark(int64_t hw) {
  int64_t v = clamp64(hw, _log_start, _leo);
  _hw = v;
  update_lso();
  return v;
}

void log::update_lso() {
  const int64_t hw = _hw;
  const int64_t first_unstable = _producers.first_unstable_offset().value_or(INT64_MAX);
  _lso = clamp64(std::min(first_unstable, hw), _log_start, hw);
}

std::vector<aborted_txn> log::collect_aborted_txns(int64_t fetch_offset, int64_t upper_bound_offset) const {
  std::vector<aborted_txn> out;
  auto it = _segments.upper_bound(fetch_offset);
  if (it != _segments.begin()) --it;
  for (; it != _segments.end(); ++it)
    if (it->second->aborted_txns().collect(fetch_offset, upper_bound_offset, out)) break;
  return out;
}

// ---- append ----

result<void> log::roll(int64_t new_base) {
  segment& cur = active();
  if (cur.empty()) {
    if (cur.base_offset() == new_base) return ok();
    if (auto r = remove_segment(cur.base_offset(), false); !r) return r;
  } else {
    SLUICE_ASSERT(new_base > cur.base_offset(), "roll to {} not above {}", new_base, cur.base_offset());
    if (auto r = cur.on_become_inactive(); !r) return r;
    _indexes_to_sync.push_back(cur.base_offset());
  }
  auto s = segment::create(_fs, _dir, new_base, seg_cfg(), now_ms());
  if (!s) return s.error();
  _segments.emplace(new_base, std::move(*s));
  _dir_dirty = true;
  draw_roll_jitter();
  // Producer state as of the new segment's base: a restart replays only the log after it.
  // Losing it costs replay time, not correctness, so a failure is only logged.
  if (auto r = _producers.take_snapshot(new_base); !r)
    logger().warn("{}: cannot write producer snapshot at {}: {}", _tp, new_base, r.error().message());
  _roll_flush_upto = std::max(_roll_flush_upto, new_base);
  logger().debug("{}: rolled new segment at {}", _tp, new_base);
  return ok();
}

result<void> log::force_roll() {
  if (_failed) return errc::log_failed;
  if (active().empty()) return ok();
  return roll(_leo);
}

result<void> log::maybe_roll(uint64_t bytes, int64_t base_offset, int64_t last_offset, int64_t max_timestamp,
                             bool& rolled) {
  segment::roll_check c{_cfg.segment_bytes, _cfg.segment_ms, _roll_jitter_ms, now_ms()};
  auto need = active().should_roll(bytes, last_offset, max_timestamp, c);
  if (!need) return need.error();
  if (!*need && !(active().empty() && active().base_offset() != base_offset)) return ok();
  rolled = true;
  return roll(base_offset);
}

result<append_result> log::append(std::span<uint8_t> bytes, int32_t leader_epoch, const append_options& opts) {
  if (_failed) return errc::log_failed;
  int64_t offset = _leo;
  int64_t now = opts.now_ms.value_or(now_ms());
  bool append_time = _cfg.message_timestamp_type == timestamp_type::log_append_time;
  // Frame and stamp every batch first; nothing touches the disk until all are accepted.
  size_t pos = 0;
  _metas.clear();
  _producer_batches.clear();
  while (pos < bytes.size()) {
    auto size = model::peek_batch_size(bytes.subspan(pos), bytes.size() - pos);
    if (!size || *size < L::header_size) return errc::corrupt_batch;
    if (*size > static_cast<size_t>(_cfg.max_message_bytes)) return errc::message_too_large;
    auto b = bytes.subspan(pos, *size);
    int32_t delta = load_be<int32_t>(b.data() + L::last_offset_delta);
    if (delta < 0) return errc::corrupt_batch;
    if (opts.check_producer_state) {
      model::batch_view v(b);
      if (v.is_control()) {
        // Only the broker writes control batches (append_txn_marker); each must be a marker.
        auto m = model::parse_txn_marker(v);
        if (!m || v.producer_id() == no_producer_id) return errc::corrupt_batch;
        if (auto r = _producers.check_marker(v.producer_id(), v.producer_epoch(), m->coordinator_epoch); !r)
          return r.error();
      } else if (v.producer_id() != no_producer_id) {
        auto info = producer_batch_info::of(v);
        info.first_offset = offset;
        info.last_offset = offset + delta;
        _producer_batches.push_back(info);
      }
    }
    model::set_base_offset(b, offset);
    model::set_partition_leader_epoch(b, leader_epoch);
    if (append_time) model::set_log_append_time(b, now);
    _metas.push_back({offset, offset + delta, load_be<int64_t>(b.data() + L::max_timestamp),
                      static_cast<uint32_t>(*size)});
    offset += static_cast<int64_t>(delta) + 1;
    pos += *size;
  }
  if (_metas.empty()) return errc::corrupt_batch;
  if (!_producer_batches.empty()) {
    auto checked = _producers.check_client_batches(_producer_batches);
    if (!checked) return checked.error();
    if (*checked) {
      const producer_batch& dup = **checked;
      append_result res;
      res.duplicate = true;
      res.base_offset = dup.first_offset;
      res.last_offset = dup.last_offset;
      res.max_timestamp = dup.max_timestamp;
      res.log_start_offset = _log_start;
      return res;
    }
  }
  auto r = append_framed(bytes, leader_epoch);
  if (r && append_time) r->log_append_time_ms = now;
  return r;
}

result<append_result> log::append_as_follower(std::span<const uint8_t> bytes) {
  if (_failed) return errc::log_failed;
  size_t pos = 0;
  int64_t expected = _leo;
  _metas.clear();
  while (pos < bytes.size()) {
    auto size = model::peek_batch_size(bytes.subspan(pos), bytes.size() - pos);
    if (!size || *size < L::header_size) return errc::corrupt_batch;
    model::batch_view v(bytes.subspan(pos, *size));
    if (v.last_offset_delta() < 0) return errc::corrupt_batch;
    if (v.base_offset() < expected) return errc::invalid_offset;
    // As Kafka's appendAsFollower: a batch damaged on the way (or on the leader's disk) must
    // not become a replica's data.
    if (!v.crc_ok()) return errc::corrupt_batch;
    _metas.push_back({v.base_offset(), v.last_offset(), v.max_timestamp(), static_cast<uint32_t>(*size)});
    expected = v.last_offset() + 1;
    pos += *size;
  }
  if (_metas.empty()) return errc::corrupt_batch;
  return append_framed(bytes, -1);
}

// Shared tail of both appends: _metas describes `bytes`, offsets already final.
result<append_result> log::append_framed(std::span<const uint8_t> bytes, int32_t leader_epoch) {
  if (bytes.size() > static_cast<size_t>(_cfg.segment_bytes)) return errc::message_too_large;
  append_result res;
  res.base_offset = _metas.front().base_offset;
  res.last_offset = _metas.back().last_offset;
  res.batches = static_cast<int32_t>(_metas.size());
  res.bytes = bytes.size();
  for (auto& m : _metas) res.max_timestamp = std::max(res.max_timestamp, m.max_timestamp);

  if (auto r = maybe_roll(bytes.size(), res.base_offset, res.last_offset, res.max_timestamp, res.rolled); !r) {
    logger().error("{}: roll failed: {}", _tp, r.error().message());
    return r.error();
  }
  if (auto r = active().append(bytes, _metas); !r) {
    if (r.error() == make_error_code(errc::log_failed)) _failed = true;
    logger().warn("{}: append of {} bytes at offset {} failed: {}", _tp, bytes.size(), res.base_offset,
                  r.error().message());
    return r.error();
  }
  _size_bytes += bytes.size();
  _leo = res.last_offset + 1;

  // Leader epochs: the leader stamps one epoch; a follower's batches carry theirs.
  size_t pos = 0;
  for (auto& m : _metas) {
    model::batch_view v(bytes.subspan(pos, m.size));
    int32_t e = leader_epoch >= 0 ? leader_epoch : v.partition_leader_epoch();
    if (e >= 0 && e != _epochs.latest_epoch())
      if (auto r = _epochs.assign(e, m.base_offset); !r)
        logger().warn("{}: cannot persist leader epoch {}: {}", _tp, e, r.error().message());
    if (auto done = _producers.apply(v); done && done->aborted) {
      aborted_txn e{done->producer_id, done->first_offset, done->last_offset, _producers.last_stable_offset_after(*done)};
      if (auto r = active().aborted_txns().append(e); !r) {
        // The marker is in the log but read_committed fetches would miss the abort: stop
        // writing; reopening recovers (an unclean start rebuilds the index from the log).
        logger().error("{}: cannot write aborted transaction at {} to {}: {}; log failed", _tp, e.last_offset,
                       active().aborted_txns().path(), r.error().message());
        _failed = true;
      }
    }
    if (_observer) _observer->on_append(v);
    pos += m.size;
  }
  update_lso();
  res.log_start_offset = _log_start;

  if (_cfg.flush_messages_enabled() && _leo - _recovery_point >= _cfg.flush_messages) {
    if (auto r = flush(); !r) return r.error();  // the data is in the log; durability failed
    res.flushed = true;
  }
  return res;
}

// ---- read ----

result<read_result> log::read(int64_t fetch_offset, int32_t max_bytes, int64_t max_offset_exclusive,
                              bool min_one_batch) {
  read_result res;
  res.log_start_offset = _log_start;
  res.log_end_offset = _leo;
  res.high_watermark = _hw;
  res.last_stable_offset = _lso;
  if (fetch_offset < res.log_start_offset || fetch_offset > res.log_end_offset) return errc::offset_out_of_range;
  int64_t limit = std::min(max_offset_exclusive, res.log_end_offset);
  if (fetch_offset >= limit) return res;
  uint64_t budget = max_bytes < 0 ? 0 : static_cast<uint64_t>(max_bytes);
  auto it = _segments.upper_bound(fetch_offset);
  if (it != _segments.begin()) --it;
  int64_t target = fetch_offset;
  bool done = false;
  for (; it != _segments.end() && !done; ++it) {
    segment& s = *it->second;
    int64_t next_base = next_base_after(s.base_offset());
    auto h = s.find(target, next_base);
    if (!h) return h.error();
    std::optional<batch_header> cur = *h;
    uint64_t start = cur ? cur->position : 0;
    uint64_t len = 0;
    while (cur) {
      if (cur->last_offset >= limit) { done = true; break; }
      bool first = res.size_bytes == 0;
      if (res.size_bytes + cur->size > budget && !(min_one_batch && first)) { done = true; break; }
      if (first) res.first_batch_offset = cur->base_offset;
      len += cur->size;
      res.size_bytes += cur->size;
      res.next_offset = cur->last_offset + 1;
      auto nh = s.read_header(cur->position + cur->size);
      if (!nh) return nh.error();
      cur = *nh;
    }
    if (len > 0) {
      const auto& f = s.log_file();
      res.ranges.push_back(file_range{f, f->fd(), start, static_cast<uint32_t>(len)});
    }
    target = next_base;
  }
  return res;
}

result<std::optional<timestamp_lookup>> log::offset_for_timestamp(int64_t ts) {
  using out = std::optional<timestamp_lookup>;
  auto epoch_of = [&](int64_t off) { return _epochs.epoch_for_offset(off).value_or(-1); };
  if (ts == list_offsets_earliest) return out(timestamp_lookup{_log_start, -1, epoch_of(_log_start)});
  if (ts == list_offsets_latest) return out(timestamp_lookup{_leo, -1, _epochs.latest_epoch()});
  if (ts < 0 && ts != list_offsets_max_timestamp) return errc::invalid_argument;

  segment* seg = nullptr;
  if (ts == list_offsets_max_timestamp) {
    for (auto& [b, s] : _segments)
      if (s->max_timestamp() >= 0 && (!seg || s->max_timestamp() > seg->max_timestamp())) seg = s.get();
  } else {
    for (auto& [b, s] : _segments)
      if (s->max_timestamp() >= ts) { seg = s.get(); break; }
  }
  if (!seg) return out{};
  int64_t next_base = next_base_after(seg->base_offset());
  if (auto r = seg->ensure_indexes(next_base); !r) return r.error();
  // Start from the batch the index points at, then find the batch that qualifies.
  int64_t from_offset = ts == list_offsets_max_timestamp ? seg->offset_of_max_timestamp()
                                                          : seg->times().lookup(ts).offset;
  int64_t want_ts = ts == list_offsets_max_timestamp ? seg->max_timestamp() : ts;
  auto h = seg->find(std::max(from_offset, _log_start.load()), next_base);
  if (!h) return h.error();
  std::optional<batch_header> cur = *h;
  while (cur && cur->max_timestamp < want_ts) {
    auto nh = seg->read_header(cur->position + cur->size);
    if (!nh) return nh.error();
    cur = *nh;
  }
  if (!cur) return out{};
  std::vector<uint8_t> buf(cur->size);
  auto n = seg->log_file()->pread(cur->position, buf);
  if (!n) return n.error();
  if (*n != buf.size()) return errc::corrupt_batch;
  model::batch_view v(buf);
  std::optional<std::pair<int64_t, int64_t>> found;
  if (v.codec() == model::compression::none) {
    found = search_records(v, ts, _log_start);
  } else if (_resolver) {
    found = _resolver(v, ts);
  } else {
    found = std::pair{ts == list_offsets_max_timestamp ? v.last_offset() : std::max(v.base_offset(), _log_start.load()),
                      v.max_timestamp()};
  }
  if (!found) return out{};
  return out(timestamp_lookup{found->first, found->second, epoch_of(found->first)});
}

// ---- truncation, log start ----

result<void> log::remove_segment(int64_t base, bool async) {
  auto it = _segments.find(base);
  SLUICE_ASSERT(it != _segments.end(), "no segment {}", base);
  std::unique_ptr<segment> s = std::move(it->second);
  _segments.erase(it);
  _producers.delete_snapshot(base);  // the state before this segment goes with it
  if (auto r = s->rename_for_delete(); !r) return r;
  _dir_dirty = true;
  std::vector<std::string> paths;
  for (auto& p : s->file_paths()) paths.push_back(p + std::string(segment::deleted_suffix));
  if (async && _cfg.file_delete_delay_ms > 0) {
    _pending_deletes.push_back({_clock.monotonic_ms() + _cfg.file_delete_delay_ms, std::move(paths)});
  } else {
    for (auto& p : paths) (void)_fs.unlink(p);
  }
  return ok();
}

void log::update_log_start(int64_t offset) {
  if (offset <= _log_start) return;
  _log_start = offset;
  if (_hw < offset) _hw = offset;
  update_lso();
  if (_recovery_point < offset) _recovery_point = offset;
  if (auto r = _epochs.truncate_from_start(offset); !r)
    logger().warn("{}: cannot persist leader epochs: {}", _tp, r.error().message());
  if (_observer) _observer->on_log_start_offset(offset);
}

result<void> log::truncate_to(int64_t offset) {
  if (_failed) return errc::log_failed;
  if (offset < 0) return errc::invalid_argument;
  if (offset >= _leo) {
    // Nothing to cut, but an epoch entry may start at the end of the log: this broker led an
    // epoch and appended nothing in it before another leader took over. Left in place, it
    // would be the follower's last_fetched_epoch and make the leader report the same
    // divergence forever (Kafka's UnifiedLog.truncateTo does the same).
    return _epochs.truncate_from_end(_leo);
  }
  if (offset < _segments.begin()->first) return truncate_fully_and_start_at(offset);
  std::vector<int64_t> later;
  for (auto it = _segments.upper_bound(offset); it != _segments.end(); ++it) later.push_back(it->first);
  // The segment that will hold the new end: the last one starting at or below offset.
  for (auto b : later)
    if (auto r = remove_segment(b, true); !r) return r;
  segment& s = active();
  auto removed = s.truncate_to(offset);
  if (!removed) {
    _failed = true;
    return removed.error();
  }
  if (auto r = s.make_active(); !r) return r;
  auto next = s.next_offset(INT64_MAX);
  if (!next) return next.error();
  int64_t leo = *next;
  logger().info("{}: truncated to {} (log end offset {} -> {})", _tp, offset, _leo.load(), leo);
  _leo = leo;
  if (_log_start > leo) _log_start = leo;
  if (_hw > leo) _hw = leo;
  if (_lso > leo) _lso = leo;
  if (_recovery_point > leo) _recovery_point = leo;
  if (_roll_flush_upto > leo) _roll_flush_upto = -1;
  if (auto r = _epochs.truncate_from_end(leo); !r) return r;
  recompute_size();
  // Producer state as it was at the new end: from the newest snapshot at or below it.
  if (auto r = load_producer_state(); !r) {
    _failed = true;
    return r;
  }
  update_lso();
  if (_observer) _observer->on_truncate(leo);
  return ok();
}

result<void> log::truncate_fully_and_start_at(int64_t offset) {
  if (offset < 0) return errc::invalid_argument;
  std::vector<int64_t> all = segment_base_offsets();
  for (auto b : all)
    if (auto r = remove_segment(b, true); !r) return r;
  auto s = segment::create(_fs, _dir, offset, seg_cfg(), now_ms());
  if (!s) {
    _failed = true;
    return s.error();
  }
  _segments.emplace(offset, std::move(*s));
  _dir_dirty = true;
  _leo = offset;
  _log_start = offset;
  _hw = offset;
  _lso = offset;
  _recovery_point = offset;
  _roll_flush_upto = -1;
  if (auto r = _epochs.clear(); !r) return r;
  recompute_size();
  _producers.delete_snapshots_above(-1);
  _producers.clear();
  if (_observer) {
    _observer->on_truncate(offset);
    _observer->on_log_start_offset(offset);
  }
  return ok();
}

result<int64_t> log::delete_records_before(int64_t offset) {
  if (_failed) return errc::log_failed;
  if (offset > _hw) return errc::offset_out_of_range;
  if (offset > _log_start) {
    update_log_start(offset);
    auto r = delete_oldest([&](segment&, int64_t upper) { return upper <= _log_start; }, "log start offset");
    if (!r) return r.error();
  }
  return _log_start.load();
}

// ---- retention ----

result<size_t> log::delete_oldest(const std::function<bool(segment&, int64_t)>& pred, const char* reason) {
  std::vector<int64_t> victims;
  for (auto it = _segments.begin(); it != _segments.end(); ++it) {
    auto next = std::next(it);
    int64_t upper = next == _segments.end() ? _leo.load() : next->first;
    bool last_and_empty = next == _segments.end() && it->second->empty();
    if (last_and_empty || _hw < upper || !pred(*it->second, upper)) break;
    victims.push_back(it->first);
  }
  if (victims.empty()) return size_t{0};
  if (victims.size() == _segments.size()) {
    // Everything goes: keep an empty active segment at LEO so appends continue.
    if (auto r = roll(_leo); !r) return r.error();
  }
  for (auto b : victims) {
    logger().info("{}: deleting segment {} ({})", _tp, b, reason);
    if (auto r = remove_segment(b, true); !r) return r.error();
  }
  update_log_start(_segments.begin()->first);
  recompute_size();
  return victims.size();
}

result<void> log::enforce_retention() {
  if (_failed) return errc::log_failed;
  if (_cfg.cleanup_policy_delete) {
    if (_cfg.retention_ms >= 0) {
      int64_t now = now_ms();
      auto r = delete_oldest(
          [&](segment& s, int64_t) {
            int64_t ts = s.max_timestamp();
            if (ts < 0) {  // no timestamps in the segment: Kafka falls back to the file's mtime
              auto m = _fs.mtime_ms(s.log_path());
              ts = m ? *m : now;
            }
            return now - ts > _cfg.retention_ms;
          },
          "retention.ms");
      if (!r) return r.error();
    }
    if (_cfg.retention_bytes >= 0) {
      int64_t diff = static_cast<int64_t>(size_bytes()) - _cfg.retention_bytes;
      auto r = delete_oldest(
          [&](segment& s, int64_t) {
            if (diff - static_cast<int64_t>(s.size()) < 0) return false;
            diff -= static_cast<int64_t>(s.size());
            return true;
          },
          "retention.bytes");
      if (!r) return r.error();
    }
  }
  auto r = delete_oldest([&](segment&, int64_t upper) { return upper <= _log_start; }, "log start offset");
  if (!r) return r.error();
  return ok();
}

// ---- flush ----

result<void> log::flush_up_to(int64_t offset) {
  offset = std::min<int64_t>(offset, _leo);
  if (offset <= _recovery_point) return ok();
  // Rolled segments whose log bytes may already be below the recovery point still need their
  // trimmed indexes made durable before the recovery point moves past them.
  for (int64_t b : _indexes_to_sync) {
    auto s = _segments.find(b);
    if (s == _segments.end() || b >= offset) continue;
    if (auto r = s->second->flush(true); !r) {
      _failed = true;
      return r;
    }
  }
  std::erase_if(_indexes_to_sync, [&](int64_t b) { return b < offset || !_segments.count(b); });
  auto it = _segments.upper_bound(_recovery_point.load());
  if (it != _segments.begin()) --it;
  for (; it != _segments.end() && it->first < offset; ++it) {
    if (auto r = it->second->flush(!it->second->active()); !r) {
      // After a failed fsync the page cache may have dropped the dirty pages (Linux): what is
      // on disk is unknown, so the log stops accepting writes until it is reopened/recovered.
      logger().error("{}: fsync of {} failed: {}; log failed", _tp, it->second->log_path(), r.error().message());
      _failed = true;
      return r;
    }
  }
  if (_dir_dirty) {
    if (auto r = _fs.fsync_dir(_dir); !r) return r;
    _dir_dirty = false;
  }
  _recovery_point = offset;
  _last_flush_mono_ms = _clock.monotonic_ms();
  return ok();
}

result<void> log::flush() {
  if (_failed) return errc::log_failed;
  return flush_up_to(_leo);
}

result<void> log::run_periodic() {
  if (_failed) return errc::log_failed;
  int64_t now = _clock.monotonic_ms();
  if (_roll_flush_upto > _recovery_point) {
    if (auto r = flush_up_to(_roll_flush_upto); !r) return r;
  }
  if (_cfg.flush_ms_enabled() && now >= _next_flush_check_mono_ms) {
    if (_leo > _recovery_point && now - _last_flush_mono_ms >= _cfg.flush_ms)
      if (auto r = flush(); !r) return r;
    _next_flush_check_mono_ms =
        _opts.flush_scheduler_interval_ms == long_max ? now : now + _opts.flush_scheduler_interval_ms;
  }
  if (now >= _next_producer_expiry_check_mono_ms) {
    _next_producer_expiry_check_mono_ms = now + _opts.producer_id_expiration_check_interval_ms;
    if (size_t n = _producers.remove_expired(now_ms()); n > 0)
      logger().info("{}: {} producer id(s) expired (producer.id.expiration.ms)", _tp, n);
  }
  if (now >= _next_retention_check_mono_ms) {
    _next_retention_check_mono_ms = now + _opts.retention_check_interval_ms;
    if (auto r = enforce_retention(); !r) return r;
  }
  if (!_pending_deletes.empty()) {
    std::erase_if(_pending_deletes, [&](const pending_delete& d) {
      if (d.due_mono_ms > now) return false;
      for (auto& p : d.paths) (void)_fs.unlink(p);
      return true;
    });
  }
  return ok();
}

result<void> log::close() {
  if (_failed) return errc::log_failed;
  if (auto r = flush(); !r) return r;
  // Trim the active segment's indexes and make them durable: a clean start reads them as is.
  segment& s = active();
  if (auto r = s.on_become_inactive(); !r) return r;
  if (auto r = s.flush(true); !r) return r;
  // Producer state at the end: the next start loads it and replays nothing.
  if (auto r = _producers.take_snapshot(_leo); !r) return r;
  _failed = true;  // closed: every later mutation fails with log_failed
  for (auto& d : _pending_deletes)
    for (auto& p : d.paths) (void)_fs.unlink(p);
  _pending_deletes.clear();
  return ok();
}

result<void> log::replay(int64_t from_offset, batch_observer& o) {
  auto it = _segments.upper_bound(from_offset);
  if (it != _segments.begin()) --it;
  for (; it != _segments.end(); ++it) {
    segment& s = *it->second;
    auto h = s.find(from_offset, next_base_after(s.base_offset()));
    if (!h) return h.error();
    if (!*h) continue;
    batch_reader r(*s.log_file(), (*h)->position, s.size(), recovery_max_batch_bytes);
    while (true) {
      std::span<const uint8_t> bytes;
      auto st = r.next(bytes);
      if (!st) return st.error();
      if (*st != frame_status::batch) break;
      model::batch_view v(bytes);
      if (v.last_offset() >= from_offset) o.on_append(v);
    }
  }
  return ok();
}

}  // namespace sluice::storage
