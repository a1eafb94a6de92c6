#include "storage/log_dump.h"

#include <gtest/gtest.h>

#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::log_fixture;
using test::temp_dir;

struct DumpTest : ::testing::Test {
  temp_dir d;
  log_config cfg() {
    log_config c;
    c.segment_bytes = 3000;
    c.index_interval_bytes = 0;
    c.segment_index_bytes = 4096;
    return c;
  }
  std::pair<dump_summary, std::string> dump(const std::string& path, dump_options o = {}) {
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* out = open_memstream(&buf, &len);
    auto s = dump_path(path, o, out);
    std::fclose(out);
    std::string text(buf, len);
    free(buf);
    return {s, text};
  }
};

TEST_F(DumpTest, HealthyPartitionVerifies) {
  log_fixture f(d.sub("t-0"), cfg());
  for (int i = 0; i < 6; ++i) f.append(10, 100, 1000 * i);
  auto [s, text] = dump(d.sub("t-0"));  // active segment: preallocated indexes
  EXPECT_EQ(s.problems, 0u) << text;
  EXPECT_EQ(s.batches, 6u);
  ASSERT_TRUE(f->close());
  auto [s2, text2] = dump(d.sub("t-0"), {.records = true});
  EXPECT_EQ(s2.problems, 0u) << text2;
  EXPECT_NE(text2.find("baseOffset: 0 lastOffset: 9 count: 10"), std::string::npos) << text2;
  EXPECT_NE(text2.find("| offset: 3 CreateTime: 3 keySize: 2 valueSize: 100"), std::string::npos) << text2;
  EXPECT_NE(text2.find("offset: 19 position: "), std::string::npos) << text2;
  EXPECT_NE(text2.find("epoch: 0 startOffset: 0"), std::string::npos) << text2;
}

TEST_F(DumpTest, CorruptBatchReported) {
  log_fixture f(d.sub("t-0"), cfg());
  for (int i = 0; i < 2; ++i) f.append(10, 100);
  f.l.reset();
  auto path = d.sub("t-0/00000000000000000000.log");
  auto b = test::read_all(path);
  b[200] ^= 1;
  test::write_all(path, b);
  auto [s, text] = dump(path);
  EXPECT_GT(s.problems, 0u);
  EXPECT_NE(text.find("ERROR: "), std::string::npos);
  EXPECT_NE(text.find("isvalid: false"), std::string::npos);
}

TEST_F(DumpTest, TornTailReported) {
  log_fixture f(d.sub("t-0"), cfg());
  f.append(10, 100);
  f.l.reset();
  auto path = d.sub("t-0/00000000000000000000.log");
  auto b = test::read_all(path);
  b.resize(b.size() - 3);
  test::write_all(path, b);
  auto [s, text] = dump(path);
  EXPECT_EQ(s.problems, 1u) << text;
  EXPECT_NE(text.find("partial batch"), std::string::npos);
}

TEST_F(DumpTest, IndexMismatchReported) {
  log_fixture f(d.sub("t-0"), cfg());
  for (int i = 0; i < 2; ++i) f.append(10, 100);
  ASSERT_TRUE(f->close());
  auto path = d.sub("t-0/00000000000000000000.index");
  auto b = test::read_all(path);
  ASSERT_EQ(b.size(), 8u);
  b[3] += 1;  // relative offset off by one
  test::write_all(path, b);
  auto [s, text] = dump(path);
  EXPECT_EQ(s.problems, 1u) << text;
  EXPECT_NE(text.find("mismatch"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::storage
