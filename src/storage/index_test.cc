#include "storage/index_file.h"

#include <gtest/gtest.h>

#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

struct IndexTest : ::testing::Test {
  test::temp_dir d;
  file_system& fs = posix_file_system::instance();
};

TEST_F(IndexTest, OffsetIndexLookupAtAndAroundEntries) {
  offset_index oi(fs, d.sub("00000000000000000100.index"), 100, 1024);
  ASSERT_TRUE(oi.file().create());
  oi.append(109, 4000);
  oi.append(119, 8000);
  oi.append(129, 12000);
  EXPECT_EQ(oi.lookup(99).position, 0u);     // before the first entry: segment start
  EXPECT_EQ(oi.lookup(108).position, 0u);    // just before an entry
  EXPECT_EQ(oi.lookup(109).position, 4000u); // exactly on an entry
  EXPECT_EQ(oi.lookup(110).position, 4000u); // just after an entry
  EXPECT_EQ(oi.lookup(128).position, 8000u);
  EXPECT_EQ(oi.lookup(129).position, 12000u);
  EXPECT_EQ(oi.lookup(1'000'000).position, 12000u);  // past the last entry
}

TEST_F(IndexTest, OffsetIndexBytesAreKafkas) {
  offset_index oi(fs, d.sub("00000000000000000100.index"), 100, 1024);
  ASSERT_TRUE(oi.file().create());
  EXPECT_EQ(test::file_size(oi.file().path()), 1024u);  // preallocated like Kafka
  oi.append(109, 4000);
  oi.append(0x10000 + 100, 0x01020304);
  ASSERT_TRUE(oi.file().trim());
  auto b = test::read_all(oi.file().path());
  EXPECT_EQ(b, (std::vector<uint8_t>{0, 0, 0, 9, 0, 0, 0x0f, 0xa0, 0, 1, 0, 0, 1, 2, 3, 4}));
}

TEST_F(IndexTest, LoadStopsAtPreallocatedZeroTail) {
  offset_index oi(fs, d.sub("00000000000000000000.index"), 0, 800);
  ASSERT_TRUE(oi.file().create());
  oi.append(5, 100);
  oi.append(9, 200);
  ASSERT_TRUE(oi.file().write_pending());  // file still 800 bytes, 784 of them zeros
  offset_index again(fs, oi.file().path(), 0, 800);
  ASSERT_TRUE(again.file().load());
  EXPECT_EQ(again.entries(), 2u);
  EXPECT_EQ(again.at(1).offset, 9);
}

TEST_F(IndexTest, FullAtMaxEntries) {
  offset_index oi(fs, d.sub("00000000000000000000.index"), 0, 20);  // rounds down to 2 entries
  ASSERT_TRUE(oi.file().create());
  oi.append(1, 10);
  EXPECT_FALSE(oi.full());
  oi.append(2, 20);
  EXPECT_TRUE(oi.full());
}

TEST_F(IndexTest, CheckFindsBrokenEntries) {
  offset_index oi(fs, d.sub("00000000000000000000.index"), 0, 800);
  ASSERT_TRUE(oi.file().create());
  oi.append(5, 100);
  oi.append(9, 200);
  EXPECT_EQ(oi.check(1000, 100), "");
  EXPECT_NE(oi.check(150, 100), "");  // position beyond log
  EXPECT_NE(oi.check(1000, 8), "");   // offset beyond next segment
}

TEST_F(IndexTest, TimeIndexAppendsOnlyIncreasingTimestamps) {
  time_index ti(fs, d.sub("00000000000000000050.timeindex"), 50, 1200);
  ASSERT_TRUE(ti.file().create());
  ti.maybe_append(1000, 59);
  ti.maybe_append(1000, 69);  // not larger: ignored
  ti.maybe_append(900, 79);   // smaller: ignored
  ti.maybe_append(2000, 89);
  ASSERT_EQ(ti.entries(), 2u);
  EXPECT_EQ(ti.lookup(999).offset, 50);   // before first: base offset
  EXPECT_EQ(ti.lookup(999).timestamp, -1);
  EXPECT_EQ(ti.lookup(1000).offset, 59);
  EXPECT_EQ(ti.lookup(1999).offset, 59);
  EXPECT_EQ(ti.lookup(5000).offset, 89);
  ASSERT_TRUE(ti.file().trim());
  auto b = test::read_all(ti.file().path());
  ASSERT_EQ(b.size(), 24u);
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 12),
            (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 9}));
}

TEST_F(IndexTest, TruncateDropsEntriesAtOrAbove) {
  offset_index oi(fs, d.sub("00000000000000000000.index"), 0, 800);
  ASSERT_TRUE(oi.file().create());
  oi.append(5, 100);
  oi.append(9, 200);
  oi.append(15, 300);
  ASSERT_TRUE(oi.file().write_pending());
  ASSERT_TRUE(oi.truncate_to(9));
  EXPECT_EQ(oi.entries(), 1u);
  offset_index again(fs, oi.file().path(), 0, 800);
  ASSERT_TRUE(again.file().load());
  EXPECT_EQ(again.entries(), 1u);
}

}  // namespace
}  // namespace sluice::storage
