#include "coordinator/pending_writes.h"

#include <gtest/gtest.h>

#include <optional>

#include "coordinator/testing/memory_partition.h"

namespace sluice::coordinator {
namespace {

std::vector<model::record_data> one_record() {
  model::record_data r;
  r.key = "k";
  r.value = "v";
  return {r};
}

TEST(PendingWrites, CompletesOnReplicationOrAppendFailure) {
  auto log = std::make_shared<testing::memory_log>();
  testing::memory_partition store(log);
  pending_writes w;
  std::optional<std::error_code> got;
  w.write(store, one_record(), [&](std::error_code e) { got = e; });
  ASSERT_TRUE(got);  // replicated at once
  EXPECT_FALSE(*got);
  EXPECT_EQ(log->records.size(), 1u);
  EXPECT_EQ(w.size(), 0u);
  log->fail = true;
  log->fail_with = write_errc::not_enough_replicas;
  got.reset();
  w.write(store, one_record(), [&](std::error_code e) { got = e; });
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, make_error_code(write_errc::not_enough_replicas));
  EXPECT_EQ(log->records.size(), 1u);
}

TEST(PendingWrites, FailAllAnswersOnceAndIgnoresLateOutcomes) {
  auto log = std::make_shared<testing::memory_log>();
  log->hold = true;
  testing::memory_partition store(log);
  pending_writes w;
  int calls = 0;
  std::error_code last;
  w.write(store, one_record(), [&](std::error_code e) { ++calls; last = e; });
  w.write(store, one_record(), [&](std::error_code e) { ++calls; last = e; });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(w.size(), 2u);
  w.fail_all(make_error_code(write_errc::not_leader));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(last, make_error_code(write_errc::not_leader));
  log->release();  // the store's late outcomes change nothing
  EXPECT_EQ(calls, 2);
}

TEST(PendingWrites, DestroyedTrackerDropsCompletions) {
  auto log = std::make_shared<testing::memory_log>();
  log->hold = true;
  testing::memory_partition store(log);
  int calls = 0;
  {
    pending_writes w;
    w.write(store, one_record(), [&](std::error_code) { ++calls; });
  }
  log->release();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace sluice::coordinator
