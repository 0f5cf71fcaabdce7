// split: the one rule for separated lists (ONNX metadata, our CSV lines, load schedules).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imprecise/core/split.hpp"

namespace imprecise {
namespace {

using Parts = std::vector<std::string>;

TEST(Split, EverySeparatorMakesOneMorePartEmptyOnesIncluded) {
  EXPECT_EQ(split("a,b,c", ','), (Parts{"a", "b", "c"}));
  EXPECT_EQ(split("", ','), (Parts{""}));
  EXPECT_EQ(split("a,", ','), (Parts{"a", ""}));
  EXPECT_EQ(split(",a", ','), (Parts{"", "a"}));
  EXPECT_EQ(split("a,,b", ','), (Parts{"a", "", "b"}));
  EXPECT_EQ(split(" a , b ", ','), (Parts{" a ", " b "})) << "no trimming";
  EXPECT_EQ(split("ramp:1:2", ':'), (Parts{"ramp", "1", "2"}));
}

}  // namespace
}  // namespace imprecise
