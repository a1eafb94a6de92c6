#include "storage/fault_file_system.h"

#include <cerrno>

namespace sluice::storage {

class fault_file final : public file {
 public:
  fault_file(fault_file_system& fs, std::shared_ptr<file> inner, std::string path)
      : _fs(fs), _inner(std::move(inner)), _path(std::move(path)) {}

  result<void> pwrite(uint64_t offset, std::span<const uint8_t> data) override {
    std::error_code ec;
    uint64_t n = _fs.admit_write(_path, data.size(), ec);
    if (n > 0) {
      if (auto r = _inner->pwrite(offset, data.first(n)); !r) return r;
      _fs._bytes_written += n;
    }
    if (ec) return ec;
    return ok();
  }
  result<size_t> pread(uint64_t offset, std::span<uint8_t> data) const override { return _inner->pread(offset, data); }
  result<void> fsync() override {
    if (_fs._fail_fsync && _fs.applies(_path)) return std::error_code(EIO, std::system_category());
    ++_fs._fsyncs;
    if (_fs._skip_fsync) return ok();
    return _inner->fsync();
  }
  result<void> truncate(uint64_t size) override { return _inner->truncate(size); }
  result<void> allocate(uint64_t offset, uint64_t len) override {
    auto cur = _inner->size();
    if (!cur) return cur.error();
    if (offset + len > *cur) {
      std::error_code ec;
      uint64_t grow = offset + len - *cur;
      if (_fs.admit_write(_path, grow, ec) < grow || ec) return std::error_code(ENOSPC, std::system_category());
    }
    return _inner->allocate(offset, len);
  }
  result<uint64_t> size() const override { return _inner->size(); }
  int fd() const override { return _inner->fd(); }

 private:
  fault_file_system& _fs;
  std::shared_ptr<file> _inner;
  std::string _path;
};

void fault_file_system::clear_faults() {
  std::lock_guard g(_mu);
  _budget = -1;
  _tear = -1;
  _fail_fsync = false;
  _skip_fsync = false;
}

uint64_t fault_file_system::admit_write(const std::string& path, uint64_t n, std::error_code& ec) {
  std::lock_guard g(_mu);
  if (!applies(path)) return n;
  if (_tear >= 0) {
    uint64_t keep = std::min<uint64_t>(n, static_cast<uint64_t>(_tear));
    _tear = -1;
    ec = std::error_code(EIO, std::system_category());
    return keep;
  }
  if (_budget < 0) return n;
  uint64_t allowed = std::min<uint64_t>(n, static_cast<uint64_t>(_budget));
  _budget -= static_cast<int64_t>(allowed);
  if (allowed < n) ec = std::error_code(ENOSPC, std::system_category());
  return allowed;
}

result<std::shared_ptr<file>> fault_file_system::open(const std::string& path, open_mode mode) {
  auto f = _inner.open(path, mode);
  if (!f) return f.error();
  return std::shared_ptr<file>(std::make_shared<fault_file>(*this, std::move(*f), path));
}

result<void> fault_file_system::fsync_dir(const std::string& path) {
  if (_fail_fsync) return std::error_code(EIO, std::system_category());
  ++_fsyncs;
  if (_skip_fsync) return ok();
  return _inner.fsync_dir(path);
}

}  // namespace sluice::storage
