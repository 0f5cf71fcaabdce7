// SuffixSlack: the slack of every EDF prefix, with "add to a suffix" and "minimum over a suffix" —
// the two operations the density planner asks at every step. Square-root blocks, each holding its
// own suffix minima, rather than a segment tree: a query is O(1), and an update touches the rest of
// one block plus the block summaries, O(block + n / block). The block is the power of two nearest
// above sqrt(n) (8 at n = 32, 32 at n = 1,024), which keeps both terms small: one 32-wide block at
// n = 32 cost a whole density decision about 2.5 % more instructions (callgrind, docs/design.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "imprecise/core/time.hpp"

namespace imprecise {

class SuffixSlack {
 public:
  void reset(std::span<const Duration> slack) {
    n_ = static_cast<int>(slack.size());
    shift_ = 2;  // blocks of at least 4
    while ((1 << (2 * shift_)) < n_) ++shift_;
    const int block = 1 << shift_;
    const auto blocks = static_cast<std::size_t>((n_ + block - 1) / block);
    value_.assign(slack.begin(), slack.end());
    suffix_.resize(value_.size());
    lazy_.assign(blocks, 0);
    block_suffix_.resize(blocks + 1);
    for (int j = n_ - 1; j >= 0; --j)  // in-block suffix minima, from scratch
      suffix_[idx(j)] = (j + 1) % block != 0 && j + 1 < n_ ? std::min(value_[idx(j)], suffix_[idx(j + 1)]) : value_[idx(j)];
    rebuild_block_suffix();
  }

  /// Slack of prefix i.
  Duration at(int i) const { return value_[idx(i)] + lazy_[idx(i >> shift_)]; }

  /// min over prefixes i..n-1 (none: kNever).
  Duration min_from(int i) const {
    if (i >= n_) return kNever;
    const int b = i >> shift_;
    return std::min(suffix_[idx(i)] + lazy_[idx(b)], block_suffix_[idx(b + 1)]);
  }

  /// Adds `delta` to the slack of prefixes i..n-1.
  void add_from(int i, Duration delta) {
    if (i >= n_) return;
    const int b = i >> shift_;
    // Within the block, every suffix minimum from i on moves by delta; those before i are re-taken.
    const int end = block_end(b);
    for (int j = i; j < end; ++j) {
      value_[idx(j)] += delta;
      suffix_[idx(j)] += delta;
    }
    rebuild_block_from(b, i - 1);
    // Later blocks move as a whole: their lazy add and their summaries shift by exactly delta.
    for (std::size_t c = idx(b) + 1; c < lazy_.size(); ++c) {
      lazy_[c] += delta;
      block_suffix_[c] += delta;
    }
    rebuild_block_suffix_from(b);
  }

  /// Adds `delta` to the slack of prefix i alone.
  void add_at(int i, Duration delta) {
    value_[idx(i)] += delta;
    rebuild_block_from(i >> shift_, i);
    rebuild_block_suffix_from(i >> shift_);
  }

 private:
  static std::size_t idx(int i) { return static_cast<std::size_t>(i); }
  int block_end(int b) const { return std::min(n_, (b + 1) << shift_); }

  /// Re-takes the block's suffix minima from position `from` down to the block's start, stopping
  /// where one is unchanged (those before it depend only on it and on unchanged values).
  void rebuild_block_from(int b, int from) {
    const int begin = b << shift_, end = block_end(b);
    for (int k = from; k >= begin; --k) {
      const Duration next = k + 1 < end ? suffix_[idx(k + 1)] : kNever;
      const Duration m = std::min(value_[idx(k)], next);
      if (k != from && m == suffix_[idx(k)]) break;
      suffix_[idx(k)] = m;
    }
  }

  void rebuild_block_suffix() {
    block_suffix_.back() = kNever;
    for (std::size_t c = lazy_.size(); c-- > 0;)
      block_suffix_[c] = std::min(suffix_[c << shift_] + lazy_[c], block_suffix_[c + 1]);
  }

  /// Re-takes the block summaries from block b down, after blocks b.. changed and later summaries are
  /// already right; stops where one is unchanged, as rebuild_block_from does.
  void rebuild_block_suffix_from(int b) {
    for (std::size_t c = idx(b) + 1; c-- > 0;) {
      const Duration m = std::min(suffix_[c << shift_] + lazy_[c], block_suffix_[c + 1]);
      if (c != idx(b) && m == block_suffix_[c]) break;
      block_suffix_[c] = m;
    }
  }

  int n_ = 0;
  int shift_ = 2;                       // 2^shift_ prefixes per block
  std::vector<Duration> value_;         // per prefix, without its block's lazy add
  std::vector<Duration> suffix_;        // min of value_ from here to the end of the block
  std::vector<Duration> lazy_;          // per block: added to every prefix in it
  std::vector<Duration> block_suffix_;  // min slack over blocks c.. (lazy included); kNever past the end
};

}  // namespace imprecise
