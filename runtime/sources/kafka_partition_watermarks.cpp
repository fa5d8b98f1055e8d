#include "runtime/sources/kafka_partition_watermarks.h"

#include <algorithm>

namespace pipec::runtime {

void KafkaPartitionWatermarks::assign(const TopicPartition& partition, int64_t nowMs) {
    auto [it, inserted] = partitions_.try_emplace(partition);
    if (inserted) it->second.lastActivityMs = nowMs;
    minimumPartition_ = nullptr;
    if (!it->second.maxEventTimeMs) currentMinimum_.reset();  // unknown until the partition delivers a time
}

void KafkaPartitionWatermarks::revoke(const TopicPartition& partition) {
    partitions_.erase(partition);
    minimumPartition_ = nullptr;  // recompute at the next record
}

void KafkaPartitionWatermarks::observe(PartitionState& state, int64_t eventTimeMs, int64_t nowMs) {
    state.lastActivityMs = nowMs;
    if (!state.maxEventTimeMs || eventTimeMs > *state.maxEventTimeMs) state.maxEventTimeMs = eventTimeMs;
    if (!maxSeenMs_ || eventTimeMs > *maxSeenMs_) maxSeenMs_ = eventTimeMs;
}

bool KafkaPartitionWatermarks::isIdle(const PartitionState& state, int64_t nowMs) const {
    return idleTimeoutMs_ > 0 && nowMs - state.lastActivityMs >= idleTimeoutMs_;
}

size_t KafkaPartitionWatermarks::activePartitions(int64_t nowMs) const {
    return static_cast<size_t>(std::count_if(partitions_.begin(), partitions_.end(),
                                             [&](const auto& entry) { return !isIdle(entry.second, nowMs); }));
}

std::optional<int64_t> KafkaPartitionWatermarks::watermarkBaseAfter(const PartitionState& partition, int64_t nowMs) {
    if (minimumPartition_ != nullptr && minimumPartition_ != &partition) return lastReturned_;
    return watermarkBase(nowMs);
}

std::optional<int64_t> KafkaPartitionWatermarks::watermarkBase(int64_t nowMs) {
    std::optional<int64_t> base;
    bool anyActive = false;
    minimumPartition_ = nullptr;
    for (const auto& [partition, state] : partitions_) {
        if (isIdle(state, nowMs)) continue;
        anyActive = true;
        if (!state.maxEventTimeMs) {  // an active partition with unknown times holds it back
            currentMinimum_.reset();
            minimumPartition_ = nullptr;  // recompute at every record until this partition delivers a time
            return lastReturned_;
        }
        if (!base || *state.maxEventTimeMs < *base) {
            base = state.maxEventTimeMs;
            minimumPartition_ = &state;
        }
    }
    if (!anyActive) {
        base = maxSeenMs_;
        minimumPartition_ = nullptr;
    }
    currentMinimum_ = base;
    if (base && (!lastReturned_ || *base > *lastReturned_)) lastReturned_ = base;
    return lastReturned_;
}

} // namespace pipec::runtime
