#include "runtime/sources/embedded_broker.h"
#include "runtime/kafka/kafka_consumer.h"
#include "runtime/sources/kafka_producer.h"
#include "runtime/kafka/lag_monitor.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace pipec::runtime;

namespace {

void produce(EmbeddedBroker& broker, int32_t partition, int count) {
    KafkaProducer producer(broker.bootstrapServers());
    for (int i = 0; i < count; ++i) producer.produce("events", "", "event", {}, partition);
    REQUIRE(producer.flush(10000));
}

/// Asks for a round and waits until it was published; the value.
int64_t measured(LagMonitor& monitor, const std::atomic<int64_t>& lag) {
    uint64_t before = monitor.rounds();
    monitor.refresh();
    for (int i = 0; i < 200 && monitor.rounds() < before + 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    REQUIRE(monitor.rounds() >= before + 1);
    return lag.load();
}

} // namespace

TEST_CASE("the lag monitor reads high watermarks from the broker while the job's positions stand still") {
    EmbeddedBroker broker;
    broker.createTopic("events", 2);
    produce(broker, 0, 30);
    produce(broker, 1, 20);

    std::atomic<int64_t> lag{-1};
    LagMonitorOptions options;
    options.brokers = broker.bootstrapServers();
    options.intervalMs = 60000;  // rounds only when asked, so each check sees the state it set up
    options.log = [](const std::string&) {};
    LagMonitor monitor(options, lag);
    CHECK(measured(monitor, lag) == 0);  // nothing assigned

    // Partition 0 processed up to offset 10; partition 1 not started (no position, no commit: from its start).
    monitor.setPositions({{{"events", 0}, 10}, {{"events", 1}, -1}});
    CHECK(measured(monitor, lag) == 20 + 20);
    // The job is blocked (its positions stay), the topic grows: the lag grows with it.
    produce(broker, 0, 15);
    produce(broker, 1, 5);
    CHECK(measured(monitor, lag) == 35 + 25);
    monitor.setPositions({{{"events", 0}, 45}, {{"events", 1}, 25}});
    CHECK(measured(monitor, lag) == 0);

    // A partition the broker does not have: unknown, not a made-up number.
    monitor.setPositions({{{"events", 0}, 45}, {{"events", 7}, 0}});
    CHECK(measured(monitor, lag) == -1);
    monitor.stop();
    monitor.stop();
}

TEST_CASE("the lag monitor counts a partition without a position from the group's committed offset") {
    EmbeddedBroker broker;
    broker.createTopic("events", 1);
    produce(broker, 0, 40);
    {
        KafkaConsumerOptions consumerOptions;
        consumerOptions.brokers = broker.bootstrapServers();
        consumerOptions.groupId = "lagging";
        consumerOptions.topics = {"events"};
        consumerOptions.reportEndOfPartition = true;
        consumerOptions.sessionTimeoutMs = 3000;
        consumerOptions.log = [](const std::string&) {};
        KafkaConsumer consumer(consumerOptions);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (!consumer.allPartitionsAtEnd() && std::chrono::steady_clock::now() < deadline)
            consumer.poll(100, 100, [](const KafkaRecord&) {});
        REQUIRE(consumer.allPartitionsAtEnd());
        CHECK(consumer.positions() == std::map<TopicPartition, int64_t>{{{"events", 0}, 40}});
        REQUIRE(consumer.commitProcessed() == CommitResult::committed);
        consumer.close();
    }
    produce(broker, 0, 6);

    std::atomic<int64_t> lag{-1};
    LagMonitorOptions options;
    options.brokers = broker.bootstrapServers();
    options.groupId = "lagging";
    options.intervalMs = 60000;
    options.log = [](const std::string&) {};
    LagMonitor monitor(options, lag);
    monitor.setPositions({{{"events", 0}, -1}});
    CHECK(measured(monitor, lag) == 6);
}
