#include "storage/leader_epoch_cache.h"

#include <gtest/gtest.h>

#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

struct LeaderEpochCache : ::testing::Test {
  test::temp_dir d;
  leader_epoch_cache c{posix_file_system::instance(), d.sub("leader-epoch-checkpoint")};
};

TEST_F(LeaderEpochCache, AssignPersistsInKafkaFormat) {
  ASSERT_TRUE(c.assign(0, 0));
  ASSERT_TRUE(c.assign(0, 10));  // same epoch later: no change
  ASSERT_TRUE(c.assign(2, 15));
  auto bytes = test::read_all(c.path());
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "0\n2\n0 0\n2 15\n");
  leader_epoch_cache again(posix_file_system::instance(), c.path());
  ASSERT_TRUE(again.load());
  EXPECT_EQ(again.entries(), c.entries());
}

TEST_F(LeaderEpochCache, AssignDropsNonMonotonicEntries) {
  ASSERT_TRUE(c.assign(1, 0));
  ASSERT_TRUE(c.assign(3, 20));
  ASSERT_TRUE(c.assign(2, 10));  // removes epoch 3 (epoch >= 2)
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{1, 0}, {2, 10}}));
  ASSERT_TRUE(c.assign(4, 5));  // removes epoch 2 (start >= 5)
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{1, 0}, {4, 5}}));
}

TEST_F(LeaderEpochCache, EndOffsetForEpoch) {
  ASSERT_TRUE(c.assign(1, 0));
  ASSERT_TRUE(c.assign(3, 20));
  ASSERT_TRUE(c.assign(5, 30));
  EXPECT_EQ(c.end_offset_for(5, 42), std::make_pair(5, int64_t{42}));  // latest: LEO
  EXPECT_EQ(c.end_offset_for(3, 42), std::make_pair(3, int64_t{30}));
  EXPECT_EQ(c.end_offset_for(4, 42), std::make_pair(3, int64_t{30}));  // unknown epoch: floor's epoch
  EXPECT_EQ(c.end_offset_for(0, 42), std::make_pair(0, int64_t{0}));   // older than all
  EXPECT_EQ(c.end_offset_for(6, 42), std::make_pair(-1, int64_t{-1})); // newer than all
  EXPECT_EQ(c.end_offset_for(-1, 42), std::make_pair(-1, int64_t{-1}));
  EXPECT_EQ(c.epoch_for_offset(25), 3);
  EXPECT_EQ(c.epoch_for_offset(30), 5);
}

TEST_F(LeaderEpochCache, TruncateFromEndAndStart) {
  ASSERT_TRUE(c.assign(1, 0));
  ASSERT_TRUE(c.assign(3, 20));
  ASSERT_TRUE(c.assign(5, 30));
  ASSERT_TRUE(c.truncate_from_end(30));
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{1, 0}, {3, 20}}));
  ASSERT_TRUE(c.truncate_from_start(25));
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{3, 25}}));
  leader_epoch_cache again(posix_file_system::instance(), c.path());
  ASSERT_TRUE(again.load());
  EXPECT_EQ(again.entries(), c.entries());
}

}  // namespace
}  // namespace sluice::storage
