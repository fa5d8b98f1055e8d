#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace pipec::runtime {

/// What the guard decided about one record's event time.
enum class TimeVerdict {
    Accepted,
    InFuture, // implausibly far ahead: rejected as `time_in_future` before the watermark sees it
};

/// The event-time guard of a Kafka job: an event time further than `maxFutureSkewMs` ahead of the wall clock cannot
/// be real (a timestamp in microseconds, a producer's broken clock), and one such record would move the watermark
/// there and make every later record late. Stateless: the wall clock is the reference, which no record can move, so
/// the same guard serves every partition.
class EventTimeGuard {
public:
    static constexpr int64_t kDefaultMaxFutureSkewMs = 3'600'000;

    /// A skew of 0 or less switches the guard off.
    explicit EventTimeGuard(int64_t maxFutureSkewMs = kDefaultMaxFutureSkewMs) : maxFutureSkewMs_(maxFutureSkewMs) {}

    bool enabled() const { return maxFutureSkewMs_ > 0; }
    int64_t maxFutureSkewMs() const { return maxFutureSkewMs_; }
    TimeVerdict check(int64_t eventTimeMs, int64_t wallClockMs) const;

private:
    int64_t maxFutureSkewMs_;
};

/// The event-time guard of an offline replay (one per file, i.e. per partition), where the wall clock says nothing
/// about old data. The reference is the data itself: a record is rejected as in the future when its time is more
/// than the skew ahead of both
///   - the latest time accepted before it (the past), and
///   - the lower median of the times of the next `lookAhead` records (the future),
/// so it is a spike above its neighbours on both sides. A lone bad record is rejected wherever it is, also first
/// (it has no past, but its successors are far below it). A real jump in the data (a gap between two days of
/// events) is accepted, because the records after it agree with it. The price: a run of fewer than about
/// lookAhead/2 records that jumps ahead and comes back is taken for bad records; a record with no successor (the last
/// one of a file) is always accepted, as nothing after it could be made late by it.
///
/// Records go in with push() in input order; their verdicts come out with pop() in the same order, as soon as they
/// can be decided: at once for a record within the skew of the latest accepted time (the usual case), after up to
/// `lookAhead` later records (or finish()) otherwise. The caller holds back the records in between, so the order
/// the pipeline sees does not change.
class ReplayTimeGuard {
public:
    static constexpr size_t kDefaultLookAhead = 8;

    /// A skew of 0 or less switches the guard off (every verdict is Accepted, at once).
    explicit ReplayTimeGuard(int64_t maxFutureSkewMs = EventTimeGuard::kDefaultMaxFutureSkewMs,
                             size_t lookAhead = kDefaultLookAhead);

    /// The next record's event time.
    void push(int64_t eventTimeMs);
    /// The next record has no event time (a NULL time field): always accepted, and no reference for others.
    void pushWithoutTime();
    /// No more records: the ones still waiting are decided with the records that followed them.
    void finish();
    /// True when the oldest record not yet popped can be decided.
    bool ready() const;
    /// The verdict of the oldest record not yet popped. Requires ready().
    TimeVerdict pop();
    /// Records pushed and not yet popped.
    size_t waiting() const { return times_.size(); }

private:
    int64_t maxFutureSkewMs_;
    size_t lookAhead_;
    std::deque<std::optional<int64_t>> times_; // waiting records, oldest first
    std::optional<int64_t> latestAccepted_;
    bool finished_ = false;
};

/// True when `time` is more than `skewMs` (> 0) ahead of `reference`, without overflow for any int64 values.
bool isAheadBy(int64_t time, int64_t reference, int64_t skewMs);

} // namespace pipec::runtime
