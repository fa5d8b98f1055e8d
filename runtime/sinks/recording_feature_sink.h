#pragma once

#include "runtime/core/row_sink.h"
#include "runtime/sinks/redis_feature_formatter.h"
#include "runtime/sinks/redis_feature_sink.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace pipec::runtime {

/// A Redis feature sink that keeps in memory what Redis would hold instead of sending commands: the keys, text
/// values and TTLs of RedisFeatureFormatter (the Redis sink's own formatting), NULL values as deletes, and for windowed
/// results the write guard (RedisFeatureFormatter::windowMayReplace) with its companion window end. Keys expire on a
/// clock the owner provides, as Redis expires them: `pipec test` runs on a virtual wall clock.
class RecordingFeatureSink : public RowSink {
public:
    /// A key as Redis would hold it.
    struct HeldKey {
        std::string value;
        int64_t ttlSeconds = 0;  // as set with the value (0: no expiry)
    };

    /// `clockMs` returns the current (virtual) wall-clock time in milliseconds.
    RecordingFeatureSink(const RedisFeatureSinkOptions& options, std::function<int64_t()> clockMs);

    void open(const std::vector<plan::OutputColumn>& columns) override { formatter_.open(columns); }
    void write(const Row& row) override { record(row, std::nullopt); }
    void writeWindowed(const Row& row, int64_t windowEndMs) override { record(row, windowEndMs); }
    /// Writes are applied at once: a Redis sink's buffer only coalesces writes whose final effect is the same.
    void flush() override {}

    /// The feature keys held now (expired ones left out), by key.
    std::map<std::string, HeldKey> held() const;
    const std::string& name() const { return name_; }
    const RedisFeatureFormatter& formatter() const { return formatter_; }

private:
    struct StoredKey {
        std::optional<std::string> value;  // none: deleted, or never set
        int64_t ttlSeconds = 0;
        int64_t valueExpiresAtMs = INT64_MAX;
        std::optional<int64_t> windowEndMs;  // the companion key of the write guard
        int64_t windowEndExpiresAtMs = INT64_MAX;
    };
    void record(const Row& row, std::optional<int64_t> windowEndMs);
    int64_t expiry(int64_t ttlSeconds) const;

    std::string name_;
    RedisFeatureFormatter formatter_;
    std::function<int64_t()> clockMs_;
    std::map<std::string, StoredKey> keys_;
};

} // namespace pipec::runtime
