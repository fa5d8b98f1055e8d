// End to end through the real protocols, without the SQL executor: events go to the embedded Kafka-protocol broker,
// a consumer-group member reads them back with their envelopes, a per-store count stands in for the pipeline, and
// the rows land in a real redis-server through the feature sink. Skips when redis-server is not installed.

#include "runtime/sinks/redis_feature_sink.h"
#include "runtime/sources/embedded_broker.h"
#include "runtime/kafka/kafka_consumer.h"
#include "runtime/sources/kafka_producer.h"
#include "tests/unit/runtime_kafka/local_servers.h"

#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <map>

using namespace pipec::runtime;

namespace {

std::string redisGet(redisContext* context, const char* command, const std::string& key) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "%s %s", command, key.c_str()));
    REQUIRE(reply != nullptr);
    std::string text = reply->type == REDIS_REPLY_STRING    ? std::string(reply->str, reply->len)
                       : reply->type == REDIS_REPLY_INTEGER ? std::to_string(reply->integer)
                                                            : "(nil)";
    freeReplyObject(reply);
    return text;
}

} // namespace

TEST_CASE("events flow from Kafka through a consumer group into Redis features with TTLs") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    pipec::test::RedisServerProcess redis(pipec::test::freeTcpPort());
    EmbeddedBroker broker;
    broker.createTopic("store_events", 2);

    // Store s gets s events; the store id travels as the record key, the time in the envelope.
    std::map<int, int> expected;
    {
        KafkaProducer producer(broker.bootstrapServers());
        int64_t time = 1767225600000;
        for (int store = 1; store <= 4; ++store) {
            for (int n = 0; n < store; ++n) {
                EventEnvelope envelope{.createdAtMs = time++, .source = "flow-test", .encoding = PayloadEncoding::Json,
                                       .schema = "test.StoreEvent"};
                producer.produce("store_events", std::to_string(store), "{}", encodeEnvelope(envelope));
            }
            expected[store] = store;
        }
        REQUIRE(producer.flush(10000));
    }

    std::vector<pipec::plan::OutputColumn> columns(2);
    columns[0].set_name("st");
    columns[0].set_type(pipec::plan::BIGINT);
    columns[0].set_is_key(true);
    columns[1].set_name("order_count");
    columns[1].set_type(pipec::plan::BIGINT);
    RedisFeatureSinkOptions sinkOptions;
    sinkOptions.port = redis.port();
    sinkOptions.features = {{"store_order_count", "order_count", 600}};
    RedisFeatureSink sink(sinkOptions);
    sink.open(columns);

    KafkaConsumer consumer({.brokers = broker.bootstrapServers(), .groupId = "flow", .topics = {"store_events"},
                            .properties = {}, .reportEndOfPartition = true, .sessionTimeoutMs = 3000,
                            .log = [](const std::string&) {}});
    std::map<int, int> counts;
    int64_t lastTime = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!consumer.allPartitionsAtEnd() && std::chrono::steady_clock::now() < deadline) {
        consumer.poll(100, 100, [&](const KafkaRecord& record) {
            EnvelopeParseResult envelope = parseEnvelope(record.headers);
            REQUIRE(envelope.error == EnvelopeError::None);
            CHECK(envelope.envelope.encoding == PayloadEncoding::Json);
            lastTime = std::max(lastTime, envelope.envelope.createdAtMs.value_or(0));
            counts[std::stoi(std::string(record.key))]++;
        });
    }
    REQUIRE(consumer.allPartitionsAtEnd());
    for (const auto& [store, count] : counts) sink.write({Value::ofInt(store), Value::ofInt(count)});
    sink.flush();
    CHECK(consumer.commitProcessed() == CommitResult::committed);
    CHECK(consumer.lag() == 0);
    CHECK(lastTime == 1767225600000 + 9);
    CHECK(counts == expected);

    redisContext* context = redisConnect("127.0.0.1", redis.port());
    REQUIRE(context != nullptr);
    for (const auto& [store, count] : expected) {
        std::string key = "store_order_count:" + std::to_string(store);
        CHECK(redisGet(context, "GET", key) == std::to_string(count));
        long long ttl = std::stoll(redisGet(context, "TTL", key));
        CHECK(ttl > 590);
        CHECK(ttl <= 600);
    }
    redisFree(context);
}
