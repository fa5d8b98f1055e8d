// The Kafka job loop against the embedded broker, with a fake processor in place of the decoder and executor:
// rejected records by reason, dead-lettering, watermarks, the end of a bounded run, and no offset commit when the
// sink fails to flush.

#include "runtime/sources/embedded_broker.h"
#include "runtime/sources/kafka_job.h"
#include "runtime/sources/kafka_producer.h"

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>

using namespace pipec::runtime;

namespace {

/// Payload "STORE" decodes to [_time, store]; payload "garbage" fails to decode.
class FakeProcessor : public KafkaRecordProcessor {
public:
    explicit FakeProcessor(RowSink& sink) : sink_(sink) {}
    DecodeOutcome decode(PayloadEncoding encoding, std::string_view payload, int64_t envelopeTimeMs, Row& row,
                         std::string& error) override {
        encodings.push_back(encoding);
        if (payload == "garbage") {
            error = "truncated message";
            return DecodeOutcome::Undecodable;
        }
        row = {Value::ofInt(envelopeTimeMs), Value::ofString(std::string(payload))};
        return DecodeOutcome::Decoded;
    }
    bool stripConfluentFraming(std::string_view& payload) override {
        if (payload.size() < 6 || payload[0] != '\0') return false;
        payload.remove_prefix(6);
        return true;
    }
    void process(Row& row) override { sink_.write(row); }
    void advanceWatermark(int64_t watermarkMs) override { watermarks.push_back(watermarkMs); }
    void finish() override { finished = true; }
    uint64_t lateRows() const override { return 0; }

    std::vector<PayloadEncoding> encodings;
    std::vector<int64_t> watermarks;
    bool finished = false;

private:
    RowSink& sink_;
};

class MemorySink : public RowSink {
public:
    void open(const std::vector<pipec::plan::OutputColumn>&) override {}
    void write(const Row& row) override { pending.push_back(row); }
    void flush() override {
        if (failFlush) throw std::runtime_error("sink unavailable");
        flushed.insert(flushed.end(), pending.begin(), pending.end());
        pending.clear();
    }
    std::vector<Row> pending;
    std::vector<Row> flushed;
    bool failFlush = false;
};

pipec::plan::Pipeline storePipeline() {
    pipec::plan::Pipeline pipeline;
    pipeline.set_job_name("store_test");
    pipeline.mutable_source()->set_topic("stores");
    pipeline.mutable_source()->set_message_type("test.Store");
    pipeline.mutable_source()->set_format("protobuf");
    pipeline.mutable_source()->set_watermark_delay_ms(1000);
    pipeline.mutable_source()->set_time_column(0); // the envelope time
    return pipeline;
}

HeaderList envelopeHeaders(std::optional<int64_t> time, PayloadEncoding encoding = PayloadEncoding::Unspecified,
                           std::string schema = "test.Store") {
    return encodeEnvelope({.createdAtMs = time, .source = "test", .encoding = encoding, .schema = std::move(schema)});
}

/// A consumer that joins no group (a group join costs 3 s on the mock cluster); the group id names commits only.
rd_kafka_t* plainConsumer(const std::string& brokers, const std::string& group, bool partitionEof = false) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "enable.partition.eof", partitionEof ? "true" : "false", error, sizeof error);
    rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof error);
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    REQUIRE(consumer != nullptr);
    return consumer;
}

