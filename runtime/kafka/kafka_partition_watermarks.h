#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace pipec::runtime {

/// A topic partition, ordered so it can key maps.
using TopicPartition = std::pair<std::string, int32_t>;

/// Tracks event time per assigned partition and derives the job's watermark base: the minimum over active
/// partitions of the maximum event time each has seen. Taking the minimum keeps one slow partition from having
/// its rows counted late because another partition ran ahead. A partition that delivered nothing for
/// `idleTimeoutMs` is idle and excluded, so a quiet partition cannot stall every window. The caller subtracts the
/// watermark delay.
class KafkaPartitionWatermarks {
public:
    /// idleTimeoutMs <= 0: partitions never become idle.
    explicit KafkaPartitionWatermarks(int64_t idleTimeoutMs) : idleTimeoutMs_(idleTimeoutMs) {}

    struct PartitionState {
        std::optional<int64_t> maxEventTimeMs;
        int64_t lastActivityMs = 0; // assignment time until the first record
        uint64_t countedIn = 0;     // the computation that last counted this partition as active
    };

    void assign(const TopicPartition& partition, int64_t nowMs);
    void revoke(const TopicPartition& partition);
    /// The state of `partition` (created when unknown), stable until the partition is revoked: the per-record calls
    /// below take it, so a run of records from one partition looks the partition up once.
    PartitionState& state(const TopicPartition& partition) {
        auto [it, inserted] = partitions_.try_emplace(partition);
        if (inserted) computed_ = false;  // a partition nothing is known about may hold the minimum back
        return it->second;
    }
    /// A partition restored from a checkpoint: the maximum event time it had seen (not activity: until its first
    /// record it counts as silent since its assignment).
    void restoreMaxEventTime(const TopicPartition& partition, int64_t eventTimeMs);
    /// A record with event time `eventTimeMs` arrived on `partition` at wall-clock `nowMs`.
    void observe(PartitionState& partition, int64_t eventTimeMs, int64_t nowMs);
    void observe(const TopicPartition& partition, int64_t eventTimeMs, int64_t nowMs) { observe(state(partition), eventTimeMs, nowMs); }

    /// The watermark base at wall-clock `nowMs`, never lower than a value returned before. Empty while an active
    /// partition has not delivered any event yet (nothing is known about its times) or nothing was seen at all.
    /// When every partition is idle, the maximum seen anywhere is used, so windows still close on a quiet topic.
    std::optional<int64_t> watermarkBase(int64_t nowMs);
    /// The same, always computed over every partition (watermarkBase skips that when nothing can have changed).
    std::optional<int64_t> recompute(int64_t nowMs);
    /// The watermark base right after a record of `partition`, as cheaply as possible and with the same result as
    /// watermarkBase(): only a record of the partition that holds the minimum (or of the one holding it back without
    /// times yet, or of one that was idle) can change it, and the minimum partition keeps the minimum while it stays
    /// at or below the next lowest one, so a full recomputation happens only when it overtakes that one.
    std::optional<int64_t> watermarkBaseAfter(const PartitionState& partition, int64_t nowMs);

    /// The minimum over the active partitions as of the last computation above, without the "never lower" rule: it
    /// drops when a partition behind the others is assigned. Empty when unknown (as above).
    std::optional<int64_t> currentMinimum() const { return currentMinimum_; }

    size_t activePartitions(int64_t nowMs) const;
    size_t assignedPartitions() const { return partitions_.size(); }

private:
    bool isIdle(const PartitionState& state, int64_t nowMs) const;

    int64_t idleTimeoutMs_;
    std::map<TopicPartition, PartitionState> partitions_;
    std::optional<int64_t> maxSeenMs_;  // over every partition ever observed, for the all-idle case
    std::optional<int64_t> lastReturned_;
    std::optional<int64_t> currentMinimum_;
    // What the last full computation found (valid until a partition is assigned or revoked):
    bool computed_ = false;
    int64_t nextIdleChangeMs_ = 0;                      // when the first partition it counted as active may go idle
    bool observedSinceComputation_ = false;             // a record observed outside watermarkBaseAfter since then
    uint64_t computation_ = 0;                          // numbers the computations, see PartitionState::countedIn
    const PartitionState* minimumPartition_ = nullptr;  // the active partition holding the minimum
    const PartitionState* blockedBy_ = nullptr;         // an active partition without times, which holds it back
    std::optional<int64_t> secondMinimum_;              // the minimum over the other active partitions
};

} // namespace pipec::runtime
