#include "cli/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace sluice::cli {
namespace {

TEST(histogram, empty) {
  histogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.percentile(0.99), 0);
  EXPECT_EQ(h.max(), 0);
}

TEST(histogram, small_values_are_exact) {
  histogram h;
  for (int v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 50);
  EXPECT_EQ(h.percentile(0.99), 99);
  EXPECT_EQ(h.percentile(1.0), 100);
  EXPECT_EQ(h.max(), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

// Percentiles of a wide random sample stay within the bucket precision (1/128) of the exact
// order statistics.
TEST(histogram, percentiles_within_precision) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(13.0, 1.5);  // around 0.5 ms, long tail
  std::vector<int64_t> values;
  histogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.95, 0.99, 0.999}) {
    int64_t exact = values[static_cast<size_t>(q * values.size()) - 1];
    int64_t got = h.percentile(q);
    EXPECT_NEAR(static_cast<double>(got), static_cast<double>(exact), exact / 64.0) << q;
  }
  EXPECT_EQ(h.max(), values.back());
}

TEST(histogram, merge_adds_counts) {
  histogram a, b;
  for (int i = 0; i < 1000; ++i) a.record(1000);
  for (int i = 0; i < 1000; ++i) b.record(1000000);
  a.merge(b);
  EXPECT_EQ(a.count(), 2000);
  EXPECT_NEAR(a.percentile(0.25), 1000, 1000 / 64.0);
  EXPECT_NEAR(a.percentile(0.75), 1000000, 1000000 / 64.0);
  EXPECT_EQ(a.max(), 1000000);
}

}  // namespace
}  // namespace sluice::cli
