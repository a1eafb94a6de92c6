// Full disks, torn writes and failing fsyncs through the fault-injecting file system.
#include <gtest/gtest.h>

#include "storage/errc.h"
#include "storage/fault_file_system.h"
#include "storage/log.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::log_fixture;
using test::make_batch;
using test::temp_dir;

struct FaultTest : ::testing::Test {
  temp_dir d;
  fault_file_system fs{posix_file_system::instance()};
  log_config cfg() {
    log_config c;
    c.segment_bytes = 1 << 20;
    c.index_interval_bytes = 0;
    c.segment_index_bytes = 4096;
    return c;
  }
};

TEST_F(FaultTest, EnospcFailsAppendLogStaysConsistentAndRecovers) {
  log_fixture f(d.sub("t-0"), cfg(), &fs);
  for (int i = 0; i < 3; ++i) f.append();
  auto good = test::range_bytes(*f->read(0, 1 << 20, INT64_MAX, true));
  uint64_t size = f->size_bytes();
  fs.set_path_filter(".log");
  fs.set_space_budget(100);  // the next batch (~1.3 KB) does not fit: a partial write then ENOSPC
  auto b = make_batch(10, 100);
  auto r = f->append(b, 0);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == std::errc::no_space_on_device) << r.error().message();
  EXPECT_FALSE(f->failed());
  EXPECT_EQ(f->log_end_offset(), 30);
  EXPECT_EQ(f->size_bytes(), size);
  EXPECT_EQ(test::file_size(d.sub("t-0/00000000000000000000.log")), size);  // prefix cut back
  EXPECT_EQ(test::range_bytes(*f->read(0, 1 << 20, INT64_MAX, true)), good);
  fs.clear_faults();  // space freed
  auto again = f->append(b, 0);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->base_offset, 30);
  ASSERT_TRUE(f.reopen(false, 0));  // and the file recovers cleanly
  EXPECT_EQ(f->log_end_offset(), 40);
  EXPECT_EQ(f->recovery().bytes_truncated, 0u);
}

TEST_F(FaultTest, EnospcOnRollLeavesLogAppendable) {
  auto c = cfg();
  c.segment_bytes = 3000;
  log_fixture f(d.sub("t-0"), c, &fs);
  f.append(10, 100);
  f.append(10, 100);
  fs.set_space_budget(0);
  fs.set_path_filter(".log");
  auto r = f.append_batch(make_batch(10, 100), 0);  // needs a roll; the write fails
  ASSERT_FALSE(r);
  EXPECT_EQ(f->log_end_offset(), 20);
  fs.clear_faults();
  auto ok = f.append_batch(make_batch(10, 100), 0);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->base_offset, 20);
  EXPECT_EQ(f->read(20, 1 << 20, INT64_MAX, true)->first_batch_offset, 20);
}

TEST_F(FaultTest, TornWriteIsCutBack) {
  log_fixture f(d.sub("t-0"), cfg(), &fs);
  f.append();
  uint64_t size = f->size_bytes();
  fs.tear_next_write(37);
  auto r = f.append_batch(make_batch(10, 100), 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(test::file_size(d.sub("t-0/00000000000000000000.log")), size);
  EXPECT_EQ(f.append(), 10);
}

TEST_F(FaultTest, FsyncFailureFailsTheLogUntilReopened) {
  auto c = cfg();
  c.flush_messages = 1;
  log_fixture f(d.sub("t-0"), c, &fs);
  f.append();
  fs.fail_fsync(true);
  auto r = f.append_batch(make_batch(10, 100), 0);
  ASSERT_FALSE(r);  // written but not known durable: must not be acknowledged
  EXPECT_EQ(f->recovery_point(), 10);
  EXPECT_TRUE(f->failed());
  auto again = f.append_batch(make_batch(10, 100), 0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), make_error_code(errc::log_failed));
  EXPECT_TRUE(f->read(0, 1 << 20, INT64_MAX, true));  // reads still served
  fs.fail_fsync(false);
  ASSERT_TRUE(f.reopen(false, 10));  // recovery from the last good recovery point
  EXPECT_FALSE(f->failed());
  int64_t leo = f->log_end_offset();
  EXPECT_EQ(f.append(), leo);
}

}  // namespace
}  // namespace sluice::storage
