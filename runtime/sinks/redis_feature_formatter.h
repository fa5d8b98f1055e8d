#pragma once

#include "runtime/core/value.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pipec::runtime {

/// One feature materialized from an output column into Redis.
struct RedisFeature {
    std::string name;        // the feature name, `{feature}` in the key format
    std::string valueColumn; // the output column holding the value
    int64_t ttlSeconds = 0;  // <= 0: keys never expire
};

/// One feature's write for one output row, as a Redis feature sink sends it: `SET key value [EX ttl]`, or `DEL key`
/// for a NULL value.
struct RedisFeatureWrite {
    const std::string* key = nullptr;  // the formatter's scratch key: valid until the next call
    bool remove = false;
    const std::string* value = nullptr; // empty when `remove`; valid until the next call
    int64_t ttlSeconds = 0;
};

/// What a Redis feature sink writes for an output row: the key of each feature (`key_format` with `{feature}` and
/// `{key}`, the entity key columns joined with the separator), the value as text, NULL as a delete, and the TTL
/// (docs/feature-store.md). The Redis sink and the recording sink of `pipec test` share it, so that a spec test
/// checks exactly the keys and values production writes.
class RedisFeatureFormatter {
public:
    RedisFeatureFormatter(std::string keyFormat, std::string keySeparator, std::vector<RedisFeature> features);

    /// Resolves the feature columns and the entity key columns; throws std::invalid_argument for a feature column
    /// missing from the output.
    void open(const std::vector<plan::OutputColumn>& columns);

    /// Calls `onWrite(featureIndex, write)` for each feature of the sink, in the order of its features.
    template <typename OnWrite>
    void format(const Row& row, OnWrite&& onWrite) {
        entityKey(row, entityKey_);
        for (size_t f = 0; f < features_.size(); ++f) {
            keyFor(features_[f].name, entityKey_, key_);
            const Value& value = row[featureColumns_[f]];
            if (value.isNull) value_.clear();
            else value_ = formatFeatureValue(value, columns_[featureColumns_[f]].type());
            onWrite(f, RedisFeatureWrite{&key_, value.isNull, &value_, features_[f].ttlSeconds});
        }
    }

    /// The entity key of `row`: its key columns as text, joined with the separator (a NULL part as `null`).
    void entityKey(const Row& row, std::string& out) const;
    /// The Redis key of one entity for one feature.
    void keyFor(const std::string& feature, const std::string& entityKey, std::string& out) const;
    std::string keyFor(const std::string& feature, const std::string& entityKey) const;

    const std::vector<RedisFeature>& features() const { return features_; }
    const std::string& keyFormat() const { return keyFormat_; }

    /// The companion key holding the window end of the value under `key`, in the same Redis Cluster hash slot: with
    /// `key`'s own hash tag when it has one (`pipec-window-end:<key>`), else with all of `key` as the tag
    /// (`pipec-window-end{<key>}`).
    static std::string windowEndKeyFor(const std::string& key);
    /// The write guard's rule (docs/feature-store.md): a result of the window ending at `incomingWindowEndMs` may
    /// replace what a key holds unless that belongs to a later window. An equal end is written: a window re-computed
    /// after a restart is as complete as the first result. The Redis sink's Lua script applies the same rule in
    /// Redis, its write buffer before sending, and the recording sink of `pipec test` in memory.
    static bool windowMayReplace(std::optional<int64_t> storedWindowEndMs, int64_t incomingWindowEndMs) {
        return !storedWindowEndMs || incomingWindowEndMs >= *storedWindowEndMs;
    }

    /// Renders one value as the text stored in Redis / used in keys: integers and timestamps (epoch millis) in
    /// decimal, doubles in the shortest round-trip form, booleans as `true`/`false`, strings as-is, NULL as `null`.
    static std::string formatFeatureValue(const Value& value, plan::TypeId type);

private:
    std::string keyFormat_;
    std::string keySeparator_;
    std::vector<RedisFeature> features_;
    std::vector<plan::OutputColumn> columns_;
    std::vector<int> keyColumns_;
    std::vector<int> featureColumns_; // parallel to features_
    // Scratch space reused across rows: formatting runs once per feature per output row.
    std::string entityKey_;
    std::string key_;
    std::string value_;
};

/// RedisFeatureFormatter::formatFeatureValue, under its historical name.
inline std::string formatFeatureValue(const Value& value, plan::TypeId type) {
    return RedisFeatureFormatter::formatFeatureValue(value, type);
}

} // namespace pipec::runtime
