#include "cli/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::cli {

// Values below 2^sub_bits are exact (range 0); above, range r covers [2^(r+sub_bits-1),
// 2^(r+sub_bits)) in sub_count/2 .. sub_count-1 sub-buckets of width 2^(r-1).
int histogram::index_of(uint64_t v) {
  if (v < static_cast<uint64_t>(sub_count)) return static_cast<int>(v);
  int msb = 63 - std::countl_zero(v);   // >= sub_bits
  int shift = msb - (sub_bits - 1);     // >= 1
  int range = shift;                    // ranges 1.. hold the larger values
  int sub = static_cast<int>(v >> shift);  // in [sub_count/2, sub_count)
  return range * sub_count + sub;
}

uint64_t histogram::lower_bound_of(int index) {
  int range = index / sub_count;
  uint64_t sub = static_cast<uint64_t>(index % sub_count);
  return range == 0 ? sub : sub << range;
}

void histogram::record(int64_t value_ns) {
  uint64_t v = value_ns < 0 ? 0 : static_cast<uint64_t>(value_ns);
  ++_buckets[static_cast<size_t>(index_of(v))];
  ++_count;
  _sum += static_cast<int64_t>(v);
  _max = std::max(_max, static_cast<int64_t>(v));
  _min = std::min(_min, static_cast<int64_t>(v));
}

void histogram::merge(const histogram& other) {
  for (size_t i = 0; i < _buckets.size(); ++i) _buckets[i] += other._buckets[i];
  _count += other._count;
  _sum += other._sum;
  _max = std::max(_max, other._max);
  _min = std::min(_min, other._min);
}

int64_t histogram::percentile(double q) const {
  if (_count == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(_count)));
  rank = std::max<int64_t>(rank, 1);
  int64_t seen = 0;
  for (size_t i = 0; i < _buckets.size(); ++i) {
    seen += _buckets[i];
    if (seen >= rank) {
      uint64_t lo = lower_bound_of(static_cast<int>(i));
      uint64_t width = i < static_cast<size_t>(sub_count) ? 1 : (uint64_t{1} << (i / sub_count));
      auto mid = static_cast<int64_t>(lo + (width - 1) / 2);
      return std::clamp(mid, min(), _max);
    }
  }
  return _max;
}

}  // namespace sluice::cli
