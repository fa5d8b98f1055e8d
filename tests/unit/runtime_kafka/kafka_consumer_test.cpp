#include "runtime/sources/embedded_broker.h"
#include "runtime/sources/kafka_consumer.h"
#include "runtime/sources/kafka_producer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <set>

using namespace pipec::runtime;

namespace {

/// Polls until every partition reached its end (or a deadline passes); returns the records' payloads by offset.
std::map<TopicPartition, std::vector<std::string>> drain(KafkaConsumer& consumer,
                                                        std::vector<HeaderList>* headers = nullptr) {
    std::map<TopicPartition, std::vector<std::string>> seen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!consumer.allPartitionsAtEnd() && std::chrono::steady_clock::now() < deadline) {
        consumer.poll(500, 100, [&](const KafkaRecord& record) {
            seen[{record.topic, record.partition}].emplace_back(record.payload);
            if (headers != nullptr) headers->push_back(toHeaderList(record.headers));
        });
    }
    REQUIRE(consumer.allPartitionsAtEnd());
    return seen;
}

KafkaConsumerOptions consumerOptions(const EmbeddedBroker& broker, const std::string& group) {
    KafkaConsumerOptions options;
    options.brokers = broker.bootstrapServers();
    options.groupId = group;
    options.topics = {"events"};
    options.reportEndOfPartition = true;
    options.sessionTimeoutMs = 3000;
    options.log = [](const std::string&) {};
    return options;
}

} // namespace

TEST_CASE("a group consumer reads every partition with headers and resumes after its committed offsets") {
    EmbeddedBroker broker;
    broker.createTopic("events", 3);
    {
        KafkaProducer producer(broker.bootstrapServers());
        for (int i = 0; i < 30; ++i)
            producer.produce("events", "", "event-" + std::to_string(i),
                             encodeEnvelope({.createdAtMs = 1000 + i, .source = "test", .encoding = {}, .schema = {}}),
                             i % 3);
        REQUIRE(producer.flush(10000));
        CHECK(producer.delivered() == 30);
    }

    std::set<TopicPartition> assigned;
    {
        KafkaConsumer consumer(consumerOptions(broker, "group-a"));
        consumer.onAssign([&](const std::vector<TopicPartition>& partitions) {
            assigned.insert(partitions.begin(), partitions.end());
        });
        std::vector<HeaderList> headers;
        auto seen = drain(consumer, &headers);
        CHECK(assigned.size() == 3);
        REQUIRE(seen.size() == 3);
        // Partition order is preserved: partition 1 received events 1, 4, 7, ...
        CHECK(seen[{"events", 1}].front() == "event-1");
        CHECK(seen[{"events", 1}][1] == "event-4");
        size_t total = 0;
        for (const auto& [partition, payloads] : seen) total += payloads.size();
        CHECK(total == 30);
        REQUIRE(headers.size() == 30);
        EnvelopeParseResult envelope = parseEnvelope(headers.front());
        CHECK(envelope.envelope.source == "test");
        CHECK(envelope.envelope.createdAtMs.has_value());
        CHECK(consumer.lag() == 0);
        // Commit only 30 records' worth; then add more and close without committing them.
        CHECK(consumer.commitProcessed());
        consumer.close();
    }
    {
        KafkaProducer producer(broker.bootstrapServers());
        producer.produce("events", "", "late-arrival", {}, 2);
        REQUIRE(producer.flush(10000));
    }
    {
        KafkaConsumer consumer(consumerOptions(broker, "group-a"));
        auto seen = drain(consumer);
        // Only the record after the committed offsets is delivered again.
        REQUIRE(seen.size() == 1);
        CHECK(seen[{"events", 2}] == std::vector<std::string>{"late-arrival"});
    }
}

TEST_CASE("the embedded broker accepts clients on a fixed bootstrap port") {
    // Find a free port by letting the kernel choose one for a throwaway broker's forwarder is not possible, so try
    // a few high ports until one binds.
    std::unique_ptr<EmbeddedBroker> broker;
    int port = 0;
    for (int candidate = 39092; candidate < 39192 && !broker; ++candidate) {
        try {
            broker = std::make_unique<EmbeddedBroker>(EmbeddedBroker::Options{.brokerCount = 1, .bootstrapPort = candidate});
            port = candidate;
        } catch (const std::runtime_error&) {
        }
    }
    REQUIRE(broker);
    CHECK(broker->bootstrapServers() == "127.0.0.1:" + std::to_string(port));
    CHECK(broker->brokerAddresses() != broker->bootstrapServers());
    broker->createTopic("events", 1);
    KafkaProducer producer(broker->bootstrapServers());
    producer.produce("events", "k", "v", {});
    REQUIRE(producer.flush(10000));
    // Delivery needs the metadata fetched through the forwarder; consuming is covered above (a group join on the
    // mock cluster costs 3 s, so it is not repeated here).
    CHECK(producer.delivered() == 1);
}
