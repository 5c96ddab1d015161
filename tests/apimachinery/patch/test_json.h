// Test helpers: JSON literals and a JSON-aware equality assertion.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "apimachinery/patch/json_util.h"

namespace kpp::patch::testing {

// Parses a JSON literal; a malformed literal is a bug in the test, so it fails loudly.
inline boost::json::value Json(std::string_view text) {
  Result<boost::json::value> value = ParseJson(text);
  EXPECT_TRUE(value.ok()) << "bad JSON literal in test: " << text;
  return value.ok() ? std::move(value).value() : boost::json::value();
}

// Equal as JSON (object member order ignored, array order significant).
inline ::testing::AssertionResult JsonEq(const boost::json::value& actual,
                                         std::string_view expected) {
  const boost::json::value want = Json(expected);
  if (JsonEqual(actual, want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\n  actual:   " << boost::json::serialize(actual)
                                       << "\n  expected: " << boost::json::serialize(want);
}

}  // namespace kpp::patch::testing
