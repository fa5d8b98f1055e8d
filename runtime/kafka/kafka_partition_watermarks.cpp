#include "runtime/kafka/kafka_partition_watermarks.h"

#include <algorithm>
#include <limits>

namespace pipec::runtime {

void KafkaPartitionWatermarks::assign(const TopicPartition& partition, int64_t nowMs) {
    auto [it, inserted] = partitions_.try_emplace(partition);
    if (inserted) it->second.lastActivityMs = nowMs;
    computed_ = false;
    minimumPartition_ = blockedBy_ = nullptr;
    if (!it->second.maxEventTimeMs) currentMinimum_.reset();  // unknown until the partition delivers a time
}

void KafkaPartitionWatermarks::revoke(const TopicPartition& partition) {
    partitions_.erase(partition);
    computed_ = false;  // recompute at the next record
    minimumPartition_ = blockedBy_ = nullptr;
}

void KafkaPartitionWatermarks::restoreMaxEventTime(const TopicPartition& partition, int64_t eventTimeMs) {
    PartitionState& restored = state(partition);
    if (!restored.maxEventTimeMs || eventTimeMs > *restored.maxEventTimeMs) restored.maxEventTimeMs = eventTimeMs;
    if (!maxSeenMs_ || eventTimeMs > *maxSeenMs_) maxSeenMs_ = eventTimeMs;
    computed_ = false;
    minimumPartition_ = blockedBy_ = nullptr;
}

void KafkaPartitionWatermarks::observe(PartitionState& state, int64_t eventTimeMs, int64_t nowMs) {
    observedSinceComputation_ = true;
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
    // Not counted as active by the last computation (it was idle, or there was none): it may now hold the minimum.
    // Once the first counted partition may have gone idle: recompute.
    observedSinceComputation_ = false;  // the record is accounted for below
    if (!computed_ || nowMs >= nextIdleChangeMs_ || partition.countedIn != computation_) return recompute(nowMs);
    if (blockedBy_ != nullptr) return &partition == blockedBy_ ? recompute(nowMs) : lastReturned_;
    // Other partitions only move up, so a record of one that is not the minimum cannot change the minimum.
    if (&partition != minimumPartition_) return lastReturned_;
    if (secondMinimum_ && *partition.maxEventTimeMs > *secondMinimum_) return recompute(nowMs);
    // Still at or below every other active partition: it still holds the minimum.
    currentMinimum_ = partition.maxEventTimeMs;
    if (!lastReturned_ || *currentMinimum_ > *lastReturned_) lastReturned_ = currentMinimum_;
    return lastReturned_;
}

std::optional<int64_t> KafkaPartitionWatermarks::watermarkBase(int64_t nowMs) {
    // Nothing changed since the last computation (records went through watermarkBaseAfter, which keeps its result
    // exact), and no partition it counted as active can have gone idle yet: the same result, without visiting every
    // partition (the Kafka loop asks once per poll, with hundreds of partitions assigned).
    if (computed_ && !observedSinceComputation_ && nowMs < nextIdleChangeMs_) return lastReturned_;
    return recompute(nowMs);
}

std::optional<int64_t> KafkaPartitionWatermarks::recompute(int64_t nowMs) {
    ++computation_;
    computed_ = true;
    observedSinceComputation_ = false;
    nextIdleChangeMs_ = std::numeric_limits<int64_t>::max();
    minimumPartition_ = nullptr;
    blockedBy_ = nullptr;
    secondMinimum_.reset();
    bool anyActive = false;
    for (auto& [topicPartition, state] : partitions_) {
        if (isIdle(state, nowMs)) continue;
        anyActive = true;
        state.countedIn = computation_;
        if (idleTimeoutMs_ > 0) nextIdleChangeMs_ = std::min(nextIdleChangeMs_, state.lastActivityMs + idleTimeoutMs_);
        if (!state.maxEventTimeMs) {  // an active partition with unknown times holds it back
            if (blockedBy_ == nullptr) blockedBy_ = &state;
            continue;
        }
        if (minimumPartition_ == nullptr || *state.maxEventTimeMs < *minimumPartition_->maxEventTimeMs) {
            if (minimumPartition_ != nullptr) secondMinimum_ = minimumPartition_->maxEventTimeMs;
            minimumPartition_ = &state;
        } else if (!secondMinimum_ || *state.maxEventTimeMs < *secondMinimum_) {
            secondMinimum_ = state.maxEventTimeMs;
        }
    }
    if (!anyActive) {
        currentMinimum_ = maxSeenMs_;  // every partition idle: the maximum seen anywhere
    } else if (blockedBy_ != nullptr) {
        currentMinimum_.reset();
    } else {
        currentMinimum_ = minimumPartition_->maxEventTimeMs;
    }
    if (currentMinimum_ && (!lastReturned_ || *currentMinimum_ > *lastReturned_)) lastReturned_ = currentMinimum_;
    return lastReturned_;
}

} // namespace pipec::runtime
