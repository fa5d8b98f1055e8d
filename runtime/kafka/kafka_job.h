#pragma once

#include "runtime/core/row_sink.h"
#include "runtime/kafka/kafka_job_status.h"

#include <pipec/plan.pb.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pipec::runtime {

/// How a Kafka job consumes its topic and checkpoints its state.
struct KafkaJobOptions {
    std::string brokers;
    std::string groupId;
    std::vector<std::string> topics;      // the plan's source topic
    std::string deadLetterTopic;          // empty: rejected records are only counted and logged
    int64_t idleTimeoutMs = 30000;        // a partition silent this long stops holding the watermark back; <= 0 never
    /// Event times further than this ahead of the wall clock are rejected as `time_in_future` (EventTimeGuard);
    /// <= 0: not checked.
    int64_t maxFutureSkewMs = 3'600'000;
    bool untilEnd = false;                // stop at the end of every assigned partition; the watermark jumps to +inf
    int64_t commitIntervalMs = 5000;      // flush the sink at least this often (features reach it sooner)...
    uint64_t commitEveryRecords = 100000; // ...and after this many records
    int64_t checkpointIntervalMs = 10000; // checkpoint every task and commit its source offsets this often
    /// The changelog topic; empty: `<group>-<job>-changelog`.
    std::string changelogTopic;
    int sessionTimeoutMs = 6000;
    /// Static group membership (KafkaConsumerOptions::instanceId): e.g. the pod name of a StatefulSet.
    std::string instanceId{};
    size_t batchSize = 1000;              // records taken per poll
    std::map<std::string, std::string> properties; // librdkafka client settings (security, ...)
    /// Readiness (`/readyz`, JobStatus::notReadyReason): not ready once a sink has been blocked this long; <= 0 never.
    /// Read by whoever serves the probe, not by the job.
    int64_t sinkDownThresholdMs = 30000;
    int64_t lagIntervalMs = 5000;         // how often the lag monitor asks the broker for the high watermarks
    /// Stage 2 of a plan with a repartition exchange (docs/exchange.md): `topics` is the repartition topic, whose
    /// records are rows and watermark markers; each task's watermark comes from the markers.
    bool exchangeInput = false;
    /// A GROUP BY key seen in a second partition (a topic not keyed as the plan assumes): with `strictSplitKeys` the job
    /// stops with an error; otherwise it is counted (`pipec_split_keys_total`) and logged, the first few with their
    /// keys and partitions.
    bool strictSplitKeys = false;
    /// Where to log problems (bad records, commit failures, rebalances); default stderr.
    std::function<void(const std::string&)> log;
};

/// The changelog topic of a job run by a group: `<group>-<job>-changelog`.
std::string changelogTopicName(const std::string& groupId, const std::string& jobName);

/// A consumer-group member running one pipeline: one task per assigned source partition (its operator chain, its
/// state, its watermark), checkpoints of every task's state in the compacted changelog topic, and the source offsets
/// committed with each checkpoint. See docs/event-envelope.md ("Delivery guarantees").
///
/// - Assignment: a task is restored from the changelog at the checkpoint its partition's commit names, and the
///   partition is read from the offset committed with it.
/// - Revocation: the task's windows are flushed to the sink, its state checkpointed and its offsets committed, then it
///   is dropped. Lost partitions are dropped without a checkpoint: their next owner restores the last one.
/// - Every `checkpointIntervalMs` (and at shutdown): the sink is flushed, each task writes the state entries changed
///   since its previous checkpoint, and once the changelog acknowledged them, the source offsets are committed.
/// - The watermark of the member is the minimum over its tasks' partitions (idle ones aside); each task's windows fire
///   when it passes them.
class KafkaJob {
public:
    KafkaJob(const plan::Pipeline& pipeline, KafkaJobOptions options, RowSink& sink, JobStatus& status);
    ~KafkaJob();
    KafkaJob(const KafkaJob&) = delete;
    KafkaJob& operator=(const KafkaJob&) = delete;

    /// Runs until `stop` (a final checkpoint, exit 0) or, with `untilEnd`, until every partition is drained and all
    /// windows fired. Throws std::runtime_error on a fatal Kafka, changelog or sink error, without committing what
    /// the sink or the changelog did not acknowledge.
    int run(std::atomic<bool>& stop);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// Runs `pipeline` as a KafkaJob writing to `sink` (opened here with the plan's output columns).
int runKafkaJob(const plan::Pipeline& pipeline, const KafkaJobOptions& options, RowSink& sink, std::atomic<bool>& stop,
                JobStatus& status);

} // namespace pipec::runtime
