#include "storage/index_file.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/assert.h"

namespace sluice::storage {

result<void> index_file::ensure_open() {
  if (_file) return ok();
  auto f = _fs.open(_path, open_mode::create);
  if (!f) return f.error();
  _file = std::move(*f);
  return ok();
}

result<void> index_file::create() {
  if (auto r = ensure_open(); !r) return r;
  if (auto r = _file->truncate(0); !r) return r;
  _bytes.clear();
  _written = 0;
  _loaded = true;
  _preallocated = false;
  return preallocate();
}

result<void> index_file::preallocate() {
  if (auto r = ensure_open(); !r) return r;
  // Sparse, like Kafka's RandomAccessFile.setLength: no blocks are reserved.
  if (auto r = _file->truncate(_max_bytes); !r) return r;
  _preallocated = true;
  return ok();
}

result<void> index_file::load() {
  if (auto r = ensure_open(); !r) return r;
  auto size = _file->size();
  if (!size) return size.error();
  std::vector<uint8_t> buf(*size / _entry_size * _entry_size);
  auto n = _file->pread(0, buf);
  if (!n) return n.error();
  buf.resize(*n / _entry_size * _entry_size);
  // Stop at the preallocated zero tail: no valid entry after the first is all zeros.
  size_t count = buf.size() / _entry_size;
  for (size_t i = 1; i < count; ++i) {
    const uint8_t* e = buf.data() + i * _entry_size;
    if (std::all_of(e, e + _entry_size, [](uint8_t b) { return b == 0; })) {
      count = i;
      break;
    }
  }
  if (count == 1 && std::all_of(buf.begin(), buf.begin() + static_cast<long>(_entry_size), [](uint8_t b) { return b == 0; }))
    count = 0;
  buf.resize(count * _entry_size);
  _bytes = std::move(buf);
  _written = _bytes.size();
  _preallocated = *size > _bytes.size();
  _loaded = true;
  return ok();
}

result<void> index_file::truncate_entries(size_t n) {
  if (n >= entries()) return ok();
  _bytes.resize(n * _entry_size);
  if (_written > _bytes.size()) {
    _written = _bytes.size();
    if (auto r = ensure_open(); !r) return r;
    // Zero the dropped entries on disk: shrink, then re-extend if the file was preallocated.
    if (auto r = _file->truncate(_written); !r) return r;
    if (_preallocated)
      if (auto r = _file->truncate(_max_bytes); !r) return r;
  }
  return ok();
}

result<void> index_file::write_pending() {
  if (_written == _bytes.size()) return ok();
  if (auto r = ensure_open(); !r) return r;
  auto pending = std::span<const uint8_t>(_bytes).subspan(_written);
  if (auto r = _file->pwrite(_written, pending); !r) return r;
  _written = _bytes.size();
  return ok();
}

result<void> index_file::flush() {
  if (auto r = write_pending(); !r) return r;
  return _file ? _file->fsync() : ok();
}

result<void> index_file::trim() {
  if (auto r = write_pending(); !r) return r;
  if (auto r = ensure_open(); !r) return r;
  if (auto r = _file->truncate(_bytes.size()); !r) return r;
  _preallocated = false;
  return ok();
}

void offset_index::append(int64_t offset, uint32_t position) {
  if (auto l = last()) {
    SLUICE_ASSERT(offset > l->offset && position > l->position, "offset index append out of order: {}@{} after {}@{}",
                  offset, position, l->offset, l->position);
  }
  SLUICE_ASSERT(offset - _base >= 0 && offset - _base <= INT32_MAX, "relative offset overflow {} - {}", offset, _base);
  uint8_t e[entry_size];
  store_be<int32_t>(e, static_cast<int32_t>(offset - _base));
  store_be<uint32_t>(e + 4, position);
  _f.append_raw(e);
}

offset_position offset_index::lookup(int64_t target) const {
  size_t lo = 0, hi = entries();  // find first entry with offset > target
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (at(mid).offset <= target) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return {_base, 0};
  return at(lo - 1);
}

result<void> offset_index::truncate_to(int64_t offset) {
  size_t n = entries();
  while (n > 0 && at(n - 1).offset >= offset) --n;
  return _f.truncate_entries(n);
}

std::string offset_index::check(uint64_t log_size, int64_t next_base_offset) const {
  for (size_t i = 0; i < entries(); ++i) {
    auto e = at(i);
    if (e.offset < _base || e.offset >= next_base_offset)
      return fmt::format("entry {} offset {} outside [{}, {})", i, e.offset, _base, next_base_offset);
    if (e.position >= log_size) return fmt::format("entry {} position {} beyond log size {}", i, e.position, log_size);
    if (i > 0 && (e.offset <= at(i - 1).offset || e.position <= at(i - 1).position))
      return fmt::format("entry {} ({}@{}) not above entry {}", i, e.offset, e.position, i - 1);
  }
  return {};
}

void time_index::maybe_append(int64_t timestamp, int64_t offset, bool skip_full_check) {
  if (!skip_full_check && full()) return;
  if (auto l = last(); l && timestamp <= l->timestamp) return;
  if (timestamp < 0) return;
  SLUICE_ASSERT(offset - _base >= 0 && offset - _base <= INT32_MAX, "relative offset overflow {} - {}", offset, _base);
  uint8_t e[entry_size];
  store_be<int64_t>(e, timestamp);
  store_be<int32_t>(e + 8, static_cast<int32_t>(offset - _base));
  _f.append_raw(e);
}

timestamp_offset time_index::lookup(int64_t target) const {
  size_t lo = 0, hi = entries();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (at(mid).timestamp <= target) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return {-1, _base};
  return at(lo - 1);
}

result<void> time_index::truncate_to(int64_t offset) {
  size_t n = entries();
  while (n > 0 && at(n - 1).offset >= offset) --n;
  return _f.truncate_entries(n);
}

std::string time_index::check(int64_t next_base_offset) const {
  for (size_t i = 0; i < entries(); ++i) {
    auto e = at(i);
    if (e.offset < _base || e.offset >= next_base_offset)
      return fmt::format("entry {} offset {} outside [{}, {})", i, e.offset, _base, next_base_offset);
    if (i > 0 && (e.timestamp <= at(i - 1).timestamp || e.offset < at(i - 1).offset))
      return fmt::format("entry {} ({} -> {}) not above entry {}", i, e.timestamp, e.offset, i - 1);
  }
  return {};
}

}  // namespace sluice::storage
