// The Kafka job (runtime/kafka) against the embedded broker, with plans compiled from specs: records rejected by
// reason and dead-lettered, the end of a bounded run, no commit when the sink cannot flush, and the checkpoints:
// a crashed member's successor re-reads only what came after the last checkpoint, and a long window's state comes
// back from the changelog instead of from the topic.

#include "compiler/driver/compilation.h"
#include "runtime/core/user_error.h"
#include "runtime/kafka/kafka_job.h"
#include "runtime/operators/pipeline_executor.h"
#include "runtime/formats/record_decoder.h"
#include "runtime/sources/embedded_broker.h"
#include "runtime/sources/envelope.h"
#include "runtime/sources/kafka_producer.h"

#include <doctest/doctest.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace pipec;
using namespace pipec::runtime;

namespace {

plan::Pipeline compilePipeline(const std::string& spec) {
    driver::Compilation compilation;
    driver::CompileOptions options;
    driver::compile({std::string(PIPEC_SOURCE_DIR) + "/" + spec}, options, compilation);
    REQUIRE(compilation.jobs.size() == 1);
    return driver::buildJob(compilation, compilation.jobs.front()).pipeline();
}

/// Encodes events given in the Protobuf JSON mapping as the source's binary Protobuf.
class EventEncoder {
public:
    explicit EventEncoder(const plan::Pipeline& pipeline) {
        for (const auto& file : pipeline.source().descriptors().file()) pool_.BuildFile(file);
        descriptor_ = pool_.FindMessageTypeByName(pipeline.source().message_type());
        REQUIRE(descriptor_ != nullptr);
    }
    std::string encode(const std::string& json) {
        std::unique_ptr<google::protobuf::Message> message(factory_.GetPrototype(descriptor_)->New());
        REQUIRE(google::protobuf::util::JsonStringToMessage(json, message.get()).ok());
        return message->SerializeAsString();
    }

private:
    google::protobuf::DescriptorPool pool_;
    google::protobuf::DynamicMessageFactory factory_{&pool_};
    const google::protobuf::Descriptor* descriptor_ = nullptr;
};

HeaderList envelope(std::optional<int64_t> time, PayloadEncoding encoding = PayloadEncoding::Protobuf,
                    std::string schema = "com.doordash.timeline_events.StoreTimelineEvent") {
    return encodeEnvelope({.createdAtMs = time, .source = "test", .encoding = encoding, .schema = std::move(schema)});
}

/// Rows as text, with the window end the sink was given; flush can be made to fail.
class MemorySink : public RowSink {
public:
    void open(const std::vector<plan::OutputColumn>&) override {}
    void write(const Row& row) override { add(row, -1); }
    void writeWindowed(const Row& row, int64_t windowEndMs) override { add(row, windowEndMs); }
    void flush() override {
        std::lock_guard lock(mutex);
        if (failFlush) throw std::runtime_error("sink unavailable");
        flushed.insert(flushed.end(), pending.begin(), pending.end());
        pending.clear();
    }
    std::vector<std::string> flushedRows() {
        std::lock_guard lock(mutex);
        return flushed;
    }
    std::mutex mutex;
    std::vector<std::string> pending;
    std::vector<std::string> flushed;
    bool failFlush = false;

private:
    void add(const Row& row, int64_t windowEnd) {
        std::string text;
        for (const auto& value : row) text += (value.isNull ? "NULL" : value.s.empty() ? std::to_string(value.i) : value.s) + "|";
        std::lock_guard lock(mutex);
        pending.push_back(text + "@" + std::to_string(windowEnd));
    }
};

/// The rows one replay of `events` (JSON, in order) emits, as MemorySink writes them.
std::vector<std::string> replay(const plan::Pipeline& pipeline, const std::vector<std::pair<int64_t, std::string>>& events,
                                EventEncoder& encoder) {
    MemorySink sink;
    PipelineExecutor executor(pipeline, sink);
    RecordDecoder decoder(pipeline.source());
    for (const auto& [time, json] : events) {
        Row row;
        REQUIRE(decoder.decodeProtobuf(encoder.encode(json), time, row, nullptr) == RecordDecoder::Status::Ok);
        executor.process(row);
    }
    executor.finish();
    sink.flush();
    return sink.flushed;
}

KafkaJobOptions jobOptions(const EmbeddedBroker& broker, const std::string& group, std::vector<std::string>* log = nullptr,
                           std::mutex* logMutex = nullptr) {
    KafkaJobOptions options;
    options.brokers = broker.bootstrapServers();
    options.groupId = group;
    options.topics = {"store_timeline_events"};
    options.idleTimeoutMs = 0;
    options.commitIntervalMs = 50;
    options.checkpointIntervalMs = 100;
    options.sessionTimeoutMs = 3000;
    options.lagIntervalMs = 200;
    options.log = [log, logMutex](const std::string& line) {
        if (!log) return;
        std::lock_guard lock(*logMutex);
        log->push_back(line);
    };
    return options;
}

std::string storeEvent(int store, int items = 1) {
    return "{\"storeId\": \"" + std::to_string(store) + "\", \"itemCount\": " + std::to_string(items) + "}";
}

} // namespace

