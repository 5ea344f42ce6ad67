// LatencyHistogram: a log-linear histogram of non-negative integer values (nanoseconds), in the
// style of HdrHistogram: exact below 128, and 64 linear sub-buckets per power of two above, so any
// recorded value is reported within 1/64 (< 1.6 %) of itself. Fixed memory (~30 KiB), O(1) record,
// no allocation after construction. Not thread-safe: one writer, or merge per-thread copies.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace tickmesh::loadtest {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Records one value; negative values are recorded as 0.
  void Record(int64_t value);
  // Adds every count of `other`.
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }

  // The value at percentile p in [0, 100]: the smallest recorded bucket whose cumulative count
  // reaches ceil(p/100 * count), reported as that bucket's upper bound clamped to [min, max].
  // 0 when empty.
  int64_t Percentile(double p) const;

  // Bucket index of a value and the inclusive value range of a bucket (exposed for tests).
  static int BucketOf(int64_t value);
  static int64_t BucketLow(int bucket);
  static int64_t BucketHigh(int bucket);
  static constexpr int kSubBits = 7;
  static constexpr int kBuckets = (1 << kSubBits) + (64 - kSubBits) * (1 << (kSubBits - 1));

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  __int128 sum_ = 0;
};

}  // namespace tickmesh::loadtest
