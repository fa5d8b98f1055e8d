#include "runtime/exchange/exchange_watermarks.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace pipec::runtime {

void SourcePartitionClock::assign(int32_t partition, int64_t nowMs) {
    State& state = states_[partition];
    state = State{};
    state.lastActivityMs = nowMs;
}

void SourcePartitionClock::revoke(int32_t partition) { states_.erase(partition); }

void SourcePartitionClock::observe(int32_t partition, int64_t timeMs, int64_t nowMs) {
    State& state = states_[partition];
    if (!state.maxEventTime || timeMs > *state.maxEventTime) state.maxEventTime = timeMs;
    state.lastActivityMs = nowMs;
    state.ended = false;
}

void SourcePartitionClock::end(int32_t partition) { states_[partition].ended = true; }

ExchangeCodec::MarkerEntry SourcePartitionClock::entry(int32_t partition, int64_t nowMs) const {
    ExchangeCodec::MarkerEntry entry;
    entry.partition = partition;
    auto found = states_.find(partition);
    if (found == states_.end()) return entry;
    const State& state = found->second;
    // Event times are bounded (±2^60 ms) and so is the delay: no overflow.
    if (state.maxEventTime) entry.watermark = *state.maxEventTime - delayMs_;
    entry.end = state.ended;
    entry.idle = !state.ended && idleTimeoutMs_ > 0 && nowMs - state.lastActivityMs >= idleTimeoutMs_;
    return entry;
}

ExchangeCodec::Marker SourcePartitionClock::marker(int32_t partitions, int64_t nowMs) const {
    ExchangeCodec::Marker marker;
    marker.partitions = partitions;
    for (const auto& [partition, state] : states_) marker.entries.push_back(entry(partition, nowMs));
    return marker;
}

std::vector<int32_t> SourcePartitionClock::partitions() const {
    std::vector<int32_t> out;
    for (const auto& [partition, state] : states_) out.push_back(partition);
    return out;
}

UpstreamWatermarks::Upstream& UpstreamWatermarks::upstream(int32_t partition) {
    if (partition >= static_cast<int32_t>(upstream_.size())) upstream_.resize(static_cast<size_t>(partition) + 1);
    return upstream_[static_cast<size_t>(partition)];
}

void UpstreamWatermarks::observe(const ExchangeCodec::Marker& marker) {
    // The source topic may have grown: the largest count heard is the one to wait for.
    expected_ = std::max(expected_, marker.partitions);
    for (const ExchangeCodec::MarkerEntry& entry : marker.entries) {
        Upstream& state = upstream(entry.partition);
        state.heard = true;
        if (entry.watermark && (!state.watermark || *entry.watermark > *state.watermark)) state.watermark = entry.watermark;
        state.idle = entry.idle;
        state.end = entry.end;
    }
}

bool UpstreamWatermarks::admitRow(int32_t partition, int64_t offset) {
    Upstream& state = upstream(partition);
    if (offset <= state.appliedOffset) return false;
    state.appliedOffset = offset;
    return true;
}

std::optional<int64_t> UpstreamWatermarks::watermark() {
    if (expected_ == 0 || static_cast<int32_t>(upstream_.size()) < expected_) return lastReturned_;
    std::optional<int64_t> minimum;
    std::optional<int64_t> idleMaximum;
    bool anyActive = false;
    bool allEnded = true;
    for (int32_t p = 0; p < expected_; ++p) {
        const Upstream& state = upstream_[static_cast<size_t>(p)];
        if (!state.heard) return lastReturned_;
        if (!state.end) allEnded = false;
        if (state.end) continue;
        if (state.idle) {
            if (state.watermark && (!idleMaximum || *state.watermark > *idleMaximum)) idleMaximum = state.watermark;
            continue;
        }
        anyActive = true;
        if (!state.watermark) return lastReturned_;  // an active partition without events: nothing is known of its times
        if (!minimum || *state.watermark < *minimum) minimum = state.watermark;
    }
    std::optional<int64_t> result;
    if (allEnded) result = std::numeric_limits<int64_t>::max();
    else if (anyActive) result = minimum;
    else result = idleMaximum;
    if (result && (!lastReturned_ || *result > *lastReturned_)) lastReturned_ = result;
    return lastReturned_;
}

std::vector<std::optional<int64_t>> UpstreamWatermarks::upstreamWatermarks() const {
    std::vector<std::optional<int64_t>> out;
    for (const Upstream& state : upstream_) out.push_back(state.watermark);
    return out;
}

void UpstreamWatermarks::write(StateWriter& writer) const {
    writer.writeU64(static_cast<uint64_t>(expected_));
    writer.writeU64(upstream_.size());
    for (const Upstream& state : upstream_) {
        writer.writeBool(state.heard);
        writer.writeBool(state.watermark.has_value());
        writer.writeI64(state.watermark.value_or(0));
        writer.writeBool(state.idle);
        writer.writeBool(state.end);
        writer.writeI64(state.appliedOffset);
    }
    writer.writeBool(lastReturned_.has_value());
    writer.writeI64(lastReturned_.value_or(0));
}

void UpstreamWatermarks::read(StateReader& reader) {
    uint64_t expected = reader.readU64();
    uint64_t count = reader.readCount(20);
    if (expected > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) throw std::runtime_error("corrupt exchange state");
    expected_ = static_cast<int32_t>(expected);
    upstream_.assign(count, Upstream{});
    for (Upstream& state : upstream_) {
        state.heard = reader.readBool();
        bool hasWatermark = reader.readBool();
        int64_t watermark = reader.readI64();
        if (hasWatermark) state.watermark = watermark;
        state.idle = reader.readBool();
        state.end = reader.readBool();
        state.appliedOffset = reader.readI64();
    }
    bool hasLast = reader.readBool();
    int64_t last = reader.readI64();
    if (hasLast) lastReturned_ = last;
}

} // namespace pipec::runtime
