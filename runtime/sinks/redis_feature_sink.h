#pragma once

#include "runtime/core/row_sink.h"
#include "runtime/sinks/redis_feature_formatter.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace pipec::runtime {

struct RedisFeatureSinkOptions {
    std::string name = "redis";                // the sink's configured name: the `sink` label of its health metrics
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string password;                      // empty: no AUTH
    std::string keyFormat = "{feature}:{key}"; // placeholders: {feature}, {key}
    std::string keySeparator = "|";            // joins the entity key columns
    std::vector<RedisFeature> features;
    /// Distinct keys buffered before they are sent in one pipelined round trip (flush() sends earlier). Updates of a
    /// key still buffered replace its pending command: only the latest value of a key is written per round trip.
    size_t batchSize = 20000;
    int connectTimeoutMs = 2000;
    int commandTimeoutMs = 10000;
    int64_t initialBackoffMs = 50;
    int64_t maxBackoffMs = 5000;
    /// While Redis is unreachable the sink retries forever (back-pressure). When this flag becomes true, the
    /// retry loop gives up by throwing std::runtime_error instead, so a stopping job does not hang.
    const std::atomic<bool>* cancel = nullptr;
    /// Receives one line per connection problem (default: stderr).
    std::function<void(const std::string&)> log;
};

/// Parses "host:port" (port defaults to 6379); throws UserError on a malformed port.
void parseRedisAddress(const std::string& address, RedisFeatureSinkOptions& options);

/// Writes each output row as one Redis string key per feature: `SET {feature}:{key} value EX ttl`, pipelined in
/// batches (keys, values and TTLs as RedisFeatureFormatter computes them). A NULL value deletes the key (the feature has no value for that entity any more; a stale value would be
/// wrong). `flush` returns only once Redis has acknowledged every command. On a connection error the sink
/// reconnects with exponential back-off and re-sends the whole unacknowledged batch (SET and DEL are idempotent),
/// so no write is ever dropped. Format: docs/feature-store.md.
///
/// Windowed rows (`writeWindowed`) go through a Lua script that keeps the window end of each key's value in a
/// companion key (`windowEndKeyFor`) and refuses a write of an older window, in Redis itself: a former owner of a
/// partition that flushes late, or a restarted member re-emitting old windows, never replaces a newer value that
/// another writer already stored.
class RedisFeatureSink : public RowSink {
public:
    explicit RedisFeatureSink(RedisFeatureSinkOptions options);
    ~RedisFeatureSink() override;

    /// Resolves the feature columns and the entity key columns; throws std::invalid_argument for a feature column
    /// missing from the output. Connects lazily.
    void open(const std::vector<plan::OutputColumn>& columns) override;
    void write(const Row& row) override;
    /// Like write(), guarded by the window end: Redis keeps the value of the latest window (an equal window end
    /// replaces the value: a window re-computed after a restart is as complete as the first result).
    void writeWindowed(const Row& row, int64_t windowEndMs) override;
    void flush() override;
    void health(std::vector<SinkHealth>& out) const override;

    struct Stats {
        std::atomic<uint64_t> keysSet{0};     // SETs Redis applied (windowed writes refused by the guard not counted)
        std::atomic<uint64_t> keysDeleted{0};
        std::atomic<uint64_t> batches{0};
        std::atomic<uint64_t> reconnects{0};
        std::atomic<uint64_t> retriedBatches{0};
        std::atomic<uint64_t> coalesced{0};  // updates replaced by a later value of the same key before sending
        std::atomic<uint64_t> staleRefused{0}; // windowed writes Redis refused: it holds a later window of the key
        std::atomic<uint64_t> retries{0};      // failed attempts to deliver a batch, each followed by a retry
        std::atomic<uint64_t> scriptLoads{0};  // SCRIPT LOAD of the write guard (per connection, and after NOSCRIPT)
    };
    const Stats& stats() const { return stats_; }

    /// The Redis key of one entity for one feature (exposed for tests and docs).
    std::string keyFor(const std::string& feature, const std::string& entityKey) const { return formatter_.keyFor(feature, entityKey); }
    /// See RedisFeatureFormatter::windowEndKeyFor (exposed for tests and docs).
    static std::string windowEndKeyFor(const std::string& key) { return RedisFeatureFormatter::windowEndKeyFor(key); }

private:
    void buffer(const Row& row, std::optional<int64_t> windowEndMs);
    void sendPending();
    bool trySend(std::string& failure);
    bool loadScript(std::string& failure);
    void connect();
    void disconnect();

    struct Connection;
    RedisFeatureSinkOptions options_;
    RedisFeatureFormatter formatter_;
    /// One buffered write: `SET key value [EX ttl]`, or `DEL key` when the value is NULL; through the guard script
    /// when it has a window end.
    struct PendingWrite {
        std::string key;
        std::string value;
        bool remove = false;
        int64_t ttlSeconds = 0;
        std::optional<int64_t> windowEndMs;
        bool refused = false;  // the guard kept a later window (set from the replies of the last attempt)
    };
    std::vector<PendingWrite> pending_;
    std::unordered_map<std::string, size_t> pendingIndex_;  // key → its write in pending_
    size_t pendingWindowed_ = 0;                            // writes in pending_ with a window end
    std::unique_ptr<Connection> connection_;
    std::string scriptSha_;  // the guard script's SHA1 as loaded on the current connection; empty: not loaded yet
    Stats stats_;
    /// Whether deliveries wait for Redis, read by health() from the metrics thread. A delivery (one batch, with its
    /// retries) counts as blocked, from its start, once an attempt failed or it has lasted kBlockedAfterMs: an attempt
    /// against a stalled server can take the whole command timeout to fail.
    static constexpr int64_t kBlockedAfterMs = 1000;
    mutable std::mutex healthMutex_;
    bool up_ = true;               // false from a failed attempt until one succeeds
    int64_t deliveryStartMs_ = 0;  // steady clock; 0: no delivery in progress
    bool deliveryFailed_ = false;  // an attempt of the delivery in progress failed
    int64_t blockedTotalMs_ = 0;   // deliveries that were blocked and ended
};

} // namespace pipec::runtime
