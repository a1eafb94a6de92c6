#include "base/crc32c.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {

TEST(crc32c, check_value) { EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u); }

TEST(crc32c, extend_equals_whole) {
  std::string s(1000, 'x');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7);
  uint32_t whole = crc32c(s.data(), s.size());
  for (size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    EXPECT_EQ(crc32c_extend(crc32c(s.data(), cut), s.data() + cut, s.size() - cut), whole) << cut;
  }
}

TEST(crc32c, rfc3720_vectors) {
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(inc.data(), 32), 0x46DD794Eu);
}

TEST(crc32_ieee, check_value) { EXPECT_EQ(crc32_ieee("123456789", 9), 0xCBF43926u); }

}  // namespace sluice
