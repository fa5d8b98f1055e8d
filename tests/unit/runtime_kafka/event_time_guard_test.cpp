#include "runtime/sources/event_time_guard.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

using namespace pipec::runtime;

namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kStart = 1767225600000; // 2026-01-01T00:00:00Z
constexpr int64_t kMicroseconds = kStart * 1000; // the same instant in microseconds: year 57971 as milliseconds

/// Runs the times through a replay guard and returns the verdicts in input order (true: accepted).
std::vector<bool> replay(const std::vector<int64_t>& times, int64_t skew = kHour, size_t lookAhead = 8) {
    ReplayTimeGuard guard(skew, lookAhead);
    std::vector<bool> accepted;
    for (int64_t time : times) {
        guard.push(time);
        while (guard.ready()) accepted.push_back(guard.pop() == TimeVerdict::Accepted);
    }
    guard.finish();
    while (guard.ready()) accepted.push_back(guard.pop() == TimeVerdict::Accepted);
    CHECK(guard.waiting() == 0);
    return accepted;
}

} // namespace

TEST_CASE("Kafka guard: more than the skew ahead of the wall clock is in the future") {
    EventTimeGuard guard(kHour);
    CHECK(guard.check(kStart, kStart) == TimeVerdict::Accepted);
    CHECK(guard.check(kStart + kHour, kStart) == TimeVerdict::Accepted);
    CHECK(guard.check(kStart + kHour + 1, kStart) == TimeVerdict::InFuture);
    CHECK(guard.check(kMicroseconds, kStart) == TimeVerdict::InFuture);
    CHECK(guard.check(0, kStart) == TimeVerdict::Accepted); // old data is the watermark's business, not the guard's
    CHECK(guard.check(std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()) == TimeVerdict::InFuture);
    CHECK(guard.check(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()) == TimeVerdict::Accepted);
}

TEST_CASE("Kafka guard: a skew of 0 or less switches it off") {
    CHECK_FALSE(EventTimeGuard(0).enabled());
    CHECK(EventTimeGuard(0).check(kMicroseconds, kStart) == TimeVerdict::Accepted);
    CHECK(EventTimeGuard(-1).check(kMicroseconds, kStart) == TimeVerdict::Accepted);
}

TEST_CASE("replay guard: the issue's three lines — the microsecond time is rejected, the rest accepted") {
    CHECK(replay({kStart, kMicroseconds, kStart + 30'000}) == std::vector<bool>{true, false, true});
}

TEST_CASE("replay guard: a bad first record is rejected by the records after it") {
    CHECK(replay({kMicroseconds, kStart, kStart + 30'000}) == std::vector<bool>{false, true, true});
    CHECK(replay({kMicroseconds, kStart}) == std::vector<bool>{false, true});
}

TEST_CASE("replay guard: a bad record in the middle of ordered data, and a small cluster of them") {
    std::vector<int64_t> times;
    for (int i = 0; i < 40; ++i) times.push_back(kStart + i * 1000);
    times[20] = kMicroseconds;
    times[21] = kMicroseconds + 5;
    times[22] = kMicroseconds + 9;
    std::vector<bool> expected(40, true);
    expected[20] = expected[21] = expected[22] = false;
    CHECK(replay(times) == expected);
}

TEST_CASE("replay guard: a real jump in the data (a day later) is accepted, also sparse data far apart") {
    std::vector<int64_t> times;
    for (int i = 0; i < 20; ++i) times.push_back(kStart + i * 1000);
    for (int i = 0; i < 20; ++i) times.push_back(kStart + 24 * kHour + i * 1000);
    CHECK(replay(times) == std::vector<bool>(40, true));
    std::vector<int64_t> daily;
    for (int i = 0; i < 12; ++i) daily.push_back(kStart + i * 24 * kHour);
    CHECK(replay(daily) == std::vector<bool>(12, true));
}

TEST_CASE("replay guard: out of order within the skew, and far back, is accepted") {
    CHECK(replay({kStart, kStart + 50 * 60'000, kStart + 10'000, kStart - 24 * kHour, kStart + 20'000}) ==
          std::vector<bool>(5, true));
}

TEST_CASE("replay guard: a single record, and a last record with nothing after it, are accepted") {
    CHECK(replay({kMicroseconds}) == std::vector<bool>{true});
    CHECK(replay({kStart, kStart + 1000, kMicroseconds}) == std::vector<bool>{true, true, true});
}

TEST_CASE("replay guard: verdicts come at once for ordinary records, after the look-ahead for suspicious ones") {
    ReplayTimeGuard guard(kHour, 4);
    guard.push(kStart); // no past yet: waits for the records after it
    CHECK_FALSE(guard.ready());
    for (int i = 1; i <= 4; ++i) guard.push(kStart + i);
    REQUIRE(guard.ready());
    CHECK(guard.pop() == TimeVerdict::Accepted);
    while (guard.ready()) CHECK(guard.pop() == TimeVerdict::Accepted);
    guard.push(kStart + 10); // within the skew of the latest accepted time: decided at once
    REQUIRE(guard.ready());
    CHECK(guard.pop() == TimeVerdict::Accepted);
    guard.push(kMicroseconds);
    CHECK_FALSE(guard.ready());
    for (int i = 0; i < 4; ++i) guard.push(kStart + 20 + i);
    REQUIRE(guard.ready());
    CHECK(guard.pop() == TimeVerdict::InFuture);
    ReplayTimeGuard empty(kHour);
    CHECK_THROWS_AS((void)empty.pop(), std::logic_error);
}

TEST_CASE("replay guard: records without a time are accepted and vouch for nothing") {
    ReplayTimeGuard guard(kHour, 3);
    guard.push(kStart);
    guard.push(kStart + 1);
    guard.push(kStart + 2);
    guard.push(kStart + 3);
    while (guard.ready()) CHECK(guard.pop() == TimeVerdict::Accepted);
    REQUIRE(guard.waiting() == 0);
    guard.push(kMicroseconds);
    guard.pushWithoutTime();
    guard.pushWithoutTime();
    guard.push(kStart + 4);
    guard.finish();
    CHECK(guard.pop() == TimeVerdict::InFuture); // judged by kStart + 4, the one timed record of the next three
    CHECK(guard.pop() == TimeVerdict::Accepted);
    CHECK(guard.pop() == TimeVerdict::Accepted);
    CHECK(guard.pop() == TimeVerdict::Accepted);
}

TEST_CASE("replay guard: a skew of 0 switches it off") {
    CHECK(replay({kStart, kMicroseconds, kStart + 1}, 0) == std::vector<bool>{true, true, true});
}
