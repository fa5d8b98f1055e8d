#include "runtime/core/user_error.h"
#include "runtime/sinks/redis_feature_sink.h"
#include "tests/unit/runtime_kafka/local_servers.h"

#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

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

namespace {

/// A one-feature sink (`f`, value column `v`, entity key column `k`) for the write-guard tests.
std::vector<pipec::plan::OutputColumn> guardColumns() {
    std::vector<pipec::plan::OutputColumn> columns(2);
    columns[0].set_name("k");
    columns[0].set_type(pipec::plan::BIGINT);
    columns[0].set_is_key(true);
    columns[1].set_name("v");
    columns[1].set_type(pipec::plan::BIGINT);
    return columns;
}

RedisFeatureSinkOptions guardOptions(int port, int64_t ttlSeconds = 600) {
    RedisFeatureSinkOptions options;
    options.port = port;
    options.name = "features";
    options.features = {{"f", "v", ttlSeconds}};
    options.batchSize = 1000;
    options.initialBackoffMs = 20;
    options.maxBackoffMs = 100;
    options.commandTimeoutMs = 500;
    options.log = [](const std::string&) {};
    return options;
}

Row guardRow(int64_t key, std::optional<int64_t> value) {
    return {Value::ofInt(key), value ? Value::ofInt(*value) : Value::null()};
}

/// The Redis Cluster hash slot of a key (CRC16/XMODEM of the key or of its hash tag, modulo 16384), computed here
/// independently of the sink so the companion-key naming is checked against the cluster's own rule.
int clusterSlot(const std::string& key) {
    std::string hashed = key;
    size_t open = key.find('{');
    if (open != std::string::npos) {
        size_t close = key.find('}', open + 1);
        if (close != std::string::npos && close > open + 1) hashed = key.substr(open + 1, close - open - 1);
    }
    uint16_t crc = 0;
    for (unsigned char byte : hashed) {
        crc ^= static_cast<uint16_t>(byte << 8);
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
    return crc % 16384;
}

} // namespace

TEST_CASE("the window end lives in a companion key in the same cluster hash slot") {
    CHECK(clusterSlot("123456789") == (0x31C3 % 16384));  // the CRC16/XMODEM check value
    CHECK(RedisFeatureSink::windowEndKeyFor("f:1") == "pipec-window-end{f:1}");
    CHECK(RedisFeatureSink::windowEndKeyFor("{tenant}:f:1") == "pipec-window-end:{tenant}:f:1");
    // Not in the list: a key with a `}` but no hash tag (`f:{}x`) is hashed whole and no tag can spell it; the one
    // exception docs/feature-store.md names.
    for (std::string key : {"canary_store_order_count:101", "f:101|west", "{tenant}:f:1", "f:{1}", "f:{", "x{y}{z}"})
        CHECK_MESSAGE(clusterSlot(RedisFeatureSink::windowEndKeyFor(key)) == clusterSlot(key), key);
    // A hash tag's key and the key it tags hash alike, yet their companions stay apart.
    CHECK(RedisFeatureSink::windowEndKeyFor("{f:1}") != RedisFeatureSink::windowEndKeyFor("f:1"));
}

TEST_CASE("write guard: two writers racing with windows in reverse order, the later window wins") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    RedisProbe probe(server.port());

    SUBCASE("one after the other") {
        RedisFeatureSink newer(guardOptions(server.port()));
        RedisFeatureSink older(guardOptions(server.port()));
        newer.open(guardColumns());
        older.open(guardColumns());
        newer.writeWindowed(guardRow(1, 20), 2000);
        newer.flush();
        // A former owner flushing late: its older window must not replace the newer value.
        older.writeWindowed(guardRow(1, 10), 1000);
        older.flush();
        CHECK(probe.get("f:1") == "20");
        CHECK(probe.get("pipec-window-end{f:1}") == "2000");
        CHECK(older.stats().staleRefused.load() == 1);
        CHECK(older.stats().keysSet.load() == 0);
        // The same window again (re-computed after a restart) is written.
        older.writeWindowed(guardRow(1, 21), 2000);
        older.flush();
        CHECK(probe.get("f:1") == "21");
        // Window ends compare as integers, not as text ("900" > "1000" as text), negative ones included.
        older.writeWindowed(guardRow(1, 9), 900);
        older.writeWindowed(guardRow(2, -1), -1000);
        older.flush();
        older.writeWindowed(guardRow(2, -2), -2000);
        older.flush();
        CHECK(probe.get("f:1") == "21");
        CHECK(probe.get("f:2") == "-1");
    }

