#include "ensemble.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace tickmesh::signal {

Ensemble::Ensemble(const StrategyConfig& config) : cfg_(config.ensemble) {
  for (const auto& s : config.strategies) {
    base_.push_back(s.Votes() ? s.weight : 0.0);
    ids_.push_back(s.id);
  }
}

Ensemble::State Ensemble::NewState(const std::vector<size_t>& spec_indices) const {
  State st;
  for (size_t i : spec_indices) {
    if (i < base_.size() && base_[i] > 0) st.members.push_back(i);
  }
  st.votes.resize(st.members.size());
  st.score.assign(st.members.size(), 0.0);
  return st;
}

double Ensemble::Weight(const State& st, size_t m) const {
  const double base = base_[st.members[m]];
  if (!cfg_.adapt) return base;
  return base *
         std::clamp(1 + st.score[m] / cfg_.adapt_scale_bps, cfg_.min_factor, cfg_.max_factor);
}

double Ensemble::Consensus(const State& st, int64_t now_ns) const {
  double num = 0, den = 0;
  for (size_t m = 0; m < st.members.size(); ++m) {
    const double w = Weight(st, m);
    den += w;
    const Vote& v = st.votes[m];
    if (v.dir != 0 && now_ns - v.at_ns < cfg_.vote_ttl_ns) num += w * v.dir * v.strength;
  }
  return den > 0 ? num / den : 0.0;
}

std::optional<Decision> Ensemble::OnDecision(State& st, size_t spec, const Decision& d,
                                             int64_t now_ns, int64_t price_e8) const {
  const auto it = std::find(st.members.begin(), st.members.end(), spec);
  if (it == st.members.end()) return std::nullopt;
  const size_t m = static_cast<size_t>(it - st.members.begin());
  bool any_live = false;  // before this vote: has everything expired?
  for (const Vote& x : st.votes) any_live |= x.dir != 0 && now_ns - x.at_ns < cfg_.vote_ttl_ns;
  if (!any_live) st.last_dir = 0;
  Vote& v = st.votes[m];
  const int64_t now_price = price_e8 > 0 ? price_e8 : d.target_price_e8;
  if (cfg_.adapt && v.dir != 0 && v.price_e8 > 0 && now_price > 0) {
    const double r_bps =
        v.dir * static_cast<double>(now_price - v.price_e8) / static_cast<double>(v.price_e8) * 1e4;
    st.score[m] = (1 - cfg_.adapt_alpha) * st.score[m] + cfg_.adapt_alpha * r_bps;
  }
  v.dir = d.side == tickmesh::v1::SIDE_BUY ? 1 : (d.side == tickmesh::v1::SIDE_SELL ? -1 : 0);
  v.strength = std::clamp(d.strength, 0.0, 1.0);
  v.at_ns = now_ns;
  v.price_e8 = now_price;

  const double c = Consensus(st, now_ns);
  const int dir = c >= cfg_.threshold ? 1 : (c <= -cfg_.threshold ? -1 : 0);
  if (dir == 0 || dir == st.last_dir) return std::nullopt;
  st.last_dir = dir;
  Decision e;
  e.side = dir > 0 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL;
  e.strength = std::min(1.0, std::fabs(c));
  e.target_price_e8 = d.target_price_e8;
  e.target_qty_e8 = cfg_.order_qty_e8;
  e.reason = absl::StrFormat("ensemble consensus %+.3f (threshold %.3f):", c, cfg_.threshold);
  e.Add("consensus", c);
  for (size_t k = 0; k < st.members.size(); ++k) {
    const Vote& x = st.votes[k];
    const bool live = x.dir != 0 && now_ns - x.at_ns < cfg_.vote_ttl_ns;
    absl::StrAppendFormat(&e.reason, " %s %+.2f x %.2f", ids_[st.members[k]],
                          live ? x.dir * x.strength : 0.0, Weight(st, k));
  }
  e.Add("components", static_cast<double>(st.members.size()));
  return e;
}

}  // namespace tickmesh::signal
