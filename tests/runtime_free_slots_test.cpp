// FreeSlots: the engine's free job slots, per model whose tensors they hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "runtime/free_slots.hpp"

namespace imprecise::runtime::detail {
namespace {

TEST(FreeSlots, HandsOutNeverUsedSlotsFromZeroUp) {
  FreeSlots free;
  free.reset(3, 2);
  EXPECT_EQ(free.size(), 3u);
  EXPECT_EQ(free.take(1), 0u);
  EXPECT_EQ(free.take(0), 1u);
  EXPECT_EQ(free.take(1), 2u);
  EXPECT_TRUE(free.empty());
  EXPECT_EQ(free.take(0), std::nullopt) << "all taken: the engine answers 'queue full'";
}

TEST(FreeSlots, PrefersASlotThatHeldTheSameModel) {
  FreeSlots free;
  free.reset(4, 2);
  const auto a = *free.take(0), b = *free.take(1);
  free.give_back(a, 0);
  free.give_back(b, 1);
  EXPECT_EQ(free.take(1), b) << "model 1's slot, though model 0's was freed later";
  EXPECT_EQ(free.take(0), a);
  // Neither model has a free slot of its own: a never-used one comes before re-shaping another's.
  free.give_back(a, 0);
  EXPECT_EQ(free.take(1), 2u);
  EXPECT_EQ(free.take(1), 3u);
  EXPECT_EQ(free.take(1), a) << "no own and no unused slot left: another model's";
  EXPECT_TRUE(free.empty());
}

TEST(FreeSlots, TakesFromTheModelWithMostFreeSlotsAndKeepsEverySlotOnce) {
  FreeSlots free;
  free.reset(6, 3);
  std::vector<std::uint32_t> taken;
  for (int i = 0; i < 6; ++i) taken.push_back(*free.take(0));
  free.give_back(taken[0], 1);
  free.give_back(taken[1], 2);
  free.give_back(taken[2], 2);
  free.give_back(taken[3], -1);  // a slot whose job never started holds no model's tensors
  free.give_back(taken[4], 7);   // out of range counts as none too
  EXPECT_EQ(free.take(0), taken[4]) << "an unused slot first";
  EXPECT_EQ(free.take(0), taken[3]);
  EXPECT_EQ(free.take(0), taken[2]) << "then model 2's, which has the most free slots";
  std::set<std::uint32_t> rest;
  while (auto i = free.take(0)) rest.insert(*i);
  EXPECT_EQ(rest, (std::set<std::uint32_t>{taken[0], taken[1]}));
  EXPECT_EQ(free.size(), 0u);
}

}  // namespace
}  // namespace imprecise::runtime::detail
