// CacheEvictor: each evict() writes every cache line of its buffer, a new value each time.
#include <gtest/gtest.h>

#include <cstddef>

#include "imprecise/core/cache_evictor.hpp"

namespace imprecise {
namespace {

TEST(CacheEvictor, EveryLineIsWrittenWithANewValueEachTime) {
  CacheEvictor evictor(10 * CacheEvictor::kLine + 3);
  EXPECT_EQ(evictor.bytes(), 10 * CacheEvictor::kLine + 3);
  for (char round = 1; round <= 3; ++round) {
    evictor.evict();
    for (std::size_t line = 0; line <= 10; ++line) EXPECT_EQ(evictor.at(line * CacheEvictor::kLine), round) << "line " << line;
    EXPECT_EQ(evictor.at(1), 0) << "one write per line, not per byte";
  }
}

TEST(CacheEvictor, AnEmptyOneWritesNothing) {
  CacheEvictor evictor(0);
  evictor.evict();
  EXPECT_EQ(evictor.bytes(), 0u);
}

}  // namespace
}  // namespace imprecise
