// Shared by the gRPC and HTTP client tests: what a completed vision answer must hold, whichever client
// brought it back.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "imprecise/client/client.hpp"
#include "grpc_fixture.hpp"

namespace imprecise::client::testing {

inline void expect_vision_answer(const InferResult& r) {
  ASSERT_TRUE(r.ok()) << r.code << " " << r.message;
  const std::int64_t classes = serve::testing::shared_service().model("vision")->output.shape[1];
  EXPECT_EQ(r.shape, (std::vector<std::int64_t>{1, classes}));
  ASSERT_EQ(r.logits.size(), static_cast<std::size_t>(classes));
  EXPECT_GE(r.exit, 1);
  EXPECT_GE(r.depth, r.exit);
  EXPECT_EQ(r.prediction, std::max_element(r.logits.begin(), r.logits.end()) - r.logits.begin());
  EXPECT_EQ(r.outcome, "completed");
  EXPECT_GT(r.run_us, 0);
  EXPECT_GE(r.total_us, r.run_us);
}

}  // namespace imprecise::client::testing
