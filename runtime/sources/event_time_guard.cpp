#include "runtime/sources/event_time_guard.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace pipec::runtime {

bool isAheadBy(int64_t time, int64_t reference, int64_t skewMs) {
    // The difference of two int64 values fits in uint64 when it is positive: computed there, it cannot overflow.
    return time > reference &&
           static_cast<uint64_t>(time) - static_cast<uint64_t>(reference) > static_cast<uint64_t>(skewMs);
}

TimeVerdict EventTimeGuard::check(int64_t eventTimeMs, int64_t wallClockMs) const {
    if (!enabled()) return TimeVerdict::Accepted;
    return isAheadBy(eventTimeMs, wallClockMs, maxFutureSkewMs_) ? TimeVerdict::InFuture : TimeVerdict::Accepted;
}

ReplayTimeGuard::ReplayTimeGuard(int64_t maxFutureSkewMs, size_t lookAhead)
    : maxFutureSkewMs_(maxFutureSkewMs), lookAhead_(std::max<size_t>(1, lookAhead)) {}

void ReplayTimeGuard::push(int64_t eventTimeMs) { times_.emplace_back(eventTimeMs); }

void ReplayTimeGuard::pushWithoutTime() { times_.emplace_back(std::nullopt); }

void ReplayTimeGuard::finish() { finished_ = true; }

bool ReplayTimeGuard::ready() const {
    if (times_.empty()) return false;
    if (maxFutureSkewMs_ <= 0 || !times_.front()) return true;
    if (latestAccepted_ && !isAheadBy(*times_.front(), *latestAccepted_, maxFutureSkewMs_)) return true;
    return finished_ || times_.size() > lookAhead_;
}

TimeVerdict ReplayTimeGuard::pop() {
    if (!ready()) throw std::logic_error("ReplayTimeGuard::pop before its verdict can be decided");
    std::optional<int64_t> time = times_.front();
    times_.pop_front();
    if (maxFutureSkewMs_ <= 0 || !time) return TimeVerdict::Accepted;
    bool aheadOfPast = !latestAccepted_ || isAheadBy(*time, *latestAccepted_, maxFutureSkewMs_);
    if (aheadOfPast) {
        std::vector<int64_t> following;
        for (size_t i = 0; i < times_.size() && i < lookAhead_; ++i)
            if (times_[i]) following.push_back(*times_[i]);
        if (!following.empty()) {
            // The lower median: with an even count the earlier of the two middle times, so a tie between spikes
            // and good records does not vouch for a spike.
            auto median = following.begin() + static_cast<std::ptrdiff_t>((following.size() - 1) / 2);
            std::nth_element(following.begin(), median, following.end());
            if (isAheadBy(*time, *median, maxFutureSkewMs_)) return TimeVerdict::InFuture;
        }
    }
    latestAccepted_ = latestAccepted_ ? std::max(*latestAccepted_, *time) : *time;
    return TimeVerdict::Accepted;
}

} // namespace pipec::runtime
