#include "runtime/sources/kafka_job.h"

#include "runtime/sources/kafka_consumer.h"
#include "runtime/sources/kafka_partition_watermarks.h"
#include "runtime/sources/kafka_producer.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>

namespace pipec::runtime {
namespace {

int64_t wallClockMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
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
        if (!deadLetters->flush(60000)) throw std::runtime_error("dead-letter records still undelivered after 60 s");
        if (deadLetters->failed() > 0)
            throw std::runtime_error("dead-letter topic `" + options.deadLetterTopic +
                                     "` rejected records: " + deadLetters->lastError());
    };
    auto commit = [&] {
        flushOutputs();
        if (consumer.commitProcessed()) status.commits++;
        else status.commitFailures++;
    };
    consumer.onAssign([&](const std::vector<TopicPartition>& partitions) {
        int64_t now = wallClockMillis();
        for (const auto& partition : partitions) watermarks.assign(partition, now);
        status.assignedPartitions = static_cast<int>(consumer.assignment().size());
        log(fmt::format("job {}: assigned {} partition(s)", job, partitions.size()));
    });
    consumer.onRevoke([&](const std::vector<TopicPartition>& partitions) {
        flushOutputs(); // the consumer commits these partitions right after this returns
        for (const auto& partition : partitions) watermarks.revoke(partition);
        log(fmt::format("job {}: revoking {} partition(s)", job, partitions.size()));
    });

    auto reject = [&](const KafkaRecord& record, BadRecordReason reason, const std::string& detail) {
        uint64_t count = ++status.bad[static_cast<size_t>(reason)];
        if (shouldLog(count))
            log(fmt::format("job {}: rejected record {}/{}@{}: {}{}{}", job, record.topic, record.partition,
                            record.offset, badRecordReasonName(reason), detail.empty() ? "" : ": ", detail));
        if (!deadLetters) return;
        HeaderList headers = record.headers;
        headers.emplace_back(kHeaderDeadLetterReason, std::string(badRecordReasonName(reason)));
        deadLetters->produce(options.deadLetterTopic, record.key, record.payload, headers);
        status.deadLettered++;
    };

    Row row;
    std::string error;
    auto handle = [&](const KafkaRecord& record) {
        status.recordsIn++;
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
        row.clear();
        DecodeOutcome outcome = processor.decode(encoding, payload, envelopeTime, row, error);
        if (outcome == DecodeOutcome::MissingTime) return reject(record, BadRecordReason::MissingTime, error);
        if (outcome != DecodeOutcome::Decoded) return reject(record, BadRecordReason::UndecodablePayload, error);
        if (row.empty() || row[0].isNull) return reject(record, BadRecordReason::MissingTime, "the time field is NULL");
        status.decoded++;
        watermarks.observe({record.topic, record.partition}, row[0].i, wallClockMillis());
        processor.process(row);
    };

    auto lastCommit = std::chrono::steady_clock::now();
    uint64_t recordsAtLastCommit = 0;
    bool drained = false;
    try {
        while (!stop.load()) {
            consumer.poll(options.batchSize, 100, handle);
            int64_t now = wallClockMillis();
            if (auto base = watermarks.watermarkBase(now)) {
                int64_t watermark = *base - source.watermark_delay_ms();
                processor.advanceWatermark(watermark);
                status.watermarkMs = watermark;
            }
            status.late = processor.lateRows();
            status.assignedPartitions = static_cast<int>(consumer.assignment().size());
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
    return 0;
}

} // namespace pipec::runtime