TEST_CASE("the Kafka job decodes, rejects by reason, dead-letters, and fires everything at the end of a bounded run") {
    plan::Pipeline pipeline = compilePipeline("examples/store_order_count.yaml");
    EventEncoder encoder(pipeline);
    EmbeddedBroker broker;
    broker.createTopic("store_timeline_events", 2);
    broker.createTopic("dead", 1);
    broker.createTopic(changelogTopicName("job", pipeline.job_name()), 2);
    std::vector<std::pair<int64_t, std::string>> good = {
        {1767225600000, "{\"storeId\": \"1\", \"hasStoreOrderConfirmedData\": true}"},
        {1767225605000, "{\"storeId\": \"2\"}"},
        {1767225630000, "{\"storeId\": \"1\", \"hasStoreOrderConfirmedData\": true}"},
    };
    {
        KafkaProducer producer(broker.bootstrapServers());
        producer.produce("store_timeline_events", "", encoder.encode(good[0].second), envelope(good[0].first), 0);
        producer.produce("store_timeline_events", "", encoder.encode(good[1].second), envelope(good[1].first), 1);
        // Store 1 lives in partition 0, store 2 in partition 1 (the topic is keyed by the entity).
        producer.produce("store_timeline_events", "", std::string("\0\0\0\0\7\0", 6) + encoder.encode(good[2].second),
                         envelope(good[2].first, PayloadEncoding::ConfluentProtobuf, "7"), 0);
        producer.produce("store_timeline_events", "", "x", {{"event-created-at", "soon"}}, 1);
        producer.produce("store_timeline_events", "", "x", {{"event-created-at", "1"}, {"event-encoding", "avro"}}, 1);
        producer.produce("store_timeline_events", "", encoder.encode(storeEvent(3)), envelope(std::nullopt), 0);
        producer.produce("store_timeline_events", "", "\xff\xff\xff", envelope(1767225600000), 0);
        producer.produce("store_timeline_events", "", encoder.encode(storeEvent(3)), envelope(1767225600000, PayloadEncoding::Protobuf, "other.Message"), 0);
        producer.produce("store_timeline_events", "", "notconfluent", envelope(1767225600000, PayloadEncoding::ConfluentProtobuf, "7"), 0);
        producer.produce("store_timeline_events", "", encoder.encode(storeEvent(3)), envelope(int64_t{1} << 61), 0);
        REQUIRE(producer.flush(10000));
    }
    MemorySink sink;
    JobStatus status;
    std::atomic<bool> stop{false};
    std::vector<std::string> log;
    std::mutex logMutex;
    KafkaJobOptions options = jobOptions(broker, "job", &log, &logMutex);
    options.deadLetterTopic = "dead";
    options.untilEnd = true;
    CHECK(runKafkaJob(pipeline, options, sink, stop, status) == 0);

    CHECK(status.recordsIn.load() == 10);
    CHECK(status.decoded.load() == 3);
    auto bad = [&](BadRecordReason reason) { return status.bad[static_cast<size_t>(reason)].load(); };
    CHECK(bad(BadRecordReason::InvalidCreatedAt) == 1);
    CHECK(bad(BadRecordReason::UnknownEncoding) == 1);
    CHECK(bad(BadRecordReason::MissingTime) == 1);
    CHECK(bad(BadRecordReason::UndecodablePayload) == 2);
    CHECK(bad(BadRecordReason::SchemaMismatch) == 1);
    CHECK(bad(BadRecordReason::TimeOutOfRange) == 1);
    CHECK(status.deadLettered.load() == 7);
    CHECK(status.watermarkMs.load() == std::numeric_limits<int64_t>::max());
    // Every window of the good events, as one replay emits them (per partition instead of in one key order).
    auto expected = replay(pipeline, good, encoder);
    auto actual = sink.flushedRows();
    CHECK(std::multiset<std::string>(actual.begin(), actual.end()) == std::multiset<std::string>(expected.begin(), expected.end()));
    CHECK(status.rowsOut.load() == expected.size());
    bool loggedOffset = false;
    for (const auto& line : log) loggedOffset |= line.find("rejected record store_timeline_events/1@1: invalid_created_at: soon") != std::string::npos;
    CHECK(loggedOffset);
}

