#include "apimachinery/resource/big_unsigned.h"

#include <gtest/gtest.h>

namespace kpp::resource::internal {
namespace {

TEST(BigUnsignedTest, DecimalRoundTrip) {
  for (const char* digits : {"0", "1", "999999999", "1000000000", "123456789012345678901234567890",
                             "18446744073709551616"}) {
    EXPECT_EQ(BigUnsigned::FromDecimal(digits).ToDecimal(), digits);
  }
  EXPECT_EQ(BigUnsigned::FromDecimal("000123").ToDecimal(), "123");
  EXPECT_TRUE(BigUnsigned::FromDecimal("").IsZero());
}

TEST(BigUnsignedTest, AddSubtractCompare) {
  BigUnsigned a = BigUnsigned::FromDecimal("999999999999999999");
  a.Add(BigUnsigned(1));
  EXPECT_EQ(a.ToDecimal(), "1000000000000000000");
  a.Subtract(BigUnsigned(1));
  EXPECT_EQ(a.ToDecimal(), "999999999999999999");
  EXPECT_EQ(a.Compare(BigUnsigned(1)), 1);
  EXPECT_EQ(BigUnsigned(1).Compare(a), -1);
  EXPECT_EQ(a.Compare(BigUnsigned::FromDecimal("999999999999999999")), 0);
  a.Subtract(a);
  EXPECT_TRUE(a.IsZero());
}

TEST(BigUnsignedTest, MultiplyAndDivide) {
  BigUnsigned a(1);
  a.MultiplyPow2(70);
  EXPECT_EQ(a.ToDecimal(), "1180591620717411303424");
  a.MultiplyPow10(20);
  EXPECT_EQ(a.TrailingDecimalZeros(), 20u);
  EXPECT_EQ(a.DecimalDigits(), 42u);
  EXPECT_FALSE(a.DividePow10(20));
  EXPECT_EQ(a.ToDecimal(), "1180591620717411303424");
  EXPECT_TRUE(a.DividePow10(3));
  EXPECT_EQ(a.ToDecimal(), "1180591620717411303");
  EXPECT_EQ(a.DivideSmall(1000), 303u);
  BigUnsigned b = BigUnsigned::FromDecimal("123456789123456789");
  b.Multiply(BigUnsigned::FromDecimal("987654321987654321"));
  EXPECT_EQ(b.ToDecimal(), "121932631356500531347203169112635269");
  EXPECT_TRUE(BigUnsigned(5).DividePow10(100));
}

TEST(BigUnsignedTest, ToUint64) {
  EXPECT_EQ(BigUnsigned::FromDecimal("18446744073709551615").ToUint64(), UINT64_MAX);
  EXPECT_FALSE(BigUnsigned::FromDecimal("18446744073709551616").ToUint64().has_value());
  EXPECT_EQ(BigUnsigned().ToUint64(), 0u);
}

}  // namespace
}  // namespace kpp::resource::internal
