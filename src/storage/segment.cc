#include "storage/segment.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

#include "base/assert.h"
#include "storage/batch_reader.h"
#include "storage/errc.h"
#include "storage/leader_epoch_cache.h"
#include "storage/logger.h"

namespace sluice::storage {

namespace L = model::batch_layout;

namespace {
// Pending index bytes written out on the append path once this much has accumulated.
constexpr size_t index_write_backlog_bytes = 64 * 1024;
}  // namespace

std::string segment_file_name(int64_t base_offset, std::string_view suffix) {
  return fmt::format("{:020d}{}", base_offset, suffix);
}

std::optional<int64_t> parse_segment_file_name(std::string_view name, std::string_view suffix) {
  if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || p != name.data() + 20 || v < 0) return std::nullopt;
  return v;
}

segment::segment(file_system& fs, std::string dir, int64_t base, const segment_config& cfg, int64_t now_ms)
    : _fs(fs),
      _dir(std::move(dir)),
      _base(base),
      _cfg(cfg),
      _oi(fs, _dir + "/" + segment_file_name(base, index_suffix), base, static_cast<size_t>(cfg.segment_index_bytes)),
      _ti(fs, _dir + "/" + segment_file_name(base, time_index_suffix), base,
          static_cast<size_t>(cfg.segment_index_bytes)),
      _txn(fs, _dir + "/" + segment_file_name(base, txn_index_suffix)),
      _created_ms(now_ms) {}

result<std::unique_ptr<segment>> segment::create(file_system& fs, const std::string& dir, int64_t base_offset,
                                                 const segment_config& cfg, int64_t now_ms) {
  std::unique_ptr<segment> s(new segment(fs, dir, base_offset, cfg, now_ms));
  auto f = fs.open(s->log_path(), open_mode::create);
  if (!f) return f.error();
  s->_log = std::move(*f);
  if (auto r = s->_log->truncate(0); !r) return r.error();
  if (cfg.preallocate)
    if (auto r = s->_log->allocate(0, static_cast<uint64_t>(cfg.segment_bytes)); !r) return r.error();
  if (auto r = s->_oi.file().create(); !r) return r.error();
  if (auto r = s->_ti.file().create(); !r) return r.error();
  if (auto r = s->_txn.reset(); !r) return r.error();  // a leftover with this base offset
  s->_next_offset = base_offset;
  s->_tail_scanned = true;
  s->_active = true;
  return s;
}

result<std::unique_ptr<segment>> segment::open(file_system& fs, const std::string& dir, int64_t base_offset,
                                               const segment_config& cfg, int64_t now_ms) {
  std::unique_ptr<segment> s(new segment(fs, dir, base_offset, cfg, now_ms));
  auto f = fs.open(s->log_path(), open_mode::read_write);
  if (!f) return f.error();
  s->_log = std::move(*f);
  auto size = s->_log->size();
  if (!size) return size.error();
  s->_size = *size;
  if (auto r = s->_txn.load(); !r) {
    if (r.error() != make_error_code(errc::corrupt_checkpoint)) return r.error();
    s->_txn_invalid = true;
    if (auto d = s->_txn.reset(); !d) return d.error();
  }
  s->_indexes_missing = !fs.exists(s->_oi.file().path()) || !fs.exists(s->_ti.file().path());
  if (s->_indexes_missing) return s;
  // The time index's last entry is the segment's max timestamp (written on roll and close).
  auto tf = fs.open(s->_ti.file().path(), open_mode::read_only);
  if (!tf) return tf.error();
  auto tsize = (*tf)->size();
  if (!tsize) return tsize.error();
  if (*tsize >= time_index::entry_size) {
    std::array<uint8_t, time_index::entry_size> e{};
    uint64_t at = *tsize / time_index::entry_size * time_index::entry_size - time_index::entry_size;
    auto n = (*tf)->pread(at, e);
    if (!n) return n.error();
    bool zero = std::all_of(e.begin(), e.end(), [](uint8_t b) { return b == 0; });
    if (zero) {  // preallocated tail: find the real last entry
      if (auto r = s->_ti.file().load(); !r) return r.error();
      if (auto l = s->_ti.last()) {
        s->_max_ts = l->timestamp;
        s->_offset_of_max_ts = l->offset;
      }
    } else {
      s->_max_ts = load_be<int64_t>(e.data());
      s->_offset_of_max_ts = base_offset + load_be<int32_t>(e.data() + 8);
    }
  }
  return s;
}