    SUBCASE("concurrently: every value Redis serves is at least as new as the one before") {
        constexpr int kWindows = 150;
        std::atomic<bool> done{false};
        std::vector<long long> served;
        std::thread reader([&] {
            RedisProbe readerProbe(server.port());
            while (!done.load()) {
                std::string value = readerProbe.get("f:7");
                if (value != "(nil)") served.push_back(std::stoll(value));
            }
        });
        // The value is the window end, so the values Redis serves show which window it holds.
        auto writer = [&](bool ascending) {
            RedisFeatureSink sink(guardOptions(server.port()));
            sink.open(guardColumns());
            for (int i = 1; i <= kWindows; ++i) {
                int64_t window = (ascending ? i : kWindows + 1 - i) * 1000;
                sink.writeWindowed(guardRow(7, window), window);
                sink.flush();
            }
            return sink.stats().staleRefused.load();
        };
        uint64_t refusedAscending = 0;
        uint64_t refusedDescending = 0;
        std::thread ascending([&] { refusedAscending = writer(true); });
        std::thread descending([&] { refusedDescending = writer(false); });
        ascending.join();
        descending.join();
        done = true;
        reader.join();
        CHECK(probe.get("f:7") == std::to_string(kWindows * 1000));
        REQUIRE(!served.empty());
        CHECK(std::is_sorted(served.begin(), served.end()));
        // The descending writer lost from the moment the other passed it (at the latest at the last window).
        // The descending writer starts with the latest window; every later write of it is older, so refused.
        CHECK(refusedDescending == kWindows - 1);
        CHECK(refusedAscending <= kWindows - 1);
    }
}

TEST_CASE("write guard: deleting an older window keeps the newer value, and a deleted window is not brought back") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    RedisProbe probe(server.port());
    RedisFeatureSink first(guardOptions(server.port()));
    RedisFeatureSink second(guardOptions(server.port()));
    first.open(guardColumns());
    second.open(guardColumns());

    first.writeWindowed(guardRow(1, 5), 2000);
    first.flush();
    second.writeWindowed(guardRow(1, std::nullopt), 1000);  // NULL of an older window
    second.flush();
    CHECK(probe.get("f:1") == "5");
    CHECK(second.stats().keysDeleted.load() == 0);
    CHECK(second.stats().staleRefused.load() == 1);

    second.writeWindowed(guardRow(1, std::nullopt), 3000);  // NULL of a newer window: deleted
    second.flush();
    CHECK(probe.get("f:1") == "(nil)");
    CHECK(second.stats().keysDeleted.load() == 1);
    first.writeWindowed(guardRow(1, 6), 2500);  // older than the delete: stays deleted
    first.flush();
    CHECK(probe.get("f:1") == "(nil)");
    CHECK(probe.get("pipec-window-end{f:1}") == "3000");
}

