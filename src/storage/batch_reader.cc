#include "storage/batch_reader.h"

#include <cstring>

#include "model/record_batch.h"

namespace sluice::storage {

namespace L = model::batch_layout;

batch_reader::batch_reader(const file& f, uint64_t start, uint64_t end, uint64_t max_batch_bytes)
    : _f(f), _pos(start), _next(start), _end(end), _max_batch(max_batch_bytes) {}

result<bool> batch_reader::fill(size_t need) {
  if (_pos >= _buf_pos && _pos + need <= _buf_pos + _buf_len) return true;
  if (_pos + need > _end) return false;
  size_t want = std::max<size_t>(need, window_bytes);
  want = static_cast<size_t>(std::min<uint64_t>(want, _end - _pos));
  if (_buf.size() < want) _buf.resize(want);
  auto n = _f.pread(_pos, std::span(_buf.data(), want));
  if (!n) return n.error();
  _bytes_read += *n;
  _buf_pos = _pos;
  _buf_len = *n;
  return *n >= need;
}

result<frame_status> batch_reader::next(std::span<const uint8_t>& bytes) {
  _pos = _next;
  if (_pos >= _end) return frame_status::end;
  auto have = fill(L::magic + 1);
  if (!have) return have.error();
  if (!*have) return frame_status::truncated;
  const uint8_t* p = _buf.data() + (_pos - _buf_pos);
  int32_t len = load_be<int32_t>(p + L::batch_length);
  if (len < static_cast<int32_t>(L::header_size - L::log_overhead)) return frame_status::bad_length;
  uint64_t total = static_cast<uint64_t>(len) + L::log_overhead;
  if (total > _max_batch) return frame_status::bad_length;
  if (static_cast<int8_t>(p[L::magic]) != 2) return frame_status::bad_magic;
  if (total > _end - _pos) return frame_status::truncated;
  have = fill(static_cast<size_t>(total));
  if (!have) return have.error();
  if (!*have) return frame_status::truncated;
  bytes = std::span<const uint8_t>(_buf.data() + (_pos - _buf_pos), static_cast<size_t>(total));
  _next = _pos + total;
  return frame_status::batch;
}

}  // namespace sluice::storage