result<void> segment::ensure_indexes(int64_t next_base_offset) {
  if (_oi.file().loaded() && _ti.file().loaded()) return ok();
  std::string problem;
  if (_indexes_missing) {
    problem = "index file missing";
  } else {
    if (!_oi.file().loaded())
      if (auto r = _oi.file().load(); !r) return r;
    if (!_ti.file().loaded())
      if (auto r = _ti.file().load(); !r) return r;
    problem = _oi.check(_size, next_base_offset);
    if (problem.empty()) problem = _ti.check(next_base_offset);
  }
  if (problem.empty()) return ok();
  logger().warn("{}: rebuilding indexes: {}", log_path(), problem);
  if (auto r = _oi.file().create(); !r) return r;
  if (auto r = _ti.file().create(); !r) return r;
  _indexes_missing = false;
  _max_ts = -1;
  _offset_of_max_ts = -1;
  _bytes_since_index = 0;
  uint64_t pos = 0;
  while (true) {
    auto h = read_header(pos);
    if (!h) return h.error();
    if (!*h || (*h)->last_offset >= next_base_offset) break;
    index_batch(pos, {(*h)->base_offset, (*h)->last_offset, (*h)->max_timestamp, (*h)->size});
    pos += (*h)->size;
    _next_offset = (*h)->last_offset + 1;
  }
  return _active ? write_pending_indexes() : on_become_inactive();
}

void segment::index_batch(uint64_t position, const batch_meta& b) {
  if (position == 0) _first_batch_ts = b.max_timestamp;
  if (b.max_timestamp > _max_ts) {
    _max_ts = b.max_timestamp;
    _offset_of_max_ts = b.last_offset;
  }
  if (_bytes_since_index > static_cast<uint64_t>(_cfg.index_interval_bytes)) {
    _oi.append(b.last_offset, static_cast<uint32_t>(position));
    _ti.maybe_append(_max_ts, _offset_of_max_ts);
    _bytes_since_index = 0;
  }
  _bytes_since_index += b.size;
}

result<void> segment::append(std::span<const uint8_t> bytes, std::span<const batch_meta> batches) {
  SLUICE_ASSERT(!batches.empty(), "append of no batches");
  SLUICE_ASSERT(_tail_scanned, "append to a segment whose end was never established");
  uint64_t start = _size;
  if (auto r = _log->pwrite(start, bytes); !r) {
    // Restore the invariant "the file ends at the last whole batch" (a torn or ENOSPC write
    // may have left a prefix). Truncation needs no free space.
    if (auto t = _log->truncate(start); !t) {
      logger().error("{}: cannot cut back a failed write at {}: {}", log_path(), start, t.error().message());
      return errc::log_failed;
    }
    if (_cfg.preallocate) (void)_log->allocate(0, static_cast<uint64_t>(_cfg.segment_bytes));
    return r;
  }
  uint64_t pos = start;
  for (auto& b : batches) {
    index_batch(pos, b);
    pos += b.size;
  }
  SLUICE_ASSERT(pos == start + bytes.size(), "batch sizes {} != bytes {}", pos - start, bytes.size());
  _size = pos;
  _next_offset = batches.back().last_offset + 1;
  if (_oi.file().pending_bytes() + _ti.file().pending_bytes() >= index_write_backlog_bytes) {
    // Best effort: the in-memory entries serve lookups, and flush() reports a failure.
    (void)write_pending_indexes();
  }
  return ok();
}

result<bool> segment::should_roll(uint64_t bytes, int64_t last_offset, int64_t max_timestamp, const roll_check& c) {
  if (empty()) return false;
  if (_size + bytes > static_cast<uint64_t>(c.segment_bytes)) return true;
  if (!_first_batch_ts) {
    auto h = read_header(0);
    if (!h) return h.error();
    _first_batch_ts = *h ? (*h)->max_timestamp : -1;
  }
  int64_t waited = (*_first_batch_ts >= 0 && max_timestamp >= 0) ? max_timestamp - *_first_batch_ts
                                                                  : c.now_ms - _created_ms;
  if (waited > c.segment_ms - c.jitter_ms) return true;
  if (_oi.full() || _ti.full()) return true;
  if (last_offset - _base > INT32_MAX) return true;
  return false;
}

