#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace tickmesh::loadtest {

namespace {
constexpr int64_t kExact = int64_t{1} << LatencyHistogram::kSubBits;   // 128
constexpr int64_t kHalf = int64_t{1} << (LatencyHistogram::kSubBits - 1);  // 64
}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

int LatencyHistogram::BucketOf(int64_t value) {
  if (value < kExact) return value < 0 ? 0 : int(value);
  int msb = 63 - __builtin_clzll(uint64_t(value));
  int shift = msb - kSubBits + 1;               // >= 1
  int64_t sub = value >> shift;                  // in [64, 128)
  return int(kExact + (shift - 1) * kHalf + (sub - kHalf));
}

int64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < kExact) return bucket;
  int shift = int((bucket - kExact) / kHalf) + 1;
  int64_t sub = (bucket - kExact) % kHalf + kHalf;
  return sub << shift;
}

int64_t LatencyHistogram::BucketHigh(int bucket) {
  if (bucket < kExact) return bucket;
  int shift = int((bucket - kExact) / kHalf) + 1;
  int64_t sub = (bucket - kExact) % kHalf + kHalf;
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(int64_t value) {
  if (value < 0) value = 0;
  ++counts_[BucketOf(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.count_) {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
}

int64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(p / 100.0 * double(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketHigh(i), min(), max_);
  }
  return max_;
}

}  // namespace tickmesh::loadtest
