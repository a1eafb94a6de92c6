#include "storage/checkpoint_file.h"

#include <gtest/gtest.h>

#include "storage/errc.h"
#include "storage/test_utils.h"

namespace sluice::storage {
namespace {

using test::temp_dir;

TEST(Checkpoint, OffsetFileHasKafkaLayout) {
  temp_dir d;
  auto& fs = posix_file_system::instance();
  offset_map m{{{"orders", 0}, 42}, {{"orders", 1}, 7}, {{"__consumer_offsets", 12}, 0}};
  ASSERT_TRUE(write_offset_checkpoint(fs, d.sub("recovery-point-offset-checkpoint"), m));
  auto bytes = test::read_all(d.sub("recovery-point-offset-checkpoint"));
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "0\n3\n__consumer_offsets 12 0\norders 0 42\norders 1 7\n");
  auto back = read_offset_checkpoint(fs, d.sub("recovery-point-offset-checkpoint"));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
  EXPECT_FALSE(fs.exists(d.sub("recovery-point-offset-checkpoint.tmp")));
}

TEST(Checkpoint, MissingFileIsEmpty) {
  temp_dir d;
  auto m = read_offset_checkpoint(posix_file_system::instance(), d.sub("nope"));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->empty());
}

TEST(Checkpoint, MalformedFilesRejected) {
  for (std::string bad : {"1\n0\n", "0\n2\na 0 1\n", "0\n1\na 0\n", "0\n1\na x 1\n", "0\n0\nextra\n", "", "0\n"}) {
    auto r = parse_checkpoint(bad, 3);
    if (r) {
      // field-count and version errors come from parse; number errors from the typed reader
      EXPECT_EQ(bad, "0\n1\na x 1\n");
      continue;
    }
    EXPECT_EQ(r.error(), make_error_code(errc::corrupt_checkpoint)) << bad;
  }
  temp_dir d;
  test::write_all(d.sub("cp"), {'0', '\n', '1', '\n', 'a', ' ', 'x', ' ', '1', '\n'});
  EXPECT_FALSE(read_offset_checkpoint(posix_file_system::instance(), d.sub("cp")));
}

}  // namespace
}  // namespace sluice::storage
