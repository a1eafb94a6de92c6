#pragma once
// A latency histogram with log-linear buckets (the idea of HdrHistogram): each power-of-two range
// of nanoseconds is split into 128 equal sub-buckets, so a reported percentile is within 1/128
// (< 0.8%) of the true value. Fixed memory (64 x 128 counters), O(1) record, mergeable. Not thread
// safe: one per thread, merged at the end.
#include <array>
#include <cstdint>

namespace sluice::cli {

class histogram {
 public:
  void record(int64_t value_ns);
  void merge(const histogram& other);
  int64_t count() const { return _count; }
  int64_t max() const { return _max; }
  int64_t min() const { return _count ? _min : 0; }
  double mean() const { return _count ? static_cast<double>(_sum) / static_cast<double>(_count) : 0.0; }
  // The value at or below which `q` (0..1] of the recorded values fall; the midpoint of its
  // bucket, clamped to the recorded maximum. 0 for an empty histogram.
  int64_t percentile(double q) const;

 private:
  static constexpr int sub_bits = 7;
  static constexpr int sub_count = 1 << sub_bits;
  static constexpr int ranges = 64 - sub_bits + 1;
  static int index_of(uint64_t v);
  static uint64_t lower_bound_of(int index);
  std::array<int64_t, ranges * sub_count> _buckets{};
  int64_t _count = 0;
  int64_t _sum = 0;
  int64_t _max = 0;
  int64_t _min = INT64_MAX;
};

}  // namespace sluice::cli
