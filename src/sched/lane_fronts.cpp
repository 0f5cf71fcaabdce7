// LaneFronts: yao-dp over several lanes — per (job prefix, drops) the non-dominated (reward, sorted lane free times).
#include "imprecise/sched/lane_fronts.hpp"

#include <algorithm>
#include <cassert>
#include <compare>
#include <limits>

#include "imprecise/sched/lane_schedule.hpp"

namespace imprecise::detail {

bool LaneFronts::run(const PlanProblem& problem, const std::vector<int>& quant, const std::vector<int>& quant_offset,
                     int drops, std::int64_t cap, const Bound& bound) {
  return run_fronts(problem, &quant, &quant_offset, drops, cap, bound);
}

int LaneFronts::fewest_drops(const PlanProblem& problem) {
  // Every served job at its lowest depth, no reward: fronts of free times alone, one layer per drop count.
  const int n = problem.size();
  run_fronts(problem, nullptr, nullptr, n, std::numeric_limits<std::int64_t>::max(), Bound{});
  for (int k = 0; k <= n; ++k)
    if (front_begin_[n * layers_ + k] < front_begin_[n * layers_ + k + 1]) return k;
  return -1;
}

bool LaneFronts::best(int n, int drops, std::vector<int>& depths) const {
  const std::int32_t first = front_begin_[n * layers_ + drops], last = front_begin_[n * layers_ + drops + 1];
  if (first == last) return false;
  std::int32_t at = first;  // fronts are sorted by reward, most first
  for (int i = n - 1; i >= 0; --i) {
    depths[i] = states_[at].depth;
    at = states_[at].parent;
  }
  assert(at == 0);
  return true;
}

bool LaneFronts::run_fronts(const PlanProblem& problem, const std::vector<int>* quant,
                            const std::vector<int>* quant_offset, int drops, std::int64_t cap, const Bound& bound) {
  const int n = problem.size();
  lanes_ = problem.lanes();
  assert(lanes_ >= 2);  // one lane is DpPlanner's own fronts
  layers_ = drops + 1;
  states_.clear();
  free_.clear();
  states_.push_back(State{0, -1, 0});
  const std::span<const Time> start = problem.sorted_lane_free();
  free_.insert(free_.end(), start.begin(), start.end());
  front_begin_.resize(static_cast<std::size_t>(n + 1) * layers_ + 1);
  front_begin_[0] = 0;
  for (int k = 0; k < layers_; ++k) front_begin_[k + 1] = 1;  // the root is front (0, 0); the others are empty
  const bool bounded = bound.quanta > 0;
  // Four lanes or more: the scans are what grows, so they get a budget of their own.
  scan_cap_ = cap > std::numeric_limits<std::int64_t>::max() / kScanPerState ? cap : cap * kScanPerState;
  scan_work_ = 0;
  for (int i = 0; i < n; ++i) {
    // A state whose reward plus every later job's best cannot reach the bound is cut.
    const std::int32_t need =
        bounded ? bound.quanta - ((*bound.reach)[n] - (*bound.reach)[i + 1]) : std::numeric_limits<std::int32_t>::min();
    for (int k = 0; k < layers_; ++k) {
      collect_candidates(problem, i, k, quant, quant_offset, need);
      const std::size_t begin = states_.size();
      keep_non_dominated();
      if (bounded && bound.ceiling != nullptr && k == drops) cut_below_ceiling(i + 1, begin, bound);
      front_begin_[static_cast<std::size_t>(i + 1) * layers_ + k + 1] = static_cast<std::int32_t>(states_.size());
      if (static_cast<std::int64_t>(states_.size()) > cap || scan_work_ > scan_cap_) return false;
    }
  }
  return true;
}

void LaneFronts::collect_candidates(const PlanProblem& problem, int i, int k, const std::vector<int>* quant,
                                    const std::vector<int>* quant_offset, std::int32_t need) {
  // Front (i + 1, k) comes from front (i, k) extended by each depth of job i, and from front (i, k - 1)
  // unchanged (job i dropped).
  const std::size_t m = static_cast<std::size_t>(lanes_);
  const std::size_t prev = static_cast<std::size_t>(i) * layers_;
  const int lo = problem.lo(i), hi = quant != nullptr ? problem.hi(i) : problem.lo(i);
  const Time deadline = problem.deadline(i);
  cand_.clear();
  cand_free_.clear();
  blocks_.clear();
  auto add = [&](std::int32_t from, std::int32_t reward, std::int32_t depth) {
    cand_.push_back(State{reward, from, depth});
    const Time* f = free_.data() + static_cast<std::size_t>(from) * m;
    cand_free_.insert(cand_free_.end(), f, f + m);
  };
  // One block per choice (each depth, then the drop), each in the previous front's order: most reward
  // first. So a block stops at the first candidate below `need`, and the blocks merge by reward.
  for (int l = lo; l <= hi; ++l) {
    blocks_.push_back(static_cast<std::int32_t>(cand_.size()));
    const Duration c = problem.cost(i, l);
    const std::int32_t dq = quant != nullptr ? (*quant)[(*quant_offset)[i] + l - lo] : 0;
    for (std::int32_t s = front_begin_[prev + k]; s < front_begin_[prev + k + 1]; ++s) {
      const std::int32_t reward = states_[s].reward + dq;
      if (reward < need) break;
      if (c > 0 && free_[static_cast<std::size_t>(s) * m] + c > deadline) continue;
      add(s, reward, l);
      if (c > 0) run_on_sorted(std::span<Time>(cand_free_).last(m), c);
    }
  }
  if (k > 0 && problem.droppable(i)) {
    blocks_.push_back(static_cast<std::int32_t>(cand_.size()));
    for (std::int32_t s = front_begin_[prev + k - 1]; s < front_begin_[prev + k] && states_[s].reward >= need; ++s)
      add(s, states_[s].reward, 0);
  }
  blocks_.push_back(static_cast<std::int32_t>(cand_.size()));
}

void LaneFronts::keep_non_dominated() {
  // By reward, most first, then free times lexicographically: whatever dominates a candidate comes
  // before it (ties: the earlier candidate, so a run is deterministic). The blocks are each sorted by
  // reward already: merge them, then sort each run of equal reward (short: quanta are fine).
  const std::size_t m = static_cast<std::size_t>(lanes_);
  const Time* cf = cand_free_.data();
  order_.clear();
  // Each block's head and its reward (kExhausted once the block is used up), so picking the next is a
  // scan of a few integers.
  constexpr std::int32_t kExhausted = std::numeric_limits<std::int32_t>::min();
  const std::size_t block_count = blocks_.size() - 1;
  heads_.assign(blocks_.begin(), blocks_.end() - 1);
  head_reward_.resize(block_count);
  for (std::size_t b = 0; b < block_count; ++b)
    head_reward_[b] = heads_[b] < blocks_[b + 1] ? cand_[heads_[b]].reward : kExhausted;
  for (;;) {
    std::size_t best = 0;
    for (std::size_t b = 1; b < block_count; ++b)
      if (head_reward_[b] > head_reward_[best]) best = b;
    if (block_count == 0 || head_reward_[best] == kExhausted) break;
    order_.push_back(heads_[best]++);
    head_reward_[best] = heads_[best] < blocks_[best + 1] ? cand_[heads_[best]].reward : kExhausted;
  }
  auto by_free = [&](std::int32_t a, std::int32_t b) {
    const auto order = std::lexicographical_compare_three_way(cf + a * m, cf + (a + 1) * m, cf + b * m, cf + (b + 1) * m);
    return order != 0 ? order < 0 : a < b;
  };
  for (auto run = order_.begin(); run != order_.end();) {
    const std::int32_t reward = cand_[*run].reward;
    auto end = run + 1;
    while (end != order_.end() && cand_[*end].reward == reward) ++end;
    if (end - run > 1) std::sort(run, end, by_free);
    run = end;
  }
  const std::size_t begin = states_.size();
  // Two lanes: one staircase is the whole test; three: the staircase tree over (f0, f1, f2) is. More:
  // a dominator must also dominate on (f0, f[m-2], f[m-1]), so the tree rules most out before a scan.
  if (m == 2) {
    stair_.clear();
  } else {
    first_free_.clear();
    for (const std::int32_t c : order_) first_free_.push_back(cf[static_cast<std::size_t>(c) * m]);
    std::sort(first_free_.begin(), first_free_.end());
    tree_.reset(first_free_);
  }
  for (const std::int32_t c : order_) {
    const Time* f = cf + static_cast<std::size_t>(c) * m;
    if (m == 2) {
      if (stair_.covers(f[0], f[1])) continue;
      stair_.add(f[0], f[1]);
    } else {
      const bool covered = tree_.covers(f[0], f[m - 2], f[m - 1]);
      if (covered && (m == 3 || dominated_by_front(begin, f))) continue;
      if (scan_work_ > scan_cap_) return;  // over budget: run_fronts gives up on this quantum
      if (!covered) tree_.add(f[0], f[m - 2], f[m - 1]);  // a covered point adds nothing to the tree
    }
    states_.push_back(cand_[c]);
    free_.insert(free_.end(), f, f + m);
  }
}

bool LaneFronts::dominated_by_front(std::size_t begin, const Time* f) {
  const std::size_t m = static_cast<std::size_t>(lanes_);
  for (std::size_t s = begin; s < states_.size(); ++s) {
    ++scan_work_;
    const Time* g = free_.data() + s * m;
    if (std::equal(g, g + m, f, [](Time kept, Time candidate) { return kept <= candidate; })) return true;
  }
  return false;
}

void LaneFronts::cut_below_ceiling(int next, std::size_t begin, const Bound& bound) {
  // Once no drop is left, a state whose reward plus the ceiling on what jobs next.. can add falls short
  // of the bound cannot be on the best path.
  const std::size_t m = static_cast<std::size_t>(lanes_);
  std::size_t kept = begin;
  for (std::size_t s = begin; s < states_.size(); ++s) {
    const std::span<const Time> f(free_.data() + s * m, m);
    if (states_[s].reward + bound.ceiling->at_lanes(next, f) < bound.quanta) continue;
    states_[kept] = states_[s];
    std::copy(f.begin(), f.end(), free_.begin() + static_cast<std::ptrdiff_t>(kept * m));
    ++kept;
  }
  states_.resize(kept);
  free_.resize(kept * m);
}

}  // namespace imprecise::detail
