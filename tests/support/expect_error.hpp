// expect_error: runs `fn` and expects an imprecise::Error whose message contains every one of `parts`
// (the file, the field, what is wrong) — the shape of every bad-input test.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "imprecise/error.hpp"

namespace imprecise::test_support {

inline void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no Error thrown (expected one mentioning '" << parts.front() << "')";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

}  // namespace imprecise::test_support
