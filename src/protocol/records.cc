#include "protocol/records.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/assert.h"

namespace sluice::protocol {

records records::view(std::span<const uint8_t> bytes) {
  records r;
  r._kind = kind::view;
  r._view = bytes;
  return r;
}

records records::mutable_view(std::span<uint8_t> bytes) {
  records r = view(bytes);
  r._view_mutable = true;
  return r;
}

records records::owned(std::vector<uint8_t> bytes) {
  records r;
  r._kind = kind::owned;
  r._owned = std::move(bytes);
  return r;
}

records records::files(std::vector<file_range> ranges) {
  records r;
  r._kind = kind::files;
  r._files = std::move(ranges);
  return r;
}

uint64_t records::size_bytes() const {
  switch (_kind) {
    case kind::null: return 0;
    case kind::view: return _view.size();
    case kind::owned: return _owned.size();
    case kind::files: {
      uint64_t n = 0;
      for (const auto& f : _files) n += f.size;
      return n;
    }
  }
  return 0;
}

std::span<const uint8_t> records::data() const {
  SLUICE_ASSERT(_kind != kind::files, "records::data() on file ranges");
  if (_kind == kind::view) return _view;
  return _owned;
}

std::span<uint8_t> records::mutable_data() {
  SLUICE_ASSERT(is_mutable(), "records::mutable_data() on an immutable value");
  if (_kind == kind::owned) return _owned;
  return {const_cast<uint8_t*>(_view.data()), _view.size()};
}

std::vector<uint8_t> records::to_vector() const {
  if (_kind != kind::files) {
    auto d = data();
    return {d.begin(), d.end()};
  }
  std::vector<uint8_t> out;
  out.reserve(size_bytes());
  for (const auto& f : _files) {
    size_t base = out.size();
    out.resize(base + f.size);
    uint64_t done = 0;
    while (done < f.size) {
      ssize_t n = ::pread(f.fd, out.data() + base + done, f.size - done, static_cast<off_t>(f.offset + done));
      if (n < 0 && errno == EINTR) continue;
      SLUICE_ASSERT(n > 0, "pread of a file_range failed (fd {}, offset {})", f.fd, f.offset + done);
      done += static_cast<uint64_t>(n);
    }
  }
  return out;
}

bool records::operator==(const records& other) const {
  if (is_null() != other.is_null()) return false;
  if (is_null()) return true;
  if (!has_files() && !other.has_files()) {
    auto a = data(), b = other.data();
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  return to_vector() == other.to_vector();
}

}  // namespace sluice::protocol
