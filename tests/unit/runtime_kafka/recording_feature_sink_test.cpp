#include "runtime/sinks/recording_feature_sink.h"
#include "runtime/sinks/redis_feature_sink.h"
#include "tests/unit/runtime_kafka/local_servers.h"

#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace pipec::runtime;

namespace {

std::vector<pipec::plan::OutputColumn> columns() {
    std::vector<pipec::plan::OutputColumn> result(3);
    result[0].set_name("st");
    result[0].set_type(pipec::plan::BIGINT);
    result[0].set_is_key(true);
    result[1].set_name("order_count");
    result[1].set_type(pipec::plan::INT);
    result[2].set_name("avg_wait");
    result[2].set_type(pipec::plan::DOUBLE);
    return result;
}

RedisFeatureSinkOptions options(int port) {
    RedisFeatureSinkOptions result;
    result.name = "features";
    result.port = port;
    result.keyFormat = "f/{feature}/{key}";
    result.features = {{"count", "order_count", 600}, {"wait", "avg_wait", 0}};
    result.batchSize = 1;  // every write is its own round trip: the guard in Redis decides, not the buffer
    result.log = [](const std::string&) {};
    return result;
}

/// A sequence of writes with windows out of order, NULL values and plain (unwindowed) writes.
void writeAll(RowSink& sink) {
    sink.open(columns());
    sink.writeWindowed({Value::ofInt(1), Value::ofInt(5), Value::ofDouble(0.5)}, 2000);
    sink.writeWindowed({Value::ofInt(1), Value::ofInt(3), Value::ofDouble(1.5)}, 1000);  // older window: refused
    sink.writeWindowed({Value::ofInt(2), Value::ofInt(7), Value::null()}, 1000);         // NULL: the key is deleted
    sink.writeWindowed({Value::ofInt(2), Value::ofInt(8), Value::ofDouble(2.25)}, 1000);  // equal window end: written
    sink.writeWindowed({Value::ofInt(3), Value::ofInt(1), Value::ofDouble(1)}, 3000);
    sink.writeWindowed({Value::ofInt(3), Value::ofInt(2), Value::null()}, 4000);         // a newer window deletes
    sink.writeWindowed({Value::ofInt(3), Value::ofInt(9), Value::ofDouble(9)}, 3500);    // older than the delete: refused
    sink.write({Value::ofInt(4), Value::ofInt(4), Value::ofDouble(1e21)});
    sink.flush();
}

} // namespace

TEST_CASE("the recording sink formats keys, values and TTLs as the Redis sink does, with the window guard") {
    int64_t clock = 0;
    RecordingFeatureSink recording(options(1), [&clock] { return clock; });
    writeAll(recording);
    auto held = recording.held();
    std::map<std::string, std::string> values;
    for (const auto& [key, entry] : held) values[key] = entry.value + "@" + std::to_string(entry.ttlSeconds);
    CHECK(values == std::map<std::string, std::string>{{"f/count/1", "5@600"},
                                                        {"f/wait/1", "0.5@0"},
                                                        {"f/count/2", "8@600"},
                                                        {"f/wait/2", "2.25@0"},
                                                        {"f/count/3", "2@600"},
                                                        {"f/count/4", "4@600"},
                                                        {"f/wait/4", "1e+21@0"}});
    // Keys expire on the sink's clock: 600 s after their write; TTL 0 never.
    clock = 599'999;
    CHECK(recording.held().count("f/count/1") == 1);
    clock = 600'000;
    CHECK(recording.held().count("f/count/1") == 0);
    CHECK(recording.held().count("f/wait/1") == 1);
}

TEST_CASE("the recording sink holds what a real Redis holds after the same writes") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    pipec::test::RedisServerProcess server(pipec::test::freeTcpPort());
    RedisFeatureSink redis(options(server.port()));
    writeAll(redis);
    int64_t clock = 0;
    RecordingFeatureSink recording(options(server.port()), [&clock] { return clock; });
    writeAll(recording);

    redisContext* context = redisConnect("127.0.0.1", server.port());
    REQUIRE(context != nullptr);
    auto* keys = static_cast<redisReply*>(redisCommand(context, "KEYS f/*"));
    REQUIRE(keys != nullptr);
    std::map<std::string, RecordingFeatureSink::HeldKey> inRedis;
    for (size_t i = 0; i < keys->elements; ++i) {
        std::string key(keys->element[i]->str, keys->element[i]->len);
        auto* value = static_cast<redisReply*>(redisCommand(context, "GET %s", key.c_str()));
        auto* ttl = static_cast<redisReply*>(redisCommand(context, "TTL %s", key.c_str()));
        // TTL answers -1 for a key without expiry, and the seconds left (at most the TTL set) otherwise.
        int64_t seconds = ttl->integer < 0 ? 0 : (ttl->integer > 590 ? 600 : ttl->integer);
        inRedis[key] = RecordingFeatureSink::HeldKey{std::string(value->str, value->len), seconds};
        freeReplyObject(value);
        freeReplyObject(ttl);
    }
    freeReplyObject(keys);
    redisFree(context);
    auto held = recording.held();
    REQUIRE(held.size() == inRedis.size());
    for (const auto& [key, entry] : held) {
        INFO(key);
        REQUIRE(inRedis.count(key) == 1);
        CHECK(inRedis[key].value == entry.value);
        CHECK(inRedis[key].ttlSeconds == entry.ttlSeconds);
    }
}
