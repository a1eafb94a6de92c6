// Crash test (issue 2): a child process appends continuously with an fsync per batch
// (flush.messages=1) and reports each acknowledged batch over a pipe; the parent SIGKILLs it at
// a random moment, 50 times. After every kill the parent reopens the log (recovery), checks that
// every acknowledged batch is present and byte-identical to what the child wrote, that every
// batch present is one the child wrote, and that `sluice log dump` verifies the partition.
// The sluice binary comes from $SLUICE_BIN, else the build tree (SLUICE_DEFAULT_BIN).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/logging.h"
#include "model/record_batch.h"
#include "storage/log_manager.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

constexpr int records_per_batch = 8;
constexpr int32_t epoch = 3;
const model::topic_partition tp{"crash", 0};

// Batch number n (offsets n*8 .. n*8+7) exactly as it must appear in the log.
std::vector<uint8_t> expected_batch(int64_t n) {
  std::vector<model::record_data> recs;
  std::mt19937 rng(static_cast<uint32_t>(n));
  for (int i = 0; i < records_per_batch; ++i) {
    model::record_data r;
    r.key = fmt::format("batch-{}-record-{}", n, i);
    r.value = std::string(50 + rng() % 400, static_cast<char>('a' + (n + i) % 26));
    r.timestamp_ms = 1'700'000'000'000 + n;
    recs.push_back(std::move(r));
  }
  model::batch_options o;
  o.base_offset = n * records_per_batch;
  o.partition_leader_epoch = epoch;
  return model::build_batch(recs, o);
}

log_manager_config manager_config(const std::string& dir) {
  log_manager_config c;
  c.log_dirs = {dir};
  c.default_config.flush_messages = 1;        // fsync every batch
  c.default_config.segment_bytes = 64 * 1024;  // roll often
  c.default_config.index_interval_bytes = 1024;
  c.flush_offset_checkpoint_interval_ms = 50;
  return c;
}

[[noreturn]] void run_child(const std::string& dir, int ack_fd) {
  ::sluice::log::set_level("off");
  auto m = log_manager::open(manager_config(dir), posix_file_system::instance(), system_clock::instance());
  if (!m) _exit(10);
  log* l = (*m)->get(tp);
  if (!l) {
    auto c = (*m)->create(tp, (*m)->config().default_config);
    if (!c) _exit(11);
    l = *c;
  }
  int64_t n = l->log_end_offset() / records_per_batch;
  if (l->log_end_offset() % records_per_batch != 0) _exit(12);
  while (true) {
    auto b = expected_batch(n);
    auto r = l->append(b, epoch);
    if (!r || r->base_offset != n * records_per_batch || !r->flushed) _exit(13);
    std::string ack = fmt::format("{}\n", n);
    if (::write(ack_fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) _exit(14);
    ++n;
    if (n % 16 == 0) (void)(*m)->run_periodic_tasks(true);
  }
}

std::string sluice_bin() {
  if (const char* e = std::getenv("SLUICE_BIN"); e && *e) return e;
  return SLUICE_DEFAULT_BIN;
}

TEST(StorageCrash, SigkillDuringFsyncedAppendsLosesNothingAcknowledged) {
  test::temp_dir d;
  std::string dir = d.sub("logs");
  std::mt19937 rng(std::random_device{}());
  int64_t acked_max = -1;
  int cut_rounds = 0;
  for (int round = 0; round < 50; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      run_child(dir, fds[1]);
    }
    ::close(fds[1]);
    ::usleep(20'000 + rng() % 180'000);  // let it run, then kill it mid-stream
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited on its own: " << status;
    std::string acks;
    char buf[4096];
    ssize_t k;
    while ((k = ::read(fds[0], buf, sizeof buf)) > 0) acks.append(buf, static_cast<size_t>(k));
    ::close(fds[0]);
    for (size_t p = 0, q; (q = acks.find('\n', p)) != std::string::npos; p = q + 1)
      acked_max = std::max<int64_t>(acked_max, std::stoll(acks.substr(p, q - p)));

    // Recovery, then the invariants.
    manual_clock clock;
    auto m = log_manager::open(manager_config(dir), posix_file_system::instance(), clock);
    ASSERT_TRUE(m) << m.error().message();
    log* l = (*m)->get(tp);
    if (acked_max < 0 && !l) continue;  // killed before creating the partition
    ASSERT_NE(l, nullptr);
    EXPECT_FALSE(l->recovery().clean_shutdown);
    if (l->recovery().bytes_truncated > 0) ++cut_rounds;
    ASSERT_GE(l->log_end_offset(), (acked_max + 1) * records_per_batch) << "round " << round;
    auto rd = l->read(0, INT32_MAX, INT64_MAX, true);
    ASSERT_TRUE(rd);
    auto bytes = test::range_bytes(*rd);
    size_t pos = 0;
    int64_t n = 0;
    while (pos < bytes.size()) {
      auto want = expected_batch(n);
      ASSERT_LE(pos + want.size(), bytes.size()) << "round " << round << " batch " << n;
      ASSERT_TRUE(std::equal(want.begin(), want.end(), bytes.begin() + static_cast<long>(pos)))
          << "round " << round << " batch " << n << " differs";
      pos += want.size();
      ++n;
    }
    EXPECT_EQ(n * records_per_batch, l->log_end_offset());
    m->reset();  // no shutdown(): the next child starts after an unclean stop too

    std::string out = d.sub("dump.txt");
    int rc = std::system(fmt::format("'{}' log dump -q '{}/crash-0' > '{}' 2>&1", sluice_bin(), dir, out).c_str());
    auto text = test::read_all(out);
    ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
        << "round " << round << ": sluice log dump failed:\n" << std::string(text.begin(), text.end());
  }
  EXPECT_GT(acked_max, 50) << "the child made too little progress to test anything";
  fmt::print("{} batches acknowledged over 50 kills; {} recoveries cut a torn tail\n", acked_max + 1, cut_rounds);
}

}  // namespace
}  // namespace sluice::storage
