#include "runtime/sources/kafka_job.h"

#include "runtime/core/user_error.h"
#include "runtime/operators/pipeline_executor.h"
#include "runtime/sources/event_time_guard.h"
#include "runtime/sources/kafka_consumer.h"
#include "runtime/sources/kafka_partition_watermarks.h"
#include "runtime/sources/kafka_producer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <iostream>
#include <limits>
#include <optional>
#include <memory>
#include <stdexcept>

namespace pipec::runtime {
namespace {

int64_t wallClockMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// What a commit records about a partition's windows (Kafka commit metadata `pipec-watermark=W[;floor=F]`): every
/// window of its keys up to W was emitted, and a member reading it again from the committed offset must accept rows
/// from F on (below W only while sessions are open, see PipelineExecutor::resumeFloor).
struct CommittedWatermark {
    int64_t watermark;
    int64_t floor;
};
constexpr std::string_view kWatermarkTag = "pipec-watermark=";
constexpr std::string_view kFloorTag = ";floor=";

std::string formatCommittedWatermark(const CommittedWatermark& committed) {
    std::string text = std::string(kWatermarkTag) + std::to_string(committed.watermark);
    if (committed.floor < committed.watermark) text += std::string(kFloorTag) + std::to_string(committed.floor);
    return text;
}

std::optional<CommittedWatermark> parseCommittedWatermark(std::string_view metadata) {
    if (metadata.substr(0, kWatermarkTag.size()) != kWatermarkTag) return std::nullopt;
    metadata.remove_prefix(kWatermarkTag.size());
    size_t floorAt = metadata.find(kFloorTag);
    auto watermark = parseEpochMillis(metadata.substr(0, floorAt));
    if (!watermark) return std::nullopt;
    if (floorAt == std::string_view::npos) return CommittedWatermark{*watermark, *watermark};
    auto floor = parseEpochMillis(metadata.substr(floorAt + kFloorTag.size()));
    if (!floor || *floor > *watermark) return std::nullopt;
    return CommittedWatermark{*watermark, *floor};
}

/// "topic/0, topic/3, ..." for a log line, the first 16 of them.
std::string describePartitions(const std::vector<TopicPartition>& partitions) {
    std::string text;
    for (size_t i = 0; i < partitions.size() && i < 16; ++i)
        text += fmt::format("{}{}/{}", i == 0 ? "" : ", ", partitions[i].first, partitions[i].second);
    if (partitions.size() > 16) text += fmt::format(" and {} more", partitions.size() - 16);
    return text;
}

/// Logs the first few rejected records of each reason, then every 1000th, so a poisoned topic cannot flood the log.
bool shouldLog(uint64_t countOfReason) { return countOfReason <= 10 || countOfReason % 1000 == 0; }

} // namespace

int runKafkaLoop(const plan::Pipeline& pipeline, KafkaRecordProcessor& processor, const KafkaJobOptions& options,
                 RowSink& sink, std::atomic<bool>& stop, JobStatus& status) {
    std::function<void(const std::string&)> log = options.log;
    if (!log) log = [](const std::string& line) { std::cerr << line << "\n"; };
    const plan::Source& source = pipeline.source();
    const bool timeFromEnvelope = source.time_column() < 1;
    const PayloadEncoding defaultEncoding = source.format() == "json" ? PayloadEncoding::Json : PayloadEncoding::Protobuf;
    const std::string& job = pipeline.job_name();

    KafkaPartitionWatermarks watermarks(options.idleTimeoutMs);
    std::unique_ptr<KafkaProducer> deadLetters;
    if (!options.deadLetterTopic.empty()) deadLetters = std::make_unique<KafkaProducer>(options.brokers, options.properties);

    KafkaConsumerOptions consumerOptions;
    consumerOptions.brokers = options.brokers;
    consumerOptions.groupId = options.groupId;
    consumerOptions.topics = options.topics;
    consumerOptions.properties = options.properties;
    consumerOptions.reportEndOfPartition = options.untilEnd;
    consumerOptions.sessionTimeoutMs = options.sessionTimeoutMs;
    consumerOptions.log = log;
    KafkaConsumer consumer(consumerOptions);

    // Everything derived from the records handed out so far must be durable before their offsets are committed.
    auto flushOutputs = [&] {
        sink.flush();
        if (!deadLetters) return;
        if (!deadLetters->flush(60000))
            throw UserError("dead-letter records still undelivered after 60 s", UserError::kEnvironmentRefused);
        if (deadLetters->failed() > 0)
            throw UserError("dead-letter topic `" + options.deadLetterTopic + "` rejected records: " + deadLetters->lastError(),
                            UserError::kEnvironmentRefused);
    };
    // At-least-once for window state: an offset is committed only once every record before it can no longer change
    // the output (its windows fired and their rows were flushed). A record in a still-open window keeps the commit
    // position at or before it, so after a crash or a stop it is read again and its windows are rebuilt.
    // Per partition: (first offset, upper bound of the event times up to there), appended when that bound grows.
    struct PendingSpan {
        int64_t offset;
        int64_t timeBound;
    };
    std::map<TopicPartition, std::deque<PendingSpan>> pending;
    const int64_t granularity = std::max<int64_t>(1, processor.completionGranularity());
    auto observeTime = [&](std::deque<PendingSpan>& spans, int64_t offset, int64_t time) {
        int64_t quotient = time / granularity - ((time % granularity != 0) && (time < 0));
        int64_t bound = quotient * granularity + granularity - 1;  // the last time of the record's granule
        if (spans.empty() || bound > spans.back().timeBound) spans.push_back({offset, bound});
    };
    // Keys are assumed to live in one partition (the topic is keyed by the entity). When a partition moves to another
    // member, that member rebuilds its open windows from the committed offsets; this member must drop its copy, or it
    // would later emit windows built from part of the records. Origins number the partitions for the executor.
    std::map<TopicPartition, int32_t> origins;
    auto originOf = [&](const TopicPartition& partition) {
        return origins.try_emplace(partition, static_cast<int32_t>(origins.size())).first->second;
    };
    consumer.setCommitPosition([&](const TopicPartition& partition, int64_t next) {
        auto found = pending.find(partition);
        if (found == pending.end()) return next;
        auto& spans = found->second;
        int32_t origin = originOf(partition);
        while (!spans.empty() && processor.complete(spans.front().timeBound, origin)) spans.pop_front();
        return spans.empty() ? next : spans.front().offset;
    });

    // With each commit goes the partition's watermark: every window of its keys up to it has fired and been flushed
    // (the job watermark, or the partition's lane's). A member that later takes the partition continues from that
    // watermark, so records re-read from the commit position only rebuild the windows that were still open: it
    // neither re-emits partial copies of windows already emitted nor drops windows the previous owner never emitted.
    // After a drained bounded run (--until-end) every window fired and every offset is committed, so nothing is
    // re-read and there is nothing to resume: the +inf watermark must not be committed, or a member still consuming
    // that takes these partitions over (or a later run of the group) would fire all its open windows early.
    bool finished = false;
    consumer.setCommitMetadata([&](const TopicPartition& partition) -> std::string {
        if (finished) return {};
        int32_t origin = originOf(partition);
        int64_t jobWatermark = status.watermarkMs.load();
        int64_t watermark = processor.watermarkOf(origin, jobWatermark);
        if (watermark == std::numeric_limits<int64_t>::min()) return {};
        return formatCommittedWatermark({watermark, std::min(watermark, processor.resumeFloorOf(origin, jobWatermark))});
    });

    // Lanes follow the minimum over the partitions (see KafkaRecordProcessor::openLane); tracked only while open.
    bool lanesOpen = false;
    auto followLanes = [&] {
        auto minimum = watermarks.currentMinimum();
        processor.setLaneWatermark(minimum ? *minimum - source.watermark_delay_ms() : std::numeric_limits<int64_t>::min());
    };
    auto commit = [&] {
        flushOutputs();
        if (consumer.commitProcessed()) status.commits++;
        else status.commitFailures++;
    };
    consumer.onAssign([&](const std::vector<TopicPartition>& partitions) {
        int64_t now = wallClockMillis();
        // A member that owns no other partition has no open windows: it may start at the committed watermarks.
        const bool ownsNothing = watermarks.assignedPartitions() == 0;
        for (const auto& partition : partitions) {
            watermarks.assign(partition, now);
            pending.erase(partition);  // spans of an earlier assignment were committed (or dropped) at its revocation
        }
        std::vector<std::pair<TopicPartition, CommittedWatermark>> committed;
        for (const auto& [partition, metadata] : consumer.committedMetadata(partitions, 5000))
            if (auto value = parseCommittedWatermark(metadata)) committed.emplace_back(partition, *value);
        // Start at the lowest committed watermark. Never raised while other partitions are owned: their open windows
        // would fire before their records came.
        // When every partition committed the same watermark and floor (a plain restart, also of a job with open
        // sessions), the member's own windows continue from that commit as a lane would, so none needs a lane.
        if (ownsNothing) {
            const bool allSame = !committed.empty() && committed.size() == partitions.size() &&
                                 std::all_of(committed.begin(), committed.end(), [&](const auto& entry) {
                                     return entry.second.watermark == committed.front().second.watermark &&
                                            entry.second.floor == committed.front().second.floor;
                                 });
            int64_t floor = std::numeric_limits<int64_t>::min();
            int64_t emittedUpTo = std::numeric_limits<int64_t>::min();
            if (allSame && committed.front().second.floor >= status.watermarkMs.load()) {
                floor = committed.front().second.floor;
                emittedUpTo = committed.front().second.watermark;
            } else if (!committed.empty()) {
                floor = committed.front().second.watermark;
                for (const auto& entry : committed) floor = std::min(floor, entry.second.watermark);
                emittedUpTo = floor;
            }
            processor.resumeMain(floor, emittedUpTo);  // also clears what an earlier assignment resumed from
            if (floor > status.watermarkMs.load()) {
                status.watermarkMs = floor;
                log(fmt::format("job {}: resuming at the committed watermark {}{}", job, emittedUpTo,
                                floor < emittedUpTo ? fmt::format(", accepting rows from {}", floor) : ""));
            }
        }
        // A partition committed at another watermark than this member's continues from its own (a lane), and so
        // does one whose re-read rows need a lower floor (open sessions).
        size_t lanes = 0;
        const int64_t memberWatermark = status.watermarkMs.load();
        for (const auto& [partition, value] : committed) {
            if (value.watermark == processor.watermarkOf(originOf(partition), memberWatermark) &&
                value.floor == memberWatermark)
                continue;
            processor.openLane(originOf(partition), value.floor, value.watermark);
            if (++lanes > 16) continue;  // partitions from several members with open sessions can each need one
            log(fmt::format("job {}: {}/{} continues from its committed watermark {}{} (this member's is {})", job,
                            partition.first, partition.second, value.watermark,
                            value.floor < value.watermark ? fmt::format(", accepting rows from {}", value.floor) : "",
                            status.watermarkMs.load()));
        }
        if (lanes > 16) log(fmt::format("job {}: {} more partition(s) continue from their committed watermarks", job, lanes - 16));
        // A partition without a commit (new, or drained by a bounded run) starts at the member's watermark. While the
        // member's own windows still skip what a resumed commit emitted, that would hide its windows: a lane instead.
        for (const auto& partition : partitions) {
            const int32_t origin = originOf(partition);
            const bool hasCommit = std::any_of(committed.begin(), committed.end(),
                                               [&](const auto& entry) { return entry.first == partition; });
            if (!hasCommit && processor.watermarkOf(origin, memberWatermark) > memberWatermark)
                processor.openLane(origin, memberWatermark, memberWatermark);
        }
        lanesOpen = processor.laneCount() > 0;
        status.assignedPartitions = static_cast<int>(consumer.assignedCount());
        log(fmt::format("job {}: assigned {} partition(s): {}", job, partitions.size(), describePartitions(partitions)));
    });
    // Dropped right after the revocation's commit (which still needs their state for the commit position), before
    // any record of a partition assigned again is processed.
    auto dropPartitions = [&](const std::vector<TopicPartition>& partitions) {
        std::vector<int32_t> dropped;
        for (const auto& partition : partitions) {
            dropped.push_back(originOf(partition));
            pending.erase(partition);
        }
        processor.discardOrigins(dropped);
        lanesOpen = processor.laneCount() > 0;
        // After a drained bounded run every window has fired: there is nothing to drop.
        if (!finished)
            log(fmt::format("job {}: dropped the open windows of {} partition(s) no longer owned", job, dropped.size()));
    };
    consumer.onLost([&](const std::vector<TopicPartition>& partitions) {
        for (const auto& partition : partitions) watermarks.revoke(partition);
        dropPartitions(partitions);
    });
    consumer.onRevoked(dropPartitions);
    consumer.onRevoke([&](const std::vector<TopicPartition>& partitions) {
        processor.advanceLanes();  // so the lanes' watermarks committed with these partitions are current
        flushOutputs(); // the consumer commits these partitions right after this returns
        for (const auto& partition : partitions) watermarks.revoke(partition);
        log(fmt::format("job {}: revoking {} partition(s): {}", job, partitions.size(), describePartitions(partitions)));
    });

    auto reject = [&](const KafkaRecord& record, BadRecordReason reason, std::string_view detail) {
        uint64_t count = ++status.bad[static_cast<size_t>(reason)];
        if (shouldLog(count))
            log(fmt::format("job {}: rejected record {}/{}@{}: {}{}{}", job, record.topic, record.partition,
                            record.offset, badRecordReasonName(reason), detail.empty() ? "" : ": ", detail));
        if (!deadLetters || !isDeadLettered(reason)) return;
        HeaderList headers = toHeaderList(record.headers);
        headers.emplace_back(kHeaderDeadLetterReason, std::string(badRecordReasonName(reason)));
        deadLetters->produce(options.deadLetterTopic, record.key, record.payload, headers);
        status.deadLettered++;
    };

    Row row;
    std::string error;
    // The partition of the current run of records (records come in runs per partition): its lookups are done once per
    // run, not per record. The map nodes they point to stay put until a rebalance, which starts a new run (the consumer
    // numbers runs from 1).
    struct CurrentPartition {
        uint64_t run = 0;
        int32_t origin = 0;
        KafkaPartitionWatermarks::PartitionState* watermark = nullptr;
        std::deque<PendingSpan>* spans = nullptr;
    } current;
    // Counted locally and published once per poll: an atomic increment per record is a measurable share of the loop.
    uint64_t recordsIn = 0;
    uint64_t decoded = 0;
    // Wall-clock time for partition activity (idleness), read once per poll instead of once per record.
    int64_t batchStartMs = wallClockMillis();
    const EventTimeGuard futureGuard(options.maxFutureSkewMs);
    auto handle = [&](const KafkaRecord& record) {
        ++recordsIn;
        // Not events: a schema would decode a NULL or empty value as a message of defaults (a key `0`).
        if (record.valueIsNull)
            return reject(record, BadRecordReason::Tombstone, record.key.empty() ? "" : fmt::format("key `{}`", record.key));
        if (record.payload.empty()) return reject(record, BadRecordReason::EmptyValue, "");
        EnvelopeParseResult envelope = parseEnvelope(record.headers);
        if (envelope.error == EnvelopeError::InvalidCreatedAt)
            return reject(record, BadRecordReason::InvalidCreatedAt, envelope.detail);
        if (envelope.error == EnvelopeError::UnknownEncoding)
            return reject(record, BadRecordReason::UnknownEncoding, envelope.detail);
        PayloadEncoding encoding =
            envelope.envelope.encoding == PayloadEncoding::Unspecified ? defaultEncoding : envelope.envelope.encoding;
        // A schema-registry id cannot be checked here; a message name must match the source's.
        if (encoding != PayloadEncoding::ConfluentProtobuf && !envelope.envelope.schema.empty() &&
            envelope.envelope.schema != source.message_type())
            return reject(record, BadRecordReason::SchemaMismatch, envelope.envelope.schema);
        if (timeFromEnvelope && !envelope.envelope.createdAtMs)
            return reject(record, BadRecordReason::MissingTime, "no event-created-at header");
        int64_t envelopeTime = envelope.envelope.createdAtMs.value_or(std::numeric_limits<int64_t>::min());
        std::string_view payload = record.payload;
        if (encoding == PayloadEncoding::ConfluentProtobuf && !processor.stripConfluentFraming(payload))
            return reject(record, BadRecordReason::UndecodablePayload, "not in the Confluent wire format");
        error.clear();
        // No row.clear(): decoders size and reset every column (keeping the Values, and their strings, allocated).
        DecodeOutcome outcome = processor.decode(encoding, payload, envelopeTime, row, error);
        if (outcome == DecodeOutcome::MissingTime) return reject(record, BadRecordReason::MissingTime, error);
        if (outcome != DecodeOutcome::Decoded) return reject(record, BadRecordReason::UndecodablePayload, error);
        if (row.empty() || row[0].isNull) return reject(record, BadRecordReason::MissingTime, "the time field is NULL");
        // Before the watermark sees it: one record from the far future would otherwise make every other one late.
        if (row[0].i <= -kEventTimeLimit || row[0].i >= kEventTimeLimit)
            return reject(record, BadRecordReason::TimeOutOfRange, fmt::format("event time {} ms", row[0].i));
        // Likewise a time in the future (in microseconds, say): the poll's start is the wall clock, close enough here.
        if (futureGuard.check(row[0].i, batchStartMs) == TimeVerdict::InFuture)
            return reject(record, BadRecordReason::TimeInFuture,
                          fmt::format("event time {} ms is more than {} ms ahead of the wall clock", row[0].i,
                                      futureGuard.maxFutureSkewMs()));
        ++decoded;
        if (record.run != current.run) {
            TopicPartition partition(record.topic, record.partition);
            current.run = record.run;
            current.origin = originOf(partition);
            current.watermark = &watermarks.state(partition);
            current.spans = &pending[partition];
        }
        watermarks.observe(*current.watermark, row[0].i, batchStartMs);
        observeTime(*current.spans, record.offset, row[0].i);
        processor.processFrom(row, current.origin);
        // As in a replay, the watermark moves after every row (not once per poll), so which rows are late does not
        // depend on how records happen to be batched.
        if (auto base = watermarks.watermarkBaseAfter(*current.watermark, batchStartMs)) {
            int64_t watermark = *base - source.watermark_delay_ms();
            if (watermark > status.watermarkMs.load()) {
                processor.advanceWatermark(watermark);
                status.watermarkMs = watermark;
            }
        }
        if (lanesOpen) followLanes();
    };

    auto publishCounts = [&] {
        status.recordsIn += std::exchange(recordsIn, 0);
        status.decoded += std::exchange(decoded, 0);
    };

    auto lastCommit = std::chrono::steady_clock::now();
    uint64_t recordsAtLastCommit = 0;
    bool drained = false;
    try {
        while (!stop.load()) {
            batchStartMs = wallClockMillis();
            try {
                consumer.poll(options.batchSize, 100, handle);
            } catch (...) {
                publishCounts();
                throw;
            }
            publishCounts();
            int64_t now = wallClockMillis();
            if (auto base = watermarks.watermarkBase(now)) {
                int64_t watermark = *base - source.watermark_delay_ms();
                processor.advanceWatermark(watermark);
                // The watermark never goes back, also not below one resumed from a commit.
                if (watermark > status.watermarkMs.load()) status.watermarkMs = watermark;
            }
            if (lanesOpen) {
                followLanes();
                processor.advanceLanes();
            }
            status.late = processor.lateRows();
            status.assignedPartitions = static_cast<int>(consumer.assignedCount());
            status.activePartitions = static_cast<int>(watermarks.activePartitions(now));
            status.running = status.assignedPartitions.load() > 0;
            if (options.untilEnd && consumer.allPartitionsAtEnd()) {
                drained = true;
                break;
            }
            auto elapsed = std::chrono::steady_clock::now() - lastCommit;
            if (elapsed >= std::chrono::milliseconds(options.commitIntervalMs) ||
                status.recordsIn.load() - recordsAtLastCommit >= options.commitEveryRecords) {
                commit();
                status.lag = consumer.lag();
                lastCommit = std::chrono::steady_clock::now();
                recordsAtLastCommit = status.recordsIn.load();
            }
        }
        // A drained bounded run fires every window (watermark +inf). A stopped unbounded run does not: firing
        // incomplete windows would publish partial aggregates as features.
        if (drained) {
            finished = true;
            processor.finish();
            status.watermarkMs = std::numeric_limits<int64_t>::max();
        }
        status.late = processor.lateRows();
        commit();
        status.lag = consumer.lag();
        status.running = false;
        consumer.close();
    } catch (...) {
        status.running = false;
        throw;
    }
    log(fmt::format("job {}: {} record(s) in, {} decoded, {} rejected, {} row(s) out", job, status.recordsIn.load(),
                    status.decoded.load(), status.badTotal(), status.rowsOut.load()));
    const KafkaHeaderReadStats& headerReads = consumer.headerReadStats();
    log(fmt::format("job {}: record headers: {} read in place ({} cross-checked with librdkafka), {} through librdkafka{}",
                    job, headerReads.inPlace, headerReads.crossChecked, headerReads.library,
                    headerReads.inPlaceDisabled ? " (in-place reading off)" : ""));
    return 0;
}

} // namespace pipec::runtime
