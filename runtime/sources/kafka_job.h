#pragma once

#include "runtime/core/row_sink.h"
#include "runtime/sources/envelope.h"
#include "runtime/sources/kafka_job_status.h"

#include <pipec/plan.pb.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::runtime {

/// How a Kafka job consumes its topics.
struct KafkaJobOptions {
    std::string brokers;
    std::string groupId;
    std::vector<std::string> topics;      // usually the plan's source topic
    std::string deadLetterTopic;          // empty: rejected records are only counted and logged
    int64_t idleTimeoutMs = 30000;        // a partition silent this long stops holding the watermark back; <= 0 never
    bool untilEnd = false;                // stop at the end of every assigned partition; the watermark jumps to +inf
    int64_t commitIntervalMs = 5000;      // flush the sink and commit offsets at least this often...
    uint64_t commitEveryRecords = 100000; // ...and after this many records
    int sessionTimeoutMs = 6000;
    size_t batchSize = 1000;              // records taken per poll
    /// Event times further than this ahead of the wall clock are rejected as `time_in_future` (EventTimeGuard);
    /// <= 0: not checked.
    int64_t maxFutureSkewMs = 3'600'000;
    std::map<std::string, std::string> properties; // librdkafka consumer settings (security, ...)
    /// Where to log problems (bad records, commit failures, rebalances); default stderr.
    std::function<void(const std::string&)> log;
};

enum class DecodeOutcome {
    Decoded,
    MissingTime, // the payload parsed but has no event time (absent time field, or no envelope time)
    Undecodable,
};

/// What the Kafka job loop drives per record: the record decoder and the pipeline executor in production, a fake in
/// tests. Output rows go to the sink the processor was built with; the loop flushes that same sink.
class KafkaRecordProcessor {
public:
    virtual ~KafkaRecordProcessor() = default;
    /// Decodes a payload (Confluent framing already removed) into a source row, setting every column (the row is
    /// reused from the previous record); `_time` at index 0 comes from the payload's time field, or from
    /// `envelopeTimeMs` (INT64_MIN: none) when the source uses the envelope time. On failure, `error` says why.
    virtual DecodeOutcome decode(PayloadEncoding encoding, std::string_view payload, int64_t envelopeTimeMs, Row& row,
                        std::string& error) = 0;
    /// Strips the Confluent wire-format prefix; false when the payload does not have one.
    virtual bool stripConfluentFraming(std::string_view& payload) = 0;
    virtual void process(Row& row) = 0;
    /// Like process(), naming where the row came from (a partition), so its keys' state can be dropped later.
    virtual void processFrom(Row& row, int32_t /*origin*/) { process(row); }
    /// Drops the open window state of keys whose rows came from these origins (partitions revoked from this member).
    virtual void discardOrigins(const std::vector<int32_t>& /*origins*/) {}
    /// The job watermark: the minimum over active partitions of their maximum event time, minus the source's delay.
    virtual void advanceWatermark(int64_t watermarkMs) = 0;
    /// End of a bounded input: fire every window.
    virtual void finish() = 0;
    virtual uint64_t lateRows() const = 0;
    /// True when a row of `origin` with this event time can no longer change the output (its windows fired), so its
    /// offset may be committed. Monotone in the time. The default suits stateless processing.
    virtual bool complete(int64_t /*time*/, int32_t /*origin*/) const { return true; }
    /// A partition taken over at a committed watermark other than the member's: its records from now on get a
    /// watermark of their own starting at `floorMs`, and windows up to `emittedUpToMs` are not emitted again (see
    /// PartitionedExecutor). Processors without windows ignore it.
    virtual void openLane(int32_t /*origin*/, int64_t /*floorMs*/, int64_t /*emittedUpToMs*/) {}
    /// A member that owns nothing yet starts its own windows at a commit, as a lane would (see
    /// PartitionedExecutor::resumeMain). Processors without windows only move their watermark.
    virtual void resumeMain(int64_t floorMs, int64_t /*emittedUpToMs*/) {
        if (floorMs != std::numeric_limits<int64_t>::min()) advanceWatermark(floorMs);
    }
    virtual size_t laneCount() const { return 0; }
    /// The watermark the job would have with every assigned partition (may be below the job watermark while a lane
    /// catches up); lanes follow it.
    virtual void setLaneWatermark(int64_t /*watermarkMs*/) {}
    virtual void advanceLanes() {}
    /// Up to where every window of `origin`'s keys was emitted: committed with the partition's offsets.
    virtual int64_t watermarkOf(int32_t /*origin*/, int64_t jobWatermarkMs) const { return jobWatermarkMs; }
    /// The floor for a lane that reads `origin` again from its commit position (below watermarkOf only while
    /// sessions are open); committed with it.
    virtual int64_t resumeFloorOf(int32_t /*origin*/, int64_t jobWatermarkMs) const { return jobWatermarkMs; }
    /// The event-time step at which `complete` can change (window slide or session gap).
    virtual int64_t completionGranularity() const { return 1; }
};

/// The consume → decode → process → flush → commit loop behind `runKafkaJob` (see there for the guarantees).
int runKafkaLoop(const plan::Pipeline& pipeline, KafkaRecordProcessor& processor, const KafkaJobOptions& options,
                 RowSink& sink, std::atomic<bool>& stop, JobStatus& status);

} // namespace pipec::runtime