TEST_CASE("write guard: coalescing in one batch keeps the newest window, and both keys get the TTL") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    RedisProbe probe(server.port());
    RedisFeatureSink sink(guardOptions(server.port(), 1200));
    sink.open(guardColumns());
    sink.writeWindowed(guardRow(1, 30), 3000);
    sink.writeWindowed(guardRow(1, 10), 1000);  // older, arriving later: dropped from the batch
    sink.writeWindowed(guardRow(2, 10), 1000);
    sink.writeWindowed(guardRow(2, 40), 4000);  // newer: replaces the buffered one
    sink.flush();
    CHECK(probe.get("f:1") == "30");
    CHECK(probe.get("f:2") == "40");
    CHECK(sink.stats().coalesced.load() == 2);
    CHECK(sink.stats().keysSet.load() == 2);
    CHECK(sink.stats().batches.load() == 1);
    for (std::string key : {"f:1", "pipec-window-end{f:1}"}) {
        long long ttl = probe.ttl(key);
        CHECK_MESSAGE(ttl > 1190, key);
        CHECK_MESSAGE(ttl <= 1200, key);
    }

    RedisFeatureSink forever(guardOptions(server.port(), 0));
    forever.open(guardColumns());
    forever.writeWindowed(guardRow(3, 1), 1000);
    forever.flush();
    CHECK(probe.get("f:3") == "1");
    CHECK(probe.ttl("f:3") == -1);
    CHECK(probe.ttl("pipec-window-end{f:3}") == -1);

    // A plain write (a job without window) stays a plain SET: no script, no companion key.
    RedisFeatureSink plain(guardOptions(server.port()));
    plain.open(guardColumns());
    plain.write(guardRow(4, 1));
    plain.flush();
    CHECK(probe.get("f:4") == "1");
    CHECK(probe.command({"EXISTS", "pipec-window-end{f:4}"}) == "0");
    CHECK(plain.stats().scriptLoads.load() == 0);
}

TEST_CASE("write guard: the script is loaded again after SCRIPT FLUSH and after a reconnect") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    RedisFeatureSink sink(guardOptions(server.port()));
    sink.open(guardColumns());
    sink.writeWindowed(guardRow(1, 1), 1000);
    sink.flush();
    CHECK(sink.stats().scriptLoads.load() == 1);
    {
        RedisProbe probe(server.port());
        CHECK(probe.command({"SCRIPT", "FLUSH"}) == "OK");
    }
    sink.writeWindowed(guardRow(1, 2), 2000);
    sink.writeWindowed(guardRow(2, 2), 2000);
    sink.flush();
    CHECK(sink.stats().scriptLoads.load() == 2);
    CHECK(sink.stats().retries.load() == 0);  // NOSCRIPT is answered at once, not with a back-off
    {
        RedisProbe probe(server.port());
        CHECK(probe.get("f:1") == "2");
        CHECK(probe.get("f:2") == "2");
    }

    // A restarted, empty server knows no scripts: the batch waits for it, then lands through a fresh load.
    server.stop();
    std::thread restarter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        server.start();
    });
    sink.writeWindowed(guardRow(1, 3), 3000);
    sink.flush();
    restarter.join();
    RedisProbe probe(server.port());
    CHECK(probe.get("f:1") == "3");
    CHECK(probe.get("pipec-window-end{f:1}") == "3000");
    CHECK(sink.stats().scriptLoads.load() >= 3);
    CHECK(sink.stats().reconnects.load() >= 1);
}

TEST_CASE("sink health: a stalled Redis shows as down and blocked, then recovers") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    RedisFeatureSink sink(guardOptions(server.port()));
    sink.open(guardColumns());
    auto health = [&] {
        std::vector<SinkHealth> out;
        sink.health(out);
        REQUIRE(out.size() == 1);
        return out[0];
    };
    CHECK(health().name == "features");
    CHECK(health().up);
    CHECK(health().blockedMs == 0);

    RedisProbe probe(server.port());
    probe.command({"CLIENT", "PAUSE", "2500", "WRITE"});
    std::thread writer([&] {
        sink.writeWindowed(guardRow(1, 1), 1000);
        sink.flush();
    });
    // The paused server times the sink's commands out (500 ms): it reconnects and retries until the pause ends.
    SinkHealth stalled;
    for (int i = 0; i < 100; ++i) {
        stalled = health();
        if (!stalled.up && stalled.blockedMs >= 1000) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK_FALSE(stalled.up);
    CHECK(stalled.blockedMs >= 1000);
    CHECK(stalled.retries >= 1);
    writer.join();
    SinkHealth recovered = health();
    CHECK(recovered.up);
    CHECK(recovered.blockedMs == 0);
    CHECK(recovered.blockedTotalMs >= 2000);
    CHECK(probe.get("f:1") == "1");
}
