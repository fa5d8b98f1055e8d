#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace pipec::runtime {

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
    std::atomic<int64_t> watermarkMs{std::numeric_limits<int64_t>::min()}; // min: none yet
    std::atomic<int64_t> lag{-1};                                           // -1: unknown
    std::atomic<int> assignedPartitions{0};
    std::atomic<int> activePartitions{0};
    std::atomic<bool> running{false}; // consuming with at least one partition assigned

    uint64_t badTotal() const;
    /// The counters in the Prometheus text exposition format, labelled with the job name.
    std::string prometheusText(const std::string& jobName) const;
};

} // namespace pipec::runtime
