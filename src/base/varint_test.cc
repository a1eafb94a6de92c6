#include "base/varint.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace sluice {

TEST(varint, zigzag_round_trip) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{63}, int64_t{300},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    uint8_t buf[10];
    size_t n = write_varint(buf, v);
    EXPECT_EQ(n, varint_size(v));
    auto r = read_varint(buf, buf + n);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, v);
    EXPECT_EQ(r->second, n);
  }
}

TEST(varint, known_encodings) {
  uint8_t buf[10];
  EXPECT_EQ(write_varint(buf, -1), 1u);
  EXPECT_EQ(buf[0], 0x01);
  EXPECT_EQ(write_uvarint(buf, 300), 2u);
  EXPECT_EQ(buf[0], 0xac);
  EXPECT_EQ(buf[1], 0x02);
}

TEST(varint, truncated_and_overlong_rejected) {
  uint8_t trunc[] = {0x80, 0x80};
  EXPECT_FALSE(read_uvarint(trunc, trunc + 2));
  uint8_t overlong[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
  EXPECT_FALSE(read_uvarint(overlong, overlong + 6, varint_max_bytes_u32));
}

}  // namespace sluice