TEST_CASE("when the sink cannot flush, nothing is committed and the next member reads everything again") {
    plan::Pipeline pipeline = compilePipeline("tests/integration/specs/store_hourly_count.yaml");
    EventEncoder encoder(pipeline);
    EmbeddedBroker broker;
    broker.createTopic("store_timeline_events", 1);
    broker.createTopic(changelogTopicName("job", pipeline.job_name()), 1);
    std::vector<std::pair<int64_t, std::string>> events;
    for (int i = 0; i < 20; ++i) events.emplace_back(1767225600000 + i * 600000, storeEvent(i % 3));  // 3 h 10 min
    {
        KafkaProducer producer(broker.bootstrapServers());
        for (const auto& [time, json] : events) producer.produce("store_timeline_events", "", encoder.encode(json), envelope(time));
        REQUIRE(producer.flush(10000));
    }
    KafkaJobOptions options = jobOptions(broker, "job");
    options.untilEnd = true;
    std::atomic<bool> stop{false};
    {
        MemorySink failing;
        failing.failFlush = true;
        JobStatus status;
        CHECK_THROWS_AS(runKafkaJob(pipeline, options, failing, stop, status), std::runtime_error);
        CHECK(status.commits.load() == 0);
    }
    MemorySink sink;
    JobStatus status;
    CHECK(runKafkaJob(pipeline, options, sink, stop, status) == 0);
    CHECK(status.recordsIn.load() == events.size());
    auto expected = replay(pipeline, events, encoder);
    auto actual = sink.flushedRows();
    CHECK(std::multiset<std::string>(actual.begin(), actual.end()) == std::multiset<std::string>(expected.begin(), expected.end()));
}

