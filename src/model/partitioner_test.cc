#include "model/partitioner.h"

#include <string_view>

#include <gtest/gtest.h>

namespace sluice::model {
namespace {
int32_t mm(std::string_view s) { return murmur2({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }
}  // namespace

// Vectors from Kafka's UtilsTest.testMurmur2 and librdkafka's rdmurmur2 unit test.
TEST(murmur2, java_vectors) {
  EXPECT_EQ(mm("21"), -973932308);
  EXPECT_EQ(mm("foobar"), -790332482);
  EXPECT_EQ(mm("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(mm("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(mm("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(mm("abc"), 479470107);
  EXPECT_EQ(mm("kafka"), -798503068);
  EXPECT_EQ(static_cast<uint32_t>(mm("giberish123456789")), 0x8f552b0cu);
  EXPECT_EQ(static_cast<uint32_t>(mm("1234")), 0x9fc97b14u);
  EXPECT_EQ(static_cast<uint32_t>(mm("234")), 0xe7c009cau);
  EXPECT_EQ(static_cast<uint32_t>(mm("34")), 0x873930dau);
  EXPECT_EQ(static_cast<uint32_t>(mm("4")), 0x5a4b5ca1u);
  EXPECT_EQ(static_cast<uint32_t>(mm("PreAmbleWillBeRemoved,ThePrePartThatIs")), 0x78424f1cu);
  EXPECT_EQ(mm(""), 275646681);
  EXPECT_EQ(mm("0"), 971027396);
}

TEST(murmur2, partition_for_key) {
  std::string_view k = "kafka";
  EXPECT_EQ(partition_for_key({reinterpret_cast<const uint8_t*>(k.data()), k.size()}, 3), 1);
  std::string_view k2 = "21";
  EXPECT_EQ(partition_for_key({reinterpret_cast<const uint8_t*>(k2.data()), k2.size()}, 3), 0);
}

}  // namespace sluice::model
