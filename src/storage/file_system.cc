#include "storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace sluice::storage {
namespace {

std::error_code last_error() { return {errno, std::system_category()}; }

class posix_file final : public file {
 public:
  explicit posix_file(int fd) : _fd(fd) {}
  ~posix_file() override { ::close(_fd); }

  result<void> pwrite(uint64_t offset, std::span<const uint8_t> data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(_fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return last_error();
      }
      done += static_cast<size_t>(n);
    }
    return ok();
  }
  result<size_t> pread(uint64_t offset, std::span<uint8_t> data) const override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pread(_fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return last_error();
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  result<void> fsync() override {
    if (::fdatasync(_fd) != 0) return last_error();
    return ok();
  }
  result<void> truncate(uint64_t size) override {
    if (::ftruncate(_fd, static_cast<off_t>(size)) != 0) return last_error();
    return ok();
  }
  result<void> allocate(uint64_t offset, uint64_t len) override {
    int rc = ::posix_fallocate(_fd, static_cast<off_t>(offset), static_cast<off_t>(len));
    if (rc != 0) return std::error_code(rc, std::system_category());
    return ok();
  }
  result<uint64_t> size() const override {
    struct stat st;
    if (::fstat(_fd, &st) != 0) return last_error();
    return static_cast<uint64_t>(st.st_size);
  }
  int fd() const override { return _fd; }

 private:
  int _fd;
};

}  // namespace

result<std::shared_ptr<file>> posix_file_system::open(const std::string& path, open_mode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case open_mode::read_only: flags |= O_RDONLY; break;
    case open_mode::read_write: flags |= O_RDWR; break;
    case open_mode::create: flags |= O_RDWR | O_CREAT; break;
  }
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return last_error();
  return std::shared_ptr<file>(std::make_shared<posix_file>(fd));
}

result<void> posix_file_system::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return last_error();
  return ok();
}

result<void> posix_file_system::unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return last_error();
  return ok();
}

result<void> posix_file_system::mkdirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return ec;
  return ok();
}

result<void> posix_file_system::remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return ec;
  return ok();
}

result<std::vector<dir_entry>> posix_file_system::list_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return last_error();
  std::vector<dir_entry> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::stat((path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back({std::move(name), is_dir});
  }
  ::closedir(d);
  return out;
}

bool posix_file_system::exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

result<void> posix_file_system::fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) return std::error_code(saved, std::system_category());
  return ok();
}

result<int64_t> posix_file_system::mtime_ms(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return last_error();
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

posix_file_system& posix_file_system::instance() {
  static posix_file_system fs;
  return fs;
}

result<void> write_file_atomic(file_system& fs, const std::string& path, std::span<const uint8_t> data) {
  std::string tmp = path + ".tmp";
  {
    auto f = fs.open(tmp, open_mode::create);
    if (!f) return f.error();
    if (auto r = (*f)->truncate(0); !r) return r;
    if (auto r = (*f)->pwrite(0, data); !r) return r;
    if (auto r = (*f)->fsync(); !r) return r;
  }
  if (auto r = fs.rename(tmp, path); !r) return r;
  std::string dir = std::filesystem::path(path).parent_path().string();
  return fs.fsync_dir(dir.empty() ? "." : dir);
}

result<std::vector<uint8_t>> read_file(file_system& fs, const std::string& path) {
  auto f = fs.open(path, open_mode::read_only);
  if (!f) return f.error();
  auto size = (*f)->size();
  if (!size) return size.error();
  std::vector<uint8_t> buf(*size);
  auto n = (*f)->pread(0, buf);
  if (!n) return n.error();
  buf.resize(*n);
  return buf;
}

}  // namespace sluice::storage
