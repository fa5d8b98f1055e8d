#pragma once

#include "runtime/core/row_sink.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::runtime {

enum class CommitResult : uint8_t;  // runtime/kafka/kafka_consumer.h

/// Why a Kafka record was rejected instead of becoming a source row.
enum class BadRecordReason {
    InvalidCreatedAt,   // `event-created-at` present but not decimal epoch millis
    UnknownEncoding,    // `event-encoding` names no known encoding
    SchemaMismatch,     // `event-schema` names another message than the source's
    MissingTime,        // no event time: no created-at header (envelope time) or a NULL time field
    UndecodablePayload, // the payload does not parse with the source's schema/format
    TimeOutOfRange,     // an event time beyond ±2^60 ms (kEventTimeLimit): garbage that must not move the watermark
    TimeInFuture,       // an event time further ahead of the wall clock than the allowed skew (EventTimeGuard)
    Tombstone,          // a NULL value: a deletion marker of a compacted topic, not an event
    EmptyValue,         // a zero-length value: no event, whatever its schema would decode it to
    kCount,
};

std::string_view badRecordReasonName(BadRecordReason reason);
/// Whether records rejected for `reason` are copied to the dead-letter topic. Not tombstones: there is no value to
/// inspect, and a NULL-value copy would itself be a deletion marker there (on a compacted dead-letter topic it would
/// delete the copies of earlier bad records with the same key). They are counted and logged with their key instead.
bool isDeadLettered(BadRecordReason reason);

/// Live counters of a running Kafka job, written by the job thread and read by the metrics endpoint.
struct JobStatus {
    std::atomic<uint64_t> recordsIn{0};
    std::atomic<uint64_t> decoded{0};
    std::array<std::atomic<uint64_t>, static_cast<size_t>(BadRecordReason::kCount)> bad{};
    std::atomic<uint64_t> deadLettered{0};
    std::atomic<uint64_t> late{0};
    std::atomic<uint64_t> rowsOut{0};
    std::atomic<uint64_t> commits{0};
    std::atomic<uint64_t> commitFailures{0};
    std::atomic<uint64_t> commitsDeferred{0};      // periodic commits not sent while the group rebalanced
    /// Counts a commit in `commits`, `commitsDeferred` or `commitFailures`.
    void countCommit(CommitResult result);
    std::atomic<uint64_t> checkpoints{0};          // task checkpoints written (one per partition per checkpoint)
    std::atomic<uint64_t> changelogRecords{0};     // records written to the changelog topic
    std::atomic<uint64_t> changelogBytes{0};       // their key and value bytes
    std::atomic<uint64_t> restoredEntries{0};      // state entries restored from the changelog at assignments
    std::atomic<uint64_t> checkpointMicros{0};     // time spent writing checkpoints to the changelog and committing them
    std::atomic<int64_t> lastCheckpointMs{0};      // wall-clock time of the last committed checkpoint (0: none)
    std::atomic<int64_t> watermarkMs{std::numeric_limits<int64_t>::min()}; // min: none yet
    std::atomic<int64_t> lag{-1};                                           // -1: unknown
    std::atomic<int> assignedPartitions{0};
    std::atomic<int> activePartitions{0};
    std::atomic<int64_t> uncommittedRecords{0};  // records taken since the last committed checkpoint, over the tasks
    std::atomic<bool> running{false}; // consuming with at least one partition assigned
    /// Split keys (jobs without an exchange): a GROUP BY key that arrived in a second partition (each such pair once).
    std::atomic<uint64_t> splitKeys{0};

    /// The repartition exchange (plans with one; docs/exchange.md). Stage 1 writes the `Out` counters, stage 2 the
    /// others. A process running both stages has both.
    std::atomic<uint64_t> exchangeFiltered{0};     // stage 1: rows the WHERE dropped before the exchange
    std::atomic<uint64_t> exchangeRecordsOut{0};   // stage 1: rows produced to the repartition topic
    std::atomic<uint64_t> exchangeBytesOut{0};     // their key and value bytes
    std::atomic<uint64_t> exchangeMarkersOut{0};   // watermark markers produced
    std::atomic<uint64_t> exchangeRecordsIn{0};    // stage 2: repartition records consumed (rows and markers)
    std::atomic<uint64_t> exchangeDuplicates{0};   // stage 2: rows stage 1 produced again after a restart, dropped
    std::atomic<int64_t> exchangeLag{-1};          // stage 2: records behind the repartition topic's end (-1 unknown)
    std::atomic<int> exchangeAssignedPartitions{0};
    std::atomic<bool> exchangeRunning{false};      // stage 2 consuming with a partition assigned
    /// Stage 2: per source partition, the lowest watermark its markers gave this member's stage-2 tasks.
    mutable std::mutex exchangeMutex;
    std::map<int32_t, int64_t> upstreamWatermarks;
    /// The job's sink, asked for its health (SinkHealth) on every scrape and readiness probe; null: none. Set before
    /// the metrics endpoint starts; the sink must outlive the endpoint.
    std::atomic<const RowSink*> sink{nullptr};

    uint64_t badTotal() const;
    /// The health of every sink behind `sink` (empty without one).
    std::vector<SinkHealth> sinkHealth() const;
    /// Why the job is not ready to count as serving, or empty when it is: it must be consuming (at least one
    /// partition assigned), and no sink may have been blocked for `sinkDownThresholdMs` or longer (a job waiting on a
    /// down feature store writes nothing; see docs/deployment.md; <= 0: sinks are not looked at). Liveness is another matter: such a job is alive.
    std::string notReadyReason(int64_t sinkDownThresholdMs) const;
    /// The counters in the Prometheus text exposition format, labelled with the job name.
    std::string prometheusText(const std::string& jobName) const;
};

} // namespace pipec::runtime
