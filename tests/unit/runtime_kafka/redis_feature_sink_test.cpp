#include "runtime/core/user_error.h"
#include "runtime/sinks/redis_feature_sink.h"
#include "tests/unit/runtime_kafka/local_servers.h"

#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <memory>

using namespace pipec::runtime;
using pipec::test::RedisServerProcess;

namespace {

/// A direct Redis client for assertions, independent of the sink under test.
class RedisProbe {
public:
    explicit RedisProbe(int port) {
        context_ = redisConnect("127.0.0.1", port);
        REQUIRE(context_ != nullptr);
        REQUIRE(context_->err == 0);
    }
    ~RedisProbe() { redisFree(context_); }

    /// The string value of `key`, or "(nil)".
    std::string get(const std::string& key) { return command({"GET", key}); }
    long long ttl(const std::string& key) { return std::stoll(command({"TTL", key})); }
    std::string command(const std::vector<std::string>& arguments) {
        std::vector<const char*> argv;
        std::vector<size_t> lengths;
        for (const auto& argument : arguments) {
            argv.push_back(argument.data());
            lengths.push_back(argument.size());
        }
        auto* reply = static_cast<redisReply*>(
            redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
        REQUIRE(reply != nullptr);
        std::string text;
        if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) text.assign(reply->str, reply->len);
        else if (reply->type == REDIS_REPLY_INTEGER) text = std::to_string(reply->integer);
        else if (reply->type == REDIS_REPLY_NIL) text = "(nil)";
        else text = "(other)";
        freeReplyObject(reply);
        return text;
    }

private:
    redisContext* context_ = nullptr;
};

std::vector<pipec::plan::OutputColumn> storeColumns() {
    std::vector<pipec::plan::OutputColumn> columns(4);
    columns[0].set_name("st");
    columns[0].set_type(pipec::plan::BIGINT);
    columns[0].set_is_key(true);
    columns[1].set_name("region");
    columns[1].set_type(pipec::plan::VARCHAR);
    columns[1].set_is_key(true);
    columns[2].set_name("order_count");
    columns[2].set_type(pipec::plan::INT);
    columns[3].set_name("avg_wait");
    columns[3].set_type(pipec::plan::DOUBLE);
    return columns;
}

RedisFeatureSinkOptions storeOptions(int port) {
    RedisFeatureSinkOptions options;
    options.port = port;
    options.features = {{"store_order_count", "order_count", 1200}, {"store_avg_wait", "avg_wait", 0}};
    options.batchSize = 3;
    options.initialBackoffMs = 20;
    options.maxBackoffMs = 100;
    options.log = [](const std::string&) {};
    return options;
}

} // namespace

TEST_CASE("feature values are formatted as documented") {
    CHECK(formatFeatureValue(Value::ofInt(-42), pipec::plan::BIGINT) == "-42");
    CHECK(formatFeatureValue(Value::ofBool(true), pipec::plan::BOOLEAN) == "true");
    CHECK(formatFeatureValue(Value::ofDouble(0.1), pipec::plan::DOUBLE) == "0.1");
    CHECK(formatFeatureValue(Value::ofDouble(12.0), pipec::plan::DOUBLE) == "12");
    CHECK(formatFeatureValue(Value::ofInt(1767225600000), pipec::plan::TIMESTAMP) == "1767225600000");
    CHECK(formatFeatureValue(Value::ofString("a b"), pipec::plan::VARCHAR) == "a b");
    CHECK(formatFeatureValue(Value::null(), pipec::plan::INT) == "null");

    RedisFeatureSinkOptions options;
    CHECK_THROWS_AS(parseRedisAddress("host:x", options), pipec::UserError);
    parseRedisAddress("redis.internal:6380", options);
    CHECK(options.host == "redis.internal");
    CHECK(options.port == 6380);
    options.keyFormat = "features/{feature}/{key}";
    CHECK(RedisFeatureSink(options).keyFor("f", "1|x") == "features/f/1|x");
}

TEST_CASE("an unknown feature column is rejected at open") {
    RedisFeatureSinkOptions options = storeOptions(1);
    options.features = {{"f", "missing", 10}};
    RedisFeatureSink sink(options);
    CHECK_THROWS_AS(sink.open(storeColumns()), std::invalid_argument);
}

TEST_CASE("rows become SET key value EX ttl, NULL values delete the key") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    RedisProbe probe(server.port());
    probe.command({"SET", "store_avg_wait:9|west", "stale"});

    RedisFeatureSink sink(storeOptions(server.port()));
    sink.open(storeColumns());
    for (int store = 1; store <= 5; ++store)
        sink.write({Value::ofInt(store), Value::ofString("east"), Value::ofInt(store * 10), Value::ofDouble(store / 4.0)});
    sink.write({Value::ofInt(9), Value::ofString("west"), Value::ofInt(0), Value::null()});
    sink.flush();

    CHECK(probe.get("store_order_count:1|east") == "10");
    CHECK(probe.get("store_order_count:5|east") == "50");
    CHECK(probe.get("store_avg_wait:2|east") == "0.5");
    CHECK(probe.get("store_order_count:9|west") == "0");
    CHECK(probe.get("store_avg_wait:9|west") == "(nil)");
    long long ttl = probe.ttl("store_order_count:3|east");
    CHECK(ttl > 1190);
    CHECK(ttl <= 1200);
    CHECK(probe.ttl("store_avg_wait:3|east") == -1);
    CHECK(sink.stats().keysSet.load() == 11);
    CHECK(sink.stats().keysDeleted.load() == 1);
}

TEST_CASE("writes survive a Redis outage: the unacknowledged batch is retried after reconnecting") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    RedisFeatureSink sink(storeOptions(server.port()));
    sink.open(storeColumns());
    sink.write({Value::ofInt(1), Value::ofString("a"), Value::ofInt(1), Value::ofDouble(1)});
    sink.flush();

    server.stop();
    std::thread restarter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        server.start();
    });
    // The server is down: these writes (and the flush) block until it is back, then land.
    for (int store = 2; store <= 4; ++store)
        sink.write({Value::ofInt(store), Value::ofString("a"), Value::ofInt(store), Value::ofDouble(store)});
    sink.flush();
    restarter.join();

    RedisProbe probe(server.port());
    for (int store = 2; store <= 4; ++store)
        CHECK(probe.get("store_order_count:" + std::to_string(store) + "|a") == std::to_string(store));
    CHECK(sink.stats().retriedBatches.load() >= 1);
    CHECK(sink.stats().reconnects.load() >= 1);
}

TEST_CASE("a cancelled sink gives up instead of blocking forever") {
    std::atomic<bool> cancel{true};
    RedisFeatureSinkOptions options = storeOptions(pipec::test::freeTcpPort());
    options.cancel = &cancel;
    RedisFeatureSink sink(options);
    sink.open(storeColumns());
    sink.write({Value::ofInt(1), Value::ofString("a"), Value::ofInt(1), Value::ofDouble(1)});
    CHECK_THROWS_AS(sink.flush(), std::runtime_error);
}
