// Ensemble: weighted consensus of the voting strategies of one instrument.
//
// Each voting strategy's latest decision is a vote v_i = dir_i * strength_i (dir = +1 BUY, -1
// SELL), live for vote_ttl after it was cast. consensus = sum_i w_i * v_i / sum_i w_i over every
// voting strategy of the instrument (a strategy without a live vote counts 0, so agreement is
// needed). When |consensus| >= threshold in a direction different from the ensemble's previous
// signal, an ensemble decision is made: side = sign, strength = |consensus|, target price = the
// triggering vote's, quantity = order_qty_e8. When no vote is live the previous direction is
// forgotten (a later consensus in the same direction signals again).
//
// Adaptation (optional): when strategy i votes again, its previous vote is scored by the return it
// would have earned, r = dir * (price_now - price_then) / price_then in bps; score_i = EWMA(alpha)
// of r, and w_i = base_i * clamp(1 + score_i / scale_bps, min_factor, max_factor).
// O(number of voting strategies) per vote; no allocation except an emitted decision's reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "strategy.h"
#include "strategy_config.h"

namespace tickmesh::signal {

class Ensemble {
 public:
  // `config.strategies` gives the base weights and which strategies vote; `ensemble` the rest.
  explicit Ensemble(const StrategyConfig& config);

  bool enabled() const { return cfg_.enabled; }

  // Per-instrument state.
  struct Vote {
    int dir = 0;
    double strength = 0;
    int64_t at_ns = 0;
    int64_t price_e8 = 0;
  };
  struct State {
    std::vector<size_t> members;  // voting strategy indices (into config.strategies)
    std::vector<Vote> votes;      // by member position
    std::vector<double> score;    // adaptation score (bps), by member position
    int last_dir = 0;
  };
  // State for an instrument whose strategies are `spec_indices` (non-voting ones are ignored).
  State NewState(const std::vector<size_t>& spec_indices) const;

  // Records strategy `spec`'s decision `d` at `now_ns` (`price_e8`: the instrument's current
  // price, for adaptation; 0 = use d's target). Returns the ensemble's decision, if any.
  std::optional<Decision> OnDecision(State& st, size_t spec, const Decision& d, int64_t now_ns,
                                     int64_t price_e8) const;

  // The effective weight of member position `m` and the current consensus (exposed for tests).
  double Weight(const State& st, size_t m) const;
  double Consensus(const State& st, int64_t now_ns) const;

 private:
  EnsembleConfig cfg_;
  std::vector<double> base_;      // by spec index; 0 = not voting
  std::vector<std::string> ids_;  // by spec index
};

}  // namespace tickmesh::signal
