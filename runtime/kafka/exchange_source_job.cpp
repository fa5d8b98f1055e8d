#include "runtime/kafka/exchange_source_job.h"

#include "runtime/core/expression.h"
#include "runtime/core/user_error.h"
#include "runtime/exchange/exchange_codec.h"
#include "runtime/exchange/exchange_watermarks.h"
#include "runtime/kafka/kafka_consumer.h"
#include "runtime/kafka/lag_monitor.h"
#include "runtime/kafka/record_admission.h"
#include "runtime/sources/kafka_producer.h"
#include "runtime/state/value_encoding.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

namespace pipec::runtime {

std::string repartitionTopicName(const std::string& groupId, const std::string& jobName) { return groupId + "-" + jobName + "-repartition"; }
std::string stageTwoGroupName(const std::string& groupId, const std::string& jobName) { return groupId + "-" + jobName + "-stage2"; }

namespace {
int64_t steadyMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
int64_t wallClockMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
} // namespace

struct ExchangeSourceJob::Impl {
    Impl(const plan::Pipeline& pipeline, ExchangeSourceOptions options, JobStatus& status);
    void handle(const KafkaRecord& record);
    void sendMarkers();
    void flushAndCommit();
    int run(std::atomic<bool>& stop);
    int64_t idleClock() const { return steadyMillis() - blockedMs_; }

