#include "proxy/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace pipec::proxy {

std::optional<int> RateLimiter::take(const std::string &client, double rate, size_t records, double nowSeconds) {
    if (rate <= 0) return std::nullopt;
    std::lock_guard lock(mutex_);
    Bucket &bucket = buckets_[client];
    double capacity = std::max(rate, 1.0);
    if (!bucket.started) {
        bucket = Bucket{capacity, nowSeconds, true};
    } else {
        bucket.tokens = std::min(capacity, bucket.tokens + (nowSeconds - bucket.updatedSeconds) * rate);
        bucket.updatedSeconds = nowSeconds;
    }
    double needed = std::min(static_cast<double>(records), capacity);
    if (bucket.tokens + 1e-9 < needed) return std::max(1, static_cast<int>(std::ceil((needed - bucket.tokens) / rate)));
    bucket.tokens -= static_cast<double>(records);
    return std::nullopt;
}

} // namespace pipec::proxy
