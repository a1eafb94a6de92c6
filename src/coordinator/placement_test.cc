#include "coordinator/placement.h"

#include <gtest/gtest.h>

namespace sluice::coordinator {

// Values of Java's "...".hashCode().
TEST(coordinator_placement, java_string_hash_vectors) {
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("a"), 97);
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  EXPECT_EQ(java_string_hash("my-group"), -1906497762);
  EXPECT_EQ(java_string_hash("\xc3\xa9"), 233);         // U+00E9
  EXPECT_EQ(java_string_hash("\xf0\x9f\x98\x80"), 0xd83d * 31 + 0xde00);  // U+1F600 as a surrogate pair
}

TEST(coordinator_placement, partition_in_range_and_abs_of_min) {
  EXPECT_EQ(kafka_abs(INT32_MIN), 0);
  for (const char* k : {"", "g", "group-1", "txn-xyz", "polygenelubricants"}) {
    int32_t p = coordinator_partition(k, 50);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 50);
  }
  // "polygenelubricants".hashCode() == Integer.MIN_VALUE in Java.
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(coordinator_partition("polygenelubricants", 50), 0);
}

}  // namespace sluice::coordinator