    const plan::Pipeline& pipeline_;
    ExchangeSourceOptions options_;
    JobStatus& status_;
    const std::string job_;
    ExchangeCodec codec_;
    RecordAdmission admission_;
    std::vector<CompiledExpression> filters_;
    std::vector<CompiledExpression> keys_;
    std::vector<plan::TypeId> keyTypes_;
    SourcePartitionClock clock_;
    std::unique_ptr<KafkaProducer> producer_;
    std::unique_ptr<KafkaProducer> deadLetters_;
    std::unique_ptr<RejectedRecords> rejected_;
    std::unique_ptr<KafkaConsumer> consumer_;
    std::unique_ptr<LagMonitor> lagMonitor_;
    int32_t sourcePartitions_ = 0;
    int32_t repartitionPartitions_ = 0;
    int64_t blockedMs_ = 0;
    int64_t pollWallClock_ = 0;
    Row row_;
    Rejection rejection_;
    std::string key_;
    std::string value_;
    std::string marker_;
};

ExchangeSourceJob::Impl::Impl(const plan::Pipeline& pipeline, ExchangeSourceOptions options, JobStatus& status)
    : pipeline_(pipeline), options_(std::move(options)), status_(status), job_(pipeline.job_name()), codec_(pipeline),
      admission_(pipeline.source(), options_.maxFutureSkewMs), clock_(pipeline.source().watermark_delay_ms(), options_.idleTimeoutMs) {
    if (!options_.log) options_.log = [](const std::string& line) { std::cerr << line << "\n"; };
    if (options_.repartitionTopic.empty()) options_.repartitionTopic = repartitionTopicName(options_.groupId, job_);
    for (const auto& filter : pipeline.filters()) filters_.push_back(CompiledExpression::compile(filter));
    for (const auto& key : pipeline.window().group_keys()) {
        keys_.push_back(CompiledExpression::compile(key));
        keyTypes_.push_back(key.type());
    }
    // Acknowledged by every in-sync replica, once per send even when retried, and in order per partition: a marker
    // must never overtake the rows produced before it.
    producer_ = std::make_unique<KafkaProducer>(options_.brokers, [&] {
        std::map<std::string, std::string> properties = options_.properties;
        properties["acks"] = "all";
        properties["enable.idempotence"] = "true";
        return properties;
    }());
    if (!options_.deadLetterTopic.empty()) deadLetters_ = std::make_unique<KafkaProducer>(options_.brokers, options_.properties);
    rejected_ = std::make_unique<RejectedRecords>(status_, job_, options_.log, deadLetters_.get(), options_.deadLetterTopic);

    KafkaConsumerOptions consumerOptions;
    consumerOptions.brokers = options_.brokers;
    consumerOptions.groupId = options_.groupId;
    consumerOptions.topics = {pipeline.source().topic()};
    consumerOptions.properties = options_.properties;
    consumerOptions.reportEndOfPartition = options_.untilEnd;
    consumerOptions.sessionTimeoutMs = options_.sessionTimeoutMs;
    consumerOptions.instanceId = options_.instanceId;
    consumerOptions.log = options_.log;
    consumer_ = std::make_unique<KafkaConsumer>(consumerOptions);
    LagMonitorOptions lagOptions;
    lagOptions.brokers = options_.brokers;
    lagOptions.groupId = options_.groupId;
    lagOptions.properties = options_.properties;
    lagOptions.intervalMs = options_.lagIntervalMs;
    lagOptions.log = options_.log;
    lagMonitor_ = std::make_unique<LagMonitor>(lagOptions, status_.lag);

    consumer_->onAssign([this](const std::vector<TopicPartition>& partitions) {
        if (partitions.empty()) return;
        if (sourcePartitions_ == 0) {
            int64_t start = steadyMillis();
            sourcePartitions_ = consumer_->partitionCount(pipeline_.source().topic(), 30000);
            repartitionPartitions_ = consumer_->partitionCount(options_.repartitionTopic, 30000);
            blockedMs_ += steadyMillis() - start;
            if (repartitionPartitions_ <= 0)
                throw UserError(fmt::format("repartition topic `{}` does not exist (it is created when a job starts)", options_.repartitionTopic),
                                UserError::kEnvironmentRefused);
        }
        for (const auto& partition : partitions) clock_.assign(partition.second, idleClock());
        options_.log(fmt::format("job {} (stage 1): assigned {} source partition(s)", job_, partitions.size()));
    });
    // Still the owner: everything produced so far must be acknowledged before the consumer commits these partitions.
    consumer_->onRevoke([this](const std::vector<TopicPartition>&) { flushAndCommit(); });
    consumer_->onRevoked([this](const std::vector<TopicPartition>& partitions) {
        for (const auto& partition : partitions) clock_.revoke(partition.second);
    });
    consumer_->onLost([this](const std::vector<TopicPartition>& partitions) {
        for (const auto& partition : partitions) clock_.revoke(partition.second);
    });
}

void ExchangeSourceJob::Impl::handle(const KafkaRecord& record) {
    status_.recordsIn++;
    SourceRecordView view{record.valueIsNull, record.key, record.payload, record.headers};
    if (!admission_.admit(view, pollWallClock_, row_, rejection_)) return rejected_->reject(record, rejection_.reason, rejection_.detail);
    status_.decoded++;
    clock_.observe(record.partition, row_[0].i, idleClock());
    for (const auto& filter : filters_)
        if (!filter.evaluatePredicate(row_)) {
            status_.exchangeFiltered++;
            return;
        }
    key_.clear();
    for (size_t i = 0; i < keys_.size(); ++i) encodeValue(keys_[i].evaluate(row_), keyTypes_[i], key_);
    value_.clear();
    codec_.encodeRow(row_, record.partition, record.offset, value_);
    producer_->produce(options_.repartitionTopic, key_, value_, {}, ExchangeCodec::partitionOf(key_, repartitionPartitions_));
    status_.exchangeRecordsOut++;
    status_.exchangeBytesOut += key_.size() + value_.size();
}

void ExchangeSourceJob::Impl::sendMarkers() {
    ExchangeCodec::Marker marker = clock_.marker(sourcePartitions_, idleClock());
    if (marker.entries.empty()) return;
    marker_.clear();
    ExchangeCodec::encodeMarker(marker, codec_.formatTag(), marker_);
    // One record per repartition partition, whatever the number of source partitions this member reads.
    for (int32_t target = 0; target < repartitionPartitions_; ++target) {
        producer_->produce(options_.repartitionTopic, {}, marker_, {}, target);
        status_.exchangeMarkersOut++;
    }
}

void ExchangeSourceJob::Impl::flushAndCommit() {
    int64_t start = steadyMillis();
    if (!producer_->flush(60000))
        throw UserError(fmt::format("repartition records to `{}` still unacknowledged after 60 s", options_.repartitionTopic),
                        UserError::kEnvironmentRefused);
    if (producer_->failed() > 0)
        throw UserError(fmt::format("repartition topic `{}` refused records: {}", options_.repartitionTopic, producer_->lastError()),
                        UserError::kEnvironmentRefused);
    if (deadLetters_) {
        if (!deadLetters_->flush(60000)) throw UserError("dead-letter records still undelivered after 60 s", UserError::kEnvironmentRefused);
        if (deadLetters_->failed() > 0)
            throw UserError("dead-letter topic `" + options_.deadLetterTopic + "` rejected records: " + deadLetters_->lastError(),
                            UserError::kEnvironmentRefused);
    }
    blockedMs_ += steadyMillis() - start;
}

int ExchangeSourceJob::Impl::run(std::atomic<bool>& stop) {
    auto handler = [this](const KafkaRecord& record) { handle(record); };
    int64_t lastMarkers = steadyMillis();
    int64_t lastCommit = lastMarkers;
    bool drained = false;
    while (!stop.load()) {
        pollWallClock_ = wallClockMillis();
        consumer_->poll(options_.batchSize, 100, handler);
        lagMonitor_->setPositions(consumer_->positions());
        status_.assignedPartitions = static_cast<int>(consumer_->assignedCount());
        status_.running = status_.assignedPartitions.load() > 0;
        if (options_.untilEnd && consumer_->allPartitionsAtEnd()) {
            drained = true;
            break;
        }
        int64_t now = steadyMillis();
        if (now - lastMarkers >= options_.markerIntervalMs && repartitionPartitions_ > 0) {
            sendMarkers();
            lastMarkers = now;
        }
        if (now - lastCommit >= options_.commitIntervalMs) {
            flushAndCommit();
            status_.countCommit(consumer_->commitProcessed(KafkaConsumer::CommitWhen::groupSteady));
            lastCommit = steadyMillis();
        }
    }
    if (drained) {
        for (int32_t partition : clock_.partitions()) clock_.end(partition);
        sendMarkers();
    }
    flushAndCommit();
    status_.countCommit(consumer_->commitProcessed());
    lagMonitor_->stop();
    status_.lag = consumer_->lag();
    status_.running = false;
    consumer_->close();
    options_.log(fmt::format("job {} (stage 1): {} record(s) in, {} decoded, {} rejected, {} filtered, {} row(s) and {} marker(s) to `{}` "
                             "({} bytes)",
                             job_, status_.recordsIn.load(), status_.decoded.load(), status_.badTotal(), status_.exchangeFiltered.load(),
                             status_.exchangeRecordsOut.load(), status_.exchangeMarkersOut.load(), options_.repartitionTopic,
                             status_.exchangeBytesOut.load()));
    return 0;
}

ExchangeSourceJob::ExchangeSourceJob(const plan::Pipeline& pipeline, ExchangeSourceOptions options, JobStatus& status)
    : impl_(std::make_unique<Impl>(pipeline, std::move(options), status)) {}
ExchangeSourceJob::~ExchangeSourceJob() = default;
int ExchangeSourceJob::run(std::atomic<bool>& stop) { return impl_->run(stop); }

} // namespace pipec::runtime
