#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace pipec::proxy {

/// A token bucket per client: `rate` records per second, bursts of up to one second's worth. A request takes as
/// many tokens as it has records; a request larger than the bucket is let through when the bucket is full and
/// leaves it in debt, so the long-run rate holds whatever the batch size.
class RateLimiter {
public:
    /// Takes `records` tokens from `client`'s bucket at time `nowSeconds` (a monotonic clock). Returns nothing
    /// when allowed, else the seconds to wait before retrying (for `Retry-After`, at least 1).
    std::optional<int> take(const std::string &client, double rate, size_t records, double nowSeconds);

private:
    struct Bucket {
        double tokens = 0;
        double updatedSeconds = 0;
        bool started = false;
    };
    std::mutex mutex_;
    std::map<std::string, Bucket> buckets_;
};

} // namespace pipec::proxy
