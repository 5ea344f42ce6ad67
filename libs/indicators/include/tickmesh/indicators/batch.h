// Batch forms of the indicators: a span of inputs in, a span of outputs out (same length, aligned
// index by index with the input). Outputs before the warm-up has passed are NaN; each function
// returns the index of the first defined output (the TA-Lib "lookback"; equal to the input size
// when nothing is defined). Implemented as plain loops over the whole series (TA-Lib style),
// independently of the streaming classes; both agree to 1e-9 (tested).
//
// Errors: INVALID_ARGUMENT naming the parameter for a bad period or an output span shorter than
// the input. No allocation except MACD's scratch (two vectors of the input size).
//
// Example:
//   std::vector<double> line(closes.size()), signal(closes.size()), hist(closes.size());
//   auto first = MacdBatch(closes, 12, 26, 9, line, signal, hist);  // *first == 33
#pragma once

#include <cstddef>
#include <span>

#include "absl/status/statusor.h"

namespace tickmesh::indicators {

absl::StatusOr<size_t> SmaBatch(std::span<const double> in, int period, std::span<double> out);
absl::StatusOr<size_t> EmaBatch(std::span<const double> in, int period, std::span<double> out);
// MACD line, signal and histogram (TA-Lib TA_MACD alignment; see Macd).
absl::StatusOr<size_t> MacdBatch(std::span<const double> in, int fast, int slow, int signal,
                                 std::span<double> line, std::span<double> signal_out,
                                 std::span<double> histogram);
absl::StatusOr<size_t> RsiBatch(std::span<const double> in, int period, std::span<double> out);
// high/low/close must have the same length.
absl::StatusOr<size_t> AtrBatch(std::span<const double> high, std::span<const double> low,
                                std::span<const double> close, int period, std::span<double> out);
// Population standard deviation of the last `period` samples.
absl::StatusOr<size_t> StdDevBatch(std::span<const double> in, int period, std::span<double> out);
absl::StatusOr<size_t> BollingerBatch(std::span<const double> in, int period, double k,
                                      std::span<double> lower, std::span<double> middle,
                                      std::span<double> upper);
// sqrt of the sum of the last `period` squared log returns.
absl::StatusOr<size_t> RealizedVolBatch(std::span<const double> prices, int period,
                                        std::span<double> out);
// VWAP of the last `window` trades.
absl::StatusOr<size_t> RollingVwapBatch(std::span<const double> price, std::span<const double> qty,
                                        int window, std::span<double> out);
// Imbalance and microprice of each top-of-book row (always defined: returns 0).
absl::StatusOr<size_t> BookImbalanceBatch(std::span<const double> bid_qty,
                                          std::span<const double> ask_qty, std::span<double> out);
absl::StatusOr<size_t> MicropriceBatch(std::span<const double> bid, std::span<const double> bid_qty,
                                       std::span<const double> ask, std::span<const double> ask_qty,
                                       std::span<double> out);

}  // namespace tickmesh::indicators
