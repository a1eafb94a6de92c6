#include "storage/test_utils.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "base/crc32c.h"
#include "base/endian.h"

namespace sluice::storage::test {

temp_dir::temp_dir() {
  static std::mt19937_64 rng(std::random_device{}());
  auto base = std::filesystem::temp_directory_path();
  _path = (base / fmt::format("sluice-storage-{}-{:x}", ::getpid(), rng())).string();
  std::filesystem::create_directories(_path);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(_path, ec);
}

std::vector<uint8_t> make_batch(int records, size_t value_bytes, int64_t ts, int64_t base_offset, int32_t epoch) {
  std::vector<model::record_data> recs;
  for (int i = 0; i < records; ++i) {
    model::record_data r;
    r.key = fmt::format("k{}", i);
    r.value = std::string(value_bytes, static_cast<char>('a' + i % 26));
    r.timestamp_ms = ts + i;
    recs.push_back(std::move(r));
  }
  model::batch_options o;
  o.base_offset = base_offset;
  o.partition_leader_epoch = epoch;
  return model::build_batch(recs, o);
}

void set_max_timestamp(std::vector<uint8_t>& b, int64_t ts) {
  namespace L = model::batch_layout;
  store_be<int64_t>(b.data() + L::max_timestamp, ts);
  store_be<uint32_t>(b.data() + L::crc, crc32c(b.data() + L::attributes, b.size() - L::attributes));
}

log_fixture::log_fixture(const std::string& d, log_config c, file_system* f)
    : dir(d), cfg(c), fs(f ? f : &posix_file_system::instance()) {
  auto r = reopen();
  SLUICE_ASSERT(r.has_value(), "open failed: {}", r.error().message());
}

result<void> log_fixture::reopen(bool clean_shutdown, int64_t recovery_point) {
  int64_t rp = recovery_point;
  if (rp < 0 && l) rp = l->recovery_point();
  if (rp < 0) rp = 0;
  l.reset();
  log_options o;
  o.fs = fs;
  o.clock = &clock;
  o.dir = dir;
  o.tp = {"t", 0};
  o.config = cfg;
  o.recovery_point = rp;
  o.clean_shutdown = clean_shutdown;
  auto r = log::open(o);
  if (!r) return r.error();
  l = std::move(*r);
  return ok();
}

int64_t log_fixture::append(int records, size_t value_bytes, int64_t ts) {
  auto b = make_batch(records, value_bytes, ts);
  auto r = l->append(b, 0);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r ? r->base_offset : -1;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

uint64_t file_size(const std::string& path) { return std::filesystem::file_size(path); }

std::vector<uint8_t> range_bytes(const read_result& r) {
  std::vector<uint8_t> out;
  for (auto& fr : r.ranges) {
    size_t at = out.size();
    out.resize(at + fr.size);
    ssize_t n = ::pread(fr.fd, out.data() + at, fr.size, static_cast<off_t>(fr.offset));
    EXPECT_EQ(n, static_cast<ssize_t>(fr.size));
  }
  return out;
}

log_config small_segments() {
  log_config c;
  c.segment_bytes = 4096;
  c.index_interval_bytes = 0;
  c.segment_index_bytes = 4096;
  c.file_delete_delay_ms = 0;
  return c;
}

std::vector<uint8_t> producer_batch(int64_t id, int16_t epoch, int32_t seq, int records, size_t value_bytes,
                                    int64_t ts_ms, bool transactional) {
  std::vector<model::record_data> recs;
  for (int i = 0; i < records; ++i) {
    model::record_data r;
    r.value = std::string(value_bytes, 'v');
    r.timestamp_ms = ts_ms;
    recs.push_back(std::move(r));
  }
  model::batch_options o;
  o.producer_id = id;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  if (transactional) o.attributes = model::batch_attr::transactional;
  return model::build_batch(recs, o);
}

std::vector<std::string> files_with_extension(const std::string& dir, const std::string& extension) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == extension) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice::storage::test