result<std::optional<batch_header>> segment::read_header(uint64_t position) const {
  if (position + L::header_size > _size) return std::optional<batch_header>{};
  std::array<uint8_t, L::header_size> buf;
  auto n = _log->pread(position, buf);
  if (!n) return n.error();
  if (*n < buf.size()) return std::optional<batch_header>{};
  model::batch_view v(buf);
  int32_t len = v.batch_length();
  if (len < static_cast<int32_t>(L::header_size - L::log_overhead) || position + L::log_overhead + len > _size)
    return errc::corrupt_batch;
  batch_header h;
  h.position = position;
  h.base_offset = v.base_offset();
  h.last_offset = v.last_offset();
  h.max_timestamp = v.max_timestamp();
  h.partition_leader_epoch = v.partition_leader_epoch();
  h.size = static_cast<uint32_t>(len + L::log_overhead);
  h.attributes = v.attributes();
  return std::optional<batch_header>(h);
}

result<std::optional<batch_header>> segment::find(int64_t offset, int64_t next_base_offset) {
  if (auto r = ensure_indexes(next_base_offset); !r) return r.error();
  uint64_t pos = _oi.lookup(offset).position;
  while (true) {
    auto h = read_header(pos);
    if (!h || !*h) return h;
    if ((*h)->last_offset >= offset) return h;
    pos += (*h)->size;
  }
}

result<void> segment::scan_tail(uint64_t from_position) {
  uint64_t pos = from_position;
  int64_t next = _base;
  if (from_position > 0) {
    auto h = read_header(from_position);
    if (!h) return h.error();
    if (*h) next = (*h)->base_offset;
  }
  while (true) {
    auto h = read_header(pos);
    if (!h) return h.error();
    if (!*h) break;
    if ((*h)->max_timestamp > _max_ts) {
      _max_ts = (*h)->max_timestamp;
      _offset_of_max_ts = (*h)->last_offset;
    }
    next = (*h)->last_offset + 1;
    pos += (*h)->size;
  }
  if (pos != _size) return errc::corrupt_batch;  // a partial batch at the end: needs recovery
  _next_offset = next;
  auto last = _oi.last();
  _bytes_since_index = _size - (last ? last->position : 0);
  _tail_scanned = true;
  return ok();
}

result<int64_t> segment::next_offset(int64_t next_base_offset) {
  if (_next_offset && _tail_scanned) return *_next_offset;
  if (auto r = ensure_indexes(next_base_offset); !r) return r.error();
  auto last = _oi.last();
  if (auto r = scan_tail(last ? last->position : 0); !r) return r.error();
  return *_next_offset;
}