TEST_CASE("after a crash the next member re-reads only what came after the last checkpoint; a day window's state "
          "comes from the changelog") {
    // HOP 1 h / 1 day: the window is 864,000 checkpoint intervals of 100 ms long.
    plan::Pipeline pipeline = compilePipeline("tests/integration/specs/store_daily_hop.yaml");
    EventEncoder encoder(pipeline);
    EmbeddedBroker broker;
    broker.createTopic("store_timeline_events", 2);
    broker.createTopic(changelogTopicName("job", pipeline.job_name()), 2);
    // Six hours of events for 8 stores on both partitions, then a flush event a day later on each partition.
    std::vector<std::pair<int64_t, std::string>> first, second, all;
    const int64_t base = 1767225600000;
    for (int i = 0; i < 720; ++i) {
        auto event = std::make_pair(base + i * 30000, storeEvent(i % 8, 1 + i % 5));
        (i < 360 ? first : second).push_back(event);
        all.push_back(event);
    }
    auto produce = [&](const std::vector<std::pair<int64_t, std::string>>& events) {
        KafkaProducer producer(broker.bootstrapServers());
        for (size_t i = 0; i < events.size(); ++i)
            producer.produce("store_timeline_events", "", encoder.encode(events[i].second), envelope(events[i].first),
                             static_cast<int32_t>(i % 2));
        REQUIRE(producer.flush(10000));
    };
    produce(first);

    // Member 1 reads the first three hours, checkpoints, then reads three more and crashes before its next checkpoint.
    MemorySink sink1;
    JobStatus status1;
    std::atomic<bool> stop{false};
    std::thread member1([&] {
        KafkaJobOptions options = jobOptions(broker, "job");
        options.checkpointIntervalMs = 1000;
        CHECK_THROWS_AS(runKafkaJob(pipeline, options, sink1, stop, status1), std::runtime_error);
    });
    for (int i = 0; i < 400 && status1.recordsIn.load() < first.size(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(status1.recordsIn.load() == first.size());
    int64_t consumed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (int i = 0; i < 400 && status1.lastCheckpointMs.load() <= consumed + 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(status1.lastCheckpointMs.load() > consumed + 10);  // a checkpoint that covers the first three hours
    produce(second);
    for (int i = 0; i < 400 && status1.recordsIn.load() < first.size() + second.size(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    {
        std::lock_guard lock(sink1.mutex);
        sink1.failFlush = true;  // the next flush fails: the member dies, most likely before its next checkpoint
    }
    member1.join();
    uint64_t readByFirst = status1.recordsIn.load();
    CHECK(readByFirst == first.size() + second.size());

    // Member 2 continues from the checkpoint: it never reads the first three hours again.
    std::vector<std::pair<int64_t, std::string>> flush = {{base + 2 * 86400000LL, storeEvent(0)}, {base + 2 * 86400000LL, storeEvent(1)}};
    produce(flush);
    MemorySink sink2;
    JobStatus status2;
    KafkaJobOptions options = jobOptions(broker, "job");
    options.untilEnd = true;
    CHECK(runKafkaJob(pipeline, options, sink2, stop, status2) == 0);
    const uint64_t reread = status2.recordsIn.load() - flush.size();
    MESSAGE("member 1 read " << readByFirst << " records and crashed; member 2 read " << status2.recordsIn.load() << ": "
                             << reread << " again (those after member 1's last checkpoint), not the " << readByFirst - reread
                             << " before it; " << status2.restoredEntries.load() << " state entries restored");
    CHECK(reread <= second.size());  // never the first three hours, though their windows were all still open
    CHECK(status2.restoredEntries.load() > 0);
    // Member 1's flushed windows, then member 2's: together every window of a replay of all events, each value right.
    all.insert(all.end(), flush.begin(), flush.end());
    auto expected = replay(pipeline, all, encoder);
    std::set<std::string> expectedSet(expected.begin(), expected.end());
    std::set<std::string> actualSet;
    for (const auto& row : sink1.flushedRows()) actualSet.insert(row);
    for (const auto& row : sink2.flushedRows()) actualSet.insert(row);
    for (const auto& row : actualSet) {
        CAPTURE(row);
        CHECK(expectedSet.count(row) == 1);
    }
    CHECK(actualSet.size() == expectedSet.size());
}

TEST_CASE("a GROUP BY key that arrives in two partitions is counted, and stops the job with --strict") {
    plan::Pipeline pipeline = compilePipeline("tests/integration/specs/store_hourly_count.yaml");
    pipeline.clear_exchange();  // run as a job that trusts its topic's key (key_field or `exchange: none`)
    EventEncoder encoder(pipeline);
    EmbeddedBroker broker;
    broker.createTopic("store_timeline_events", 2);
    broker.createTopic(changelogTopicName("job", pipeline.job_name()), 2);
    broker.createTopic(changelogTopicName("strict", pipeline.job_name()), 2);
    {
        KafkaProducer producer(broker.bootstrapServers());
        producer.produce("store_timeline_events", "", encoder.encode(storeEvent(1)), envelope(1767225600000), 0);
        producer.produce("store_timeline_events", "", encoder.encode(storeEvent(2)), envelope(1767225601000), 1);
        producer.produce("store_timeline_events", "", encoder.encode(storeEvent(1)), envelope(1767225602000), 1);
        producer.produce("store_timeline_events", "", encoder.encode(storeEvent(1)), envelope(1767225603000), 1);
        REQUIRE(producer.flush(10000));
    }
    SUBCASE("counted and logged") {
        KafkaJobOptions options = jobOptions(broker, "job");
        options.untilEnd = true;
        std::vector<std::string> lines;
        options.log = [&lines](const std::string& line) { lines.push_back(line); };
        MemorySink sink;
        JobStatus status;
        std::atomic<bool> stop{false};
        CHECK(runKafkaJob(pipeline, options, sink, stop, status) == 0);
        CHECK(status.splitKeys.load() == 1);  // store 1 in partition 1 after partition 0, once
        bool logged = false;
        for (const auto& line : lines) logged |= line.find("error: split key #1: GROUP BY key (store_id=1) arrives in partitions") != std::string::npos;
        CHECK(logged);
    }
    SUBCASE("--strict stops") {
        KafkaJobOptions options = jobOptions(broker, "strict");
        options.untilEnd = true;
        options.strictSplitKeys = true;
        MemorySink sink;
        JobStatus status;
        std::atomic<bool> stop{false};
        CHECK_THROWS_WITH_AS(runKafkaJob(pipeline, options, sink, stop, status),
                             doctest::Contains("GROUP BY key (store_id=1) arrives in partitions"), UserError);
    }
}
