// The CPU-time readers the benchmarks share: /proc's ticks for any process and getrusage's
// microseconds for this one agree, and both grow with work done.
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/subprocess.h"

namespace kpp::testing {
namespace {

TEST(CpuSecondsTest, ProcAndRusageAgreeOnThisProcess) {
  const double proc_before = ProcessCpuSeconds(getpid());
  const double own_before = OwnCpuSeconds();
  // A quarter of a second of CPU, however busy the machine is.
  volatile unsigned spin = 0;
  while (OwnCpuSeconds() - own_before < 0.25)
    spin = spin + 1;
  const double proc_used = ProcessCpuSeconds(getpid()) - proc_before;
  const double own_used = OwnCpuSeconds() - own_before;
  EXPECT_NEAR(proc_used, own_used, 0.05);  // /proc counts whole 10 ms ticks
  EXPECT_EQ(ProcessCpuSeconds(-1), 0);
}

}  // namespace
}  // namespace kpp::testing