result<recover_result> segment::recover(uint64_t max_batch_bytes, leader_epoch_cache* epochs) {
  recover_result res;
  if (auto r = _oi.file().create(); !r) return r.error();
  if (auto r = _ti.file().create(); !r) return r.error();
  if (auto r = _txn.reset(); !r) return r.error();
  _txn_invalid = false;
  _indexes_missing = false;
  _max_ts = -1;
  _offset_of_max_ts = -1;
  _bytes_since_index = 0;
  _first_batch_ts.reset();
  auto file_size = _log->size();
  if (!file_size) return file_size.error();
  batch_reader reader(*_log, 0, *file_size, max_batch_bytes);
  int64_t expected = _base;
  uint64_t valid = 0;
  while (true) {
    std::span<const uint8_t> bytes;
    auto st = reader.next(bytes);
    if (!st) return st.error();
    if (*st == frame_status::end) break;
    if (*st != frame_status::batch) {
      bool zeros = *st == frame_status::bad_length && _cfg.preallocate;
      res.reason = *st == frame_status::truncated ? "partial batch"
                   : *st == frame_status::bad_magic ? "bad magic"
                   : zeros ? "preallocated space" : "bad batch length";
      break;
    }
    model::batch_view v(bytes);
    if (!v.crc_ok()) { res.reason = "CRC-32C mismatch"; break; }
    if (v.last_offset_delta() < 0) { res.reason = "negative last offset delta"; break; }
    if (v.base_offset() < expected) {
      res.reason = fmt::format("offset {} below expected {}", v.base_offset(), expected);
      break;
    }
    if (v.last_offset() - _base > INT32_MAX) { res.reason = "offset beyond the segment's range"; break; }
    index_batch(reader.position(), {v.base_offset(), v.last_offset(), v.max_timestamp(),
                                    static_cast<uint32_t>(bytes.size())});
    if (epochs && v.partition_leader_epoch() >= 0)
      if (auto r = epochs->assign(v.partition_leader_epoch(), v.base_offset(), false); !r) return r.error();
    valid = reader.position() + bytes.size();
    expected = v.last_offset() + 1;
  }
  res.valid_bytes = valid;
  res.scanned_bytes = reader.bytes_read();
  res.truncated_bytes = *file_size - valid;
  if (res.truncated_bytes > 0) {
    if (auto r = _log->truncate(valid); !r) return r.error();
  }
  _size = valid;
  _next_offset = expected;
  _tail_scanned = true;
  return res;
}

result<uint64_t> segment::truncate_to(int64_t offset) {
  auto h = find(offset, INT64_MAX);
  if (!h) return h.error();
  if (!*h) return uint64_t{0};
  uint64_t cut = (*h)->position;
  uint64_t removed = _size - cut;
  if (auto r = _log->truncate(cut); !r) return r.error();
  if (auto r = _log->fsync(); !r) return r.error();
  if (auto r = _oi.truncate_to(offset); !r) return r.error();
  if (auto r = _ti.truncate_to(offset); !r) return r.error();
  if (auto r = _txn.truncate_to(offset); !r) return r.error();
  _size = cut;
  _first_batch_ts.reset();
  auto lt = _ti.last();
  _max_ts = lt ? lt->timestamp : -1;
  _offset_of_max_ts = lt ? lt->offset : -1;
  auto lo = _oi.last();
  if (auto r = scan_tail(lo ? lo->position : 0); !r) return r.error();
  return removed;
}

result<void> segment::write_pending_indexes() {
  if (auto r = _oi.file().write_pending(); !r) return r;
  return _ti.file().write_pending();
}

result<void> segment::flush(bool include_indexes) {
  if (auto r = _log->fsync(); !r) return r;
  if (!include_indexes) return ok();
  if (_oi.file().loaded())
    if (auto r = _oi.file().flush(); !r) return r;
  if (_ti.file().loaded())
    if (auto r = _ti.file().flush(); !r) return r;
  return _txn.flush();
}

result<void> segment::on_become_inactive() {
  _active = false;
  if (!_oi.file().loaded() || !_ti.file().loaded()) return ok();  // never touched since open
  if (_max_ts >= 0) _ti.maybe_append(_max_ts, _offset_of_max_ts, true);
  if (auto r = _oi.file().trim(); !r) return r;
  if (auto r = _ti.file().trim(); !r) return r;
  if (_cfg.preallocate)
    if (auto r = _log->truncate(_size); !r) return r;
  return ok();
}

result<void> segment::make_active() {
  _active = true;
  if (auto r = _oi.file().preallocate(); !r) return r;
  if (auto r = _ti.file().preallocate(); !r) return r;
  if (_cfg.preallocate && _size < static_cast<uint64_t>(_cfg.segment_bytes))
    if (auto r = _log->allocate(_size, static_cast<uint64_t>(_cfg.segment_bytes) - _size); !r) return r;
  return ok();
}

std::vector<std::string> segment::file_paths() const {
  return {log_path(), _oi.file().path(), _ti.file().path(), _txn.path()};
}

result<void> segment::rename_for_delete() {
  _oi.file().close();
  _ti.file().close();
  _txn.close();
  for (auto& p : file_paths()) {
    if (!_fs.exists(p)) continue;
    if (auto r = _fs.rename(p, p + std::string(deleted_suffix)); !r) return r;
  }
  return ok();
}

}  // namespace sluice::storage
