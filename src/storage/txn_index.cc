#include "storage/txn_index.h"

#include "base/endian.h"
#include "storage/errc.h"

namespace sluice::storage {

void txn_index::encode(const aborted_txn& e, uint8_t* out) {
  store_be<int16_t>(out, version);
  store_be<int64_t>(out + 2, e.producer_id);
  store_be<int64_t>(out + 10, e.first_offset);
  store_be<int64_t>(out + 18, e.last_offset);
  store_be<int64_t>(out + 26, e.last_stable_offset);
}

result<std::vector<aborted_txn>> txn_index::decode(std::span<const uint8_t> bytes) {
  std::vector<aborted_txn> out;
  out.reserve(bytes.size() / entry_size);
  for (size_t pos = 0; pos + entry_size <= bytes.size(); pos += entry_size) {
    const uint8_t* p = bytes.data() + pos;
    if (load_be<int16_t>(p) != version) return errc::corrupt_checkpoint;
    aborted_txn e{load_be<int64_t>(p + 2), load_be<int64_t>(p + 10), load_be<int64_t>(p + 18), load_be<int64_t>(p + 26)};
    if (e.first_offset < 0 || e.last_offset < e.first_offset) return errc::corrupt_checkpoint;
    if (!out.empty() && e.last_offset <= out.back().last_offset) return errc::corrupt_checkpoint;
    out.push_back(e);
  }
  return out;
}

result<void> txn_index::load() {
  _entries.clear();
  if (!_fs.exists(_path)) return ok();
  auto bytes = read_file(_fs, _path);
  if (!bytes) return bytes.error();
  auto decoded = decode(*bytes);
  if (!decoded) return decoded.error();
  _entries = std::move(*decoded);
  if (bytes->size() % entry_size != 0) {
    // A torn last entry: cut it so the next append lands on an entry boundary.
    if (auto r = open_file(); !r) return r;
    if (auto r = _file->truncate(_entries.size() * entry_size); !r) return r;
  }
  return ok();
}

result<void> txn_index::open_file() {
  if (_file) return ok();
  auto f = _fs.open(_path, open_mode::create);
  if (!f) return f.error();
  _file = std::move(*f);
  return ok();
}

result<void> txn_index::append(const aborted_txn& e) {
  if (!_entries.empty() && e.last_offset <= _entries.back().last_offset) return errc::invalid_offset;
  if (auto r = open_file(); !r) return r;
  uint8_t buf[entry_size];
  encode(e, buf);
  if (auto r = _file->pwrite(_entries.size() * entry_size, std::span<const uint8_t>(buf, entry_size)); !r) return r;
  _entries.push_back(e);
  return ok();
}

result<void> txn_index::truncate_to(int64_t offset) {
  size_t keep = 0;
  while (keep < _entries.size() && _entries[keep].last_offset < offset) ++keep;
  if (keep == _entries.size()) return ok();
  if (auto r = open_file(); !r) return r;
  if (auto r = _file->truncate(keep * entry_size); !r) return r;
  _entries.resize(keep);
  return ok();
}

result<void> txn_index::reset() {
  _entries.clear();
  _file.reset();
  if (_fs.exists(_path))
    if (auto r = _fs.unlink(_path); !r) return r;
  return ok();
}

result<void> txn_index::flush() {
  if (!_file) return ok();
  return _file->fsync();
}

bool txn_index::collect(int64_t fetch_offset, int64_t upper_bound_offset, std::vector<aborted_txn>& out) const {
  for (const auto& e : _entries) {
    if (e.last_offset >= fetch_offset && e.first_offset < upper_bound_offset) out.push_back(e);
    if (e.last_stable_offset >= upper_bound_offset) return true;
  }
  return false;
}

}  // namespace sluice::storage
