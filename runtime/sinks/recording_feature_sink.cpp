#include "runtime/sinks/recording_feature_sink.h"

#include <algorithm>

namespace pipec::runtime {

RecordingFeatureSink::RecordingFeatureSink(const RedisFeatureSinkOptions& options, std::function<int64_t()> clockMs)
    : name_(options.name), formatter_(options.keyFormat, options.keySeparator, options.features), clockMs_(std::move(clockMs)) {}

int64_t RecordingFeatureSink::expiry(int64_t ttlSeconds) const {
    // `SET … EX ttl`: gone once ttl seconds have passed; a TTL of 0 writes without expiry (the sink sends no EX).
    if (ttlSeconds <= 0) return INT64_MAX;
    int64_t expiresAt = 0;
    if (__builtin_mul_overflow(ttlSeconds, int64_t{1000}, &expiresAt) || __builtin_add_overflow(expiresAt, clockMs_(), &expiresAt))
        return INT64_MAX;
    return expiresAt;
}

void RecordingFeatureSink::record(const Row& row, std::optional<int64_t> windowEndMs) {
    const int64_t now = clockMs_();
    formatter_.format(row, [&](size_t, const RedisFeatureWrite& write) {
        StoredKey& stored = keys_[*write.key];
        if (stored.value && now >= stored.valueExpiresAtMs) stored.value.reset();
        if (stored.windowEndMs && now >= stored.windowEndExpiresAtMs) stored.windowEndMs.reset();
        if (windowEndMs) {
            // What the guard script does in Redis: refuse an older window, else write and record the window end.
            if (!RedisFeatureFormatter::windowMayReplace(stored.windowEndMs, *windowEndMs)) return;
            stored.windowEndMs = *windowEndMs;
            stored.windowEndExpiresAtMs = expiry(write.ttlSeconds);
        }
        if (write.remove) {
            stored.value.reset();
            return;
        }
        stored.value = *write.value;
        stored.ttlSeconds = std::max<int64_t>(0, write.ttlSeconds);
        stored.valueExpiresAtMs = expiry(write.ttlSeconds);
    });
}

std::map<std::string, RecordingFeatureSink::HeldKey> RecordingFeatureSink::held() const {
    const int64_t now = clockMs_();
    std::map<std::string, HeldKey> result;
    for (const auto& [key, stored] : keys_)
        if (stored.value && now < stored.valueExpiresAtMs) result.emplace(key, HeldKey{*stored.value, stored.ttlSeconds});
    return result;
}

} // namespace pipec::runtime
