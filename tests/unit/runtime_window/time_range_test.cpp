// The compiler bounds every duration and interval by the runtime's event-time range, so that the window arithmetic
// (`time + size`, `time - delay`) of in-range event times cannot overflow.
#include "compiler/common/time_range.h"
#include "runtime/operators/pipeline_executor.h"

#include <doctest/doctest.h>

#include <limits>

TEST_CASE("the compiler's duration limit is the runtime's event-time limit") {
    CHECK(pipec::kMaxDurationMs == pipec::runtime::kEventTimeLimit);
    // The worst case the runtime computes: an in-range time plus a maximal size, minus a maximal delay.
    constexpr int64_t kLimit = pipec::kMaxDurationMs;
    CHECK(kLimit + kLimit <= std::numeric_limits<int64_t>::max() / 2);
    CHECK(-kLimit - kLimit >= std::numeric_limits<int64_t>::min() / 2);
}
