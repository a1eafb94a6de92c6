// Storage micro-benchmark (issue 2): append MB/s for 16 KiB and 1 MiB batches of 1 KiB records,
// buffered and with an fsync per batch, beside a plain write(2) (+ fdatasync) of the same bytes
// to the same directory; and read-by-offset MB/s (index lookup + header scan, and the same plus
// pread of the returned ranges, i.e. what sendfile would move).
// Directory: $SLUICE_BENCH_DIR (default: a fresh directory under $TMPDIR or /tmp).
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "base/clock.h"
#include "base/logging.h"
#include "model/record_batch_builder.h"
#include "storage/log.h"

namespace {

using namespace sluice;

std::string bench_root() {
  static std::string root = [] {
    const char* env = std::getenv("SLUICE_BENCH_DIR");
    std::string base = env && *env ? env : std::filesystem::temp_directory_path().string();
    std::string dir = fmt::format("{}/sluice-storage-bench-{}", base, ::getpid());
    std::filesystem::create_directories(dir);
    return dir;
  }();
  return root;
}

// One batch of `batch_bytes / 1 KiB` records with 1 KiB values (the batch is a little larger).
std::vector<uint8_t> make_batch(size_t batch_bytes) {
  std::vector<model::record_data> recs;
  for (size_t i = 0; i < batch_bytes / 1024; ++i) {
    model::record_data r;
    r.value = std::string(1024 - 16, static_cast<char>('a' + i % 26));
    r.timestamp_ms = 1'700'000'000'000;
    recs.push_back(std::move(r));
  }
  return model::build_batch(recs);
}

std::unique_ptr<storage::log> open_log(const std::string& dir, bool fsync_each) {
  std::filesystem::remove_all(dir);
  storage::log_options o;
  o.fs = &storage::posix_file_system::instance();
  o.clock = &system_clock::instance();
  o.dir = dir;
  o.tp = {"bench", 0};
  o.config.segment_bytes = 256 << 20;
  if (fsync_each) o.config.flush_messages = 1;
  auto l = storage::log::open(o);
  if (!l) std::abort();
  return std::move(*l);
}

void BM_append(benchmark::State& state, bool fsync_each) {
  size_t batch_bytes = static_cast<size_t>(state.range(0));
  auto batch = make_batch(batch_bytes);
  std::string dir = bench_root() + "/append";
  auto l = open_log(dir, fsync_each);
  ::sync();  // start from a clean page cache: no writeback of the previous run's bytes
  for (auto _ : state) {
    auto r = l->append(batch, 0);
    if (!r) state.SkipWithError(r.error().message().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  l.reset();
  std::filesystem::remove_all(dir);
}

void BM_plain_write(benchmark::State& state, bool fsync_each) {
  size_t batch_bytes = static_cast<size_t>(state.range(0));
  auto batch = make_batch(batch_bytes);
  std::string path = bench_root() + "/plain.dat";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  ::sync();
  for (auto _ : state) {
    if (::write(fd, batch.data(), batch.size()) != static_cast<ssize_t>(batch.size())) state.SkipWithError("write");
    if (fsync_each && ::fdatasync(fd) != 0) state.SkipWithError("fdatasync");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  ::close(fd);
  ::unlink(path.c_str());
}

void BM_append_buffered(benchmark::State& s) { BM_append(s, false); }
void BM_append_fsync(benchmark::State& s) { BM_append(s, true); }
void BM_plain_write_buffered(benchmark::State& s) { BM_plain_write(s, false); }
void BM_plain_write_fsync(benchmark::State& s) { BM_plain_write(s, true); }

// Reads of up to 1 MiB at random offsets of a 256 MiB log (16 KiB batches).
void BM_read_by_offset(benchmark::State& state, bool copy) {
  static std::unique_ptr<storage::log> l;
  static std::string dir = bench_root() + "/read";
  if (!l) {
    l = open_log(dir, false);
    auto batch = make_batch(16 << 10);
    while (l->size_bytes() < (256u << 20))
      if (!l->append(batch, 0)) std::abort();
  }
  std::mt19937_64 rng(42);
  std::vector<uint8_t> buf(2 << 20);
  int64_t leo = l->log_end_offset();
  uint64_t bytes = 0;
  for (auto _ : state) {
    int64_t off = static_cast<int64_t>(rng() % static_cast<uint64_t>(leo));
    auto r = l->read(off, 1 << 20, leo, true);
    if (!r) state.SkipWithError(r.error().message().c_str());
    bytes += r->size_bytes;
    if (copy)
      for (auto& fr : r->ranges) benchmark::DoNotOptimize(::pread(fr.fd, buf.data(), fr.size, static_cast<off_t>(fr.offset)));
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
void BM_read_by_offset_ranges(benchmark::State& s) { BM_read_by_offset(s, false); }
void BM_read_by_offset_pread(benchmark::State& s) { BM_read_by_offset(s, true); }

// Wall-clock rates (I/O), median of 3. Buffered: enough iterations for a stable figure without filling the disk (~512 MiB each).
BENCHMARK(BM_plain_write_buffered)->Arg(16 << 10)->Iterations(32768)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_append_buffered)->Arg(16 << 10)->Iterations(32768)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_plain_write_buffered)->Arg(1 << 20)->Iterations(512)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_append_buffered)->Arg(1 << 20)->Iterations(512)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_plain_write_fsync)->Arg(16 << 10)->Iterations(1000)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_append_fsync)->Arg(16 << 10)->Iterations(1000)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_plain_write_fsync)->Arg(1 << 20)->Iterations(100)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_append_fsync)->Arg(1 << 20)->Iterations(100)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_read_by_offset_ranges)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_read_by_offset_pread)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace

int main(int argc, char** argv) {
  sluice::log::set_level("warn");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(bench_root());
  return 0;
}
