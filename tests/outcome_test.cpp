// Tests for the names of the outcome statuses.
#include "imprecise/core/outcome.hpp"

#include <gtest/gtest.h>

namespace imprecise {
namespace {

TEST(OutcomeStatus, Names) {
  EXPECT_STREQ(to_string(OutcomeStatus::completed), "completed");
  EXPECT_STREQ(to_string(OutcomeStatus::missed), "missed");
  EXPECT_STREQ(to_string(OutcomeStatus::rejected), "rejected");
  EXPECT_STREQ(to_string(OutcomeStatus::failed), "failed");
  EXPECT_EQ(Outcome{}.status, OutcomeStatus::failed);  // an outcome nobody filled in is not a success
}

}  // namespace
}  // namespace imprecise