/// Reads a whole partition without joining a group (a group join costs 3 s on the mock cluster).
std::vector<std::pair<std::string, HeaderList>> readPartition(const std::string& brokers, const std::string& topic,
                                                              int partition) {
    rd_kafka_t* consumer = plainConsumer(brokers, "reader", true);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
    std::vector<std::pair<std::string, HeaderList>> records;
    for (int polls = 0; polls < 200; ++polls) {
        rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
        if (message == nullptr) continue;
        bool end = message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            HeaderList headers;
            rd_kafka_headers_t* raw = nullptr;
            if (rd_kafka_message_headers(message, &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char* name;
                const void* value;
                size_t size;
                for (size_t i = 0; rd_kafka_header_get_all(raw, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
                    headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
            }
            records.emplace_back(std::string(static_cast<const char*>(message->payload), message->len), headers);
        }
        rd_kafka_message_destroy(message);
        if (end) break;
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return records;
}

} // namespace

TEST_CASE("the job loop decodes, rejects by reason, dead-letters and fires at the end of a bounded run") {
    EmbeddedBroker broker;
    broker.createTopic("stores", 2);
    broker.createTopic("dead", 1);
    {
        KafkaProducer producer(broker.bootstrapServers());
        producer.produce("stores", "", "s1", envelopeHeaders(1000), 0);
        producer.produce("stores", "", "s2", envelopeHeaders(5000, PayloadEncoding::Json), 0);
        producer.produce("stores", "", "s3", envelopeHeaders(3000), 1);
        producer.produce("stores", "", std::string("\0\0\0\0\7\0s4", 8),
                         envelopeHeaders(4000, PayloadEncoding::ConfluentProtobuf, "7"), 1);
        producer.produce("stores", "", "x", {{"event-created-at", "soon"}}, 1);
        producer.produce("stores", "", "x", envelopeHeaders(1, PayloadEncoding::Unspecified) , 1);
        producer.produce("stores", "", "x", {{"event-created-at", "1"}, {"event-encoding", "avro"}}, 1);
        producer.produce("stores", "", "x", envelopeHeaders(std::nullopt), 0);
        producer.produce("stores", "", "garbage", envelopeHeaders(2000), 0);
        producer.produce("stores", "", "x", envelopeHeaders(2000, PayloadEncoding::Protobuf, "other.Message"), 0);
        producer.produce("stores", "", "notconfluent", envelopeHeaders(2000, PayloadEncoding::ConfluentProtobuf, "7"), 0);
        // A far-future time (2^61 ms): rejected before it can move the watermark.
        producer.produce("stores", "", "far", envelopeHeaders(int64_t{1} << 61), 0);
        REQUIRE(producer.flush(10000));
    }
    MemorySink sink;
    FakeProcessor processor(sink);
    JobStatus status;
    std::atomic<bool> stop{false};
    std::vector<std::string> logLines;
    KafkaJobOptions options{.brokers = broker.bootstrapServers(), .groupId = "job", .topics = {"stores"},
                            .deadLetterTopic = "dead", .idleTimeoutMs = 0, .untilEnd = true, .commitIntervalMs = 100,
                            .commitEveryRecords = 1000, .sessionTimeoutMs = 3000, .batchSize = 100, .properties = {},
                            .log = [&](const std::string& line) { logLines.push_back(line); }};
    CHECK(runKafkaLoop(storePipeline(), processor, options, sink, stop, status) == 0);

    CHECK(status.recordsIn.load() == 12);
    CHECK(status.decoded.load() == 5); // s1, s2, s3, s4 and the record whose payload is "x" with time 1
    auto bad = [&](BadRecordReason reason) { return status.bad[static_cast<size_t>(reason)].load(); };
    CHECK(bad(BadRecordReason::InvalidCreatedAt) == 1);
    CHECK(bad(BadRecordReason::UnknownEncoding) == 1);
    CHECK(bad(BadRecordReason::MissingTime) == 1);
    CHECK(bad(BadRecordReason::UndecodablePayload) == 2);
    CHECK(bad(BadRecordReason::SchemaMismatch) == 1);
    CHECK(bad(BadRecordReason::TimeOutOfRange) == 1);
    CHECK(status.deadLettered.load() == 7);
    CHECK(processor.finished);
    CHECK(status.commits.load() >= 1);
    CHECK(status.rowsOut.load() == 0); // rows are counted by runKafkaJob's counting sink, not by the loop

    REQUIRE(sink.flushed.size() == 5);
    std::map<std::string, int64_t> times;
    for (const auto& row : sink.flushed) times[row[1].s] = row[0].i;
    CHECK(times["s1"] == 1000);
    CHECK(times["s4"] == 4000); // the Confluent prefix was stripped
    // Both partitions delivered: the base is the minimum of their maxima, and it never went back.
    REQUIRE_FALSE(processor.watermarks.empty());
    for (size_t i = 1; i < processor.watermarks.size(); ++i) CHECK(processor.watermarks[i] >= processor.watermarks[i - 1]);
    CHECK(processor.watermarks.back() == 3000); // min(max(p0) = 5000, max(p1) = 4000) - 1000 ms delay
    CHECK(status.watermarkMs.load() == std::numeric_limits<int64_t>::max());

    bool loggedOffset = false;
    for (const auto& line : logLines) loggedOffset |= line.find("rejected record stores/1@2: invalid_created_at: soon") != std::string::npos;
    CHECK(loggedOffset);

    auto dead = readPartition(broker.bootstrapServers(), "dead", 0);
    REQUIRE(dead.size() == 7);
    std::multiset<std::string> reasons;
    for (const auto& [payload, headers] : dead) {
        CHECK(headers.back().first == "dlq-reason");
        reasons.insert(headers.back().second);
    }
    CHECK(reasons.count("undecodable_payload") == 2);
    CHECK(reasons.count("invalid_created_at") == 1);
    CHECK(reasons.count("time_out_of_range") == 1);
    // The original headers are kept in front of the reason.
    for (const auto& [payload, headers] : dead)
        if (headers.back().second == "invalid_created_at")
            CHECK(headers == HeaderList{{"event-created-at", "soon"}, {"dlq-reason", "invalid_created_at"}});
}

TEST_CASE("when the sink cannot flush, no offsets are committed and a restart re-reads everything") {
    EmbeddedBroker broker;
    broker.createTopic("stores", 1);
    {
        KafkaProducer producer(broker.bootstrapServers());
        for (int i = 0; i < 5; ++i) producer.produce("stores", "", "s" + std::to_string(i), envelopeHeaders(1000 + i));
        REQUIRE(producer.flush(10000));
    }
    KafkaJobOptions options{.brokers = broker.bootstrapServers(), .groupId = "job", .topics = {"stores"},
                            .deadLetterTopic = "", .idleTimeoutMs = 0, .untilEnd = true, .commitIntervalMs = 50,
                            .commitEveryRecords = 1, .sessionTimeoutMs = 3000, .batchSize = 100, .properties = {},
                            .log = [](const std::string&) {}};
    std::atomic<bool> stop{false};
    {
        MemorySink failing;
        failing.failFlush = true;
        FakeProcessor processor(failing);
        JobStatus status;
        CHECK_THROWS_AS(runKafkaLoop(storePipeline(), processor, options, failing, stop, status), std::runtime_error);
        CHECK(status.commits.load() == 0);
    }
    MemorySink sink;
    FakeProcessor processor(sink);
    JobStatus status;
    CHECK(runKafkaLoop(storePipeline(), processor, options, sink, stop, status) == 0);
    CHECK(sink.flushed.size() == 5);
}

namespace {

/// Records the lanes the loop opens; a lane's watermark is its floor, raised by the target like the real one.
class LaneRecordingProcessor : public FakeProcessor {
public:
    using FakeProcessor::FakeProcessor;
    void openLane(int32_t origin, int64_t floorMs, int64_t emittedUpToMs) override { lanes[origin] = {floorMs, emittedUpToMs}; }
    size_t laneCount() const override { return lanes.size(); }
    void setLaneWatermark(int64_t watermarkMs) override { target = watermarkMs; }
    void resumeMain(int64_t floorMs, int64_t emittedUpToMs) override {  // as PartitionedExecutor::resumeMain
        if (floorMs != INT64_MIN) advanceWatermark(floorMs);
        mainEmittedUpTo = emittedUpToMs > floorMs ? emittedUpToMs : INT64_MIN;
    }
    int64_t watermarkOf(int32_t origin, int64_t jobWatermarkMs) const override {
        auto lane = lanes.find(origin);
        return lane == lanes.end() ? std::max(jobWatermarkMs, mainEmittedUpTo) : std::max(lane->second.second, target);
    }
    int64_t resumeFloorOf(int32_t origin, int64_t jobWatermarkMs) const override {
        auto lane = lanes.find(origin);
        return lane == lanes.end() ? jobWatermarkMs : std::min(lane->second.first, watermarkOf(origin, jobWatermarkMs));
    }
    std::map<int32_t, std::pair<int64_t, int64_t>> lanes;  // origin → (floor, emitted up to)
    int64_t target = INT64_MIN;
    int64_t mainEmittedUpTo = INT64_MIN;  // as PartitionedExecutor::resumeMain
};

/// Runs the loop of group "job" on topic "stores" until `records` were consumed, then stops it (as SIGTERM does: a
/// final commit, no firing). Returns its log lines.
std::vector<std::string> runUntilConsumed(const EmbeddedBroker& broker, KafkaRecordProcessor& processor, MemorySink& sink,
                                          JobStatus& status, uint64_t records) {
    std::atomic<bool> stop{false};
    std::vector<std::string> logLines;
    std::mutex logMutex;
    KafkaJobOptions options{.brokers = broker.bootstrapServers(), .groupId = "job", .topics = {"stores"},
                            .deadLetterTopic = "", .idleTimeoutMs = 0, .untilEnd = false, .commitIntervalMs = 100,
                            .commitEveryRecords = 1000, .sessionTimeoutMs = 3000, .batchSize = 100, .properties = {},
                            .log = [&](const std::string& line) {
                                std::lock_guard lock(logMutex);
                                logLines.push_back(line);
                            }};
    std::thread job([&] { runKafkaLoop(storePipeline(), processor, options, sink, stop, status); });
    for (int i = 0; i < 300 && status.recordsIn.load() < records; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
    job.join();
    REQUIRE(status.recordsIn.load() == records);
    return logLines;
}

/// Commits offsets with metadata for a group without joining it (as a previous owner's commit).
void commitWithMetadata(const std::string& brokers, const std::string& group, const std::string& topic,
                        const std::vector<std::tuple<int32_t, int64_t, std::string>>& commits) {
    rd_kafka_t* consumer = plainConsumer(brokers, group);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(commits.size()));
    for (const auto& [partition, offset, metadata] : commits) {
        rd_kafka_topic_partition_t* element = rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
        element->offset = offset;
        element->metadata = std::malloc(metadata.size());
        std::memcpy(element->metadata, metadata.data(), metadata.size());
        element->metadata_size = metadata.size();
    }
    CHECK(rd_kafka_commit(consumer, list, 0) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(consumer);
}

std::map<int32_t, std::pair<int64_t, std::string>> committedOffsets(const std::string& brokers, const std::string& group,
                                                                    const std::string& topic, int partitions) {
    rd_kafka_t* consumer = plainConsumer(brokers, group);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int partition = 0; partition < partitions; ++partition) rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
    CHECK(rd_kafka_committed(consumer, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    std::map<int32_t, std::pair<int64_t, std::string>> result;
    for (int i = 0; i < list->cnt; ++i) {
        const auto& element = list->elems[i];
        result[element.partition] = {element.offset, std::string(static_cast<const char*>(element.metadata), element.metadata_size)};
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(consumer);
    return result;
}

} // namespace

TEST_CASE("partitions committed at another watermark continue in lanes, and each commit carries its partition's") {
    EmbeddedBroker broker;
    broker.createTopic("stores", 4);
    {
        KafkaProducer producer(broker.bootstrapServers());
        producer.produce("stores", "", "a", envelopeHeaders(10000), 0);
        producer.produce("stores", "", "b", envelopeHeaders(11000), 0);
        producer.produce("stores", "", "c", envelopeHeaders(60000), 1);
        producer.produce("stores", "", "d", envelopeHeaders(15000), 2);
        producer.produce("stores", "", "e", envelopeHeaders(14000), 3);
        REQUIRE(producer.flush(10000));
    }
    // Earlier owners committed partition 0 at watermark 5000, partition 1 at 50000, and partition 3 at 5000 with open
    // sessions whose rows start at 3000; partition 2 was never committed.
    commitWithMetadata(broker.bootstrapServers(), "job", "stores",
                       {{0, 0, "pipec-watermark=5000"}, {1, 0, "pipec-watermark=50000"}, {3, 0, "pipec-watermark=5000;floor=3000"}});

    MemorySink sink;
    LaneRecordingProcessor processor(sink);
    JobStatus status;
    std::vector<std::string> logLines = runUntilConsumed(broker, processor, sink, status, 5);

    // A fresh member starts at the lowest committed watermark; the partition committed higher gets a lane from there,
    // and so does the one whose re-read rows need a lower floor.
    REQUIRE(processor.lanes.size() == 2);
    std::map<int64_t, std::pair<int64_t, int64_t>> lanesByFloor;
    for (const auto& [origin, lane] : processor.lanes) lanesByFloor[lane.first] = lane;
    CHECK(lanesByFloor[50000] == std::pair<int64_t, int64_t>{50000, 50000});
    CHECK(lanesByFloor[3000] == std::pair<int64_t, int64_t>{3000, 5000});
    REQUIRE_FALSE(processor.watermarks.empty());
    CHECK(processor.watermarks.front() == 5000);
    // The job watermark: min(11000, 60000, 15000, 14000) - 1000.
    CHECK(status.watermarkMs.load() == 10000);
    bool resumed = false, laneLogged = false, floorLogged = false;
    for (const auto& line : logLines) {
        resumed |= line.find("resuming at the committed watermark 5000") != std::string::npos;
        laneLogged |= line.find("stores/1 continues from its committed watermark 50000 (") != std::string::npos;
        floorLogged |= line.find("stores/3 continues from its committed watermark 5000, accepting rows from 3000") != std::string::npos;
    }
    CHECK(resumed);
    CHECK(laneLogged);
    CHECK(floorLogged);

    // The stopped (not drained) run committed every partition with its own watermark (and floor, where lower).
    auto committed = committedOffsets(broker.bootstrapServers(), "job", "stores", 4);
    CHECK(committed[0] == std::pair<int64_t, std::string>{2, "pipec-watermark=10000"});
    CHECK(committed[1] == std::pair<int64_t, std::string>{1, "pipec-watermark=50000"});
    CHECK(committed[2] == std::pair<int64_t, std::string>{1, "pipec-watermark=10000"});
    CHECK(committed[3] == std::pair<int64_t, std::string>{1, "pipec-watermark=10000;floor=3000"});
}

TEST_CASE("after a plain restart of a job with open sessions, the member's own windows continue: no lanes") {
    EmbeddedBroker broker;
    broker.createTopic("stores", 3);
    {
        KafkaProducer producer(broker.bootstrapServers());
        for (int32_t partition = 0; partition < 3; ++partition)
            producer.produce("stores", "", "r" + std::to_string(partition), envelopeHeaders(20000 + partition), partition);
        REQUIRE(producer.flush(10000));
    }
    // The previous run committed every partition at one watermark and floor (one member: one of each).
    commitWithMetadata(broker.bootstrapServers(), "job", "stores",
                       {{0, 0, "pipec-watermark=5000;floor=3000"}, {1, 0, "pipec-watermark=5000;floor=3000"},
                        {2, 0, "pipec-watermark=5000;floor=3000"}});
    MemorySink sink;
    LaneRecordingProcessor processor(sink);
    JobStatus status;
    std::vector<std::string> logLines = runUntilConsumed(broker, processor, sink, status, 3);
    CHECK(processor.lanes.empty());
    REQUIRE_FALSE(processor.watermarks.empty());
    CHECK(processor.watermarks.front() == 3000);  // the member's executor starts at the floor
    bool resumed = false;
    for (const auto& line : logLines)
        resumed |= line.find("resuming at the committed watermark 5000, accepting rows from 3000") != std::string::npos;
    CHECK(resumed);
    // The job watermark moved on (min(20000, 20001, 20002) - 1000 ms delay), and so did the partitions' commits.
    CHECK(status.watermarkMs.load() == 19000);
    auto committed = committedOffsets(broker.bootstrapServers(), "job", "stores", 3);
    for (int32_t partition = 0; partition < 3; ++partition)
        CHECK(committed[partition] == std::pair<int64_t, std::string>{1, "pipec-watermark=19000"});
}
