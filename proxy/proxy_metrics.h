#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace pipec::proxy {

/// The proxy's Prometheus metrics: requests by route and status, records accepted (per topic) and refused (per
/// reason), the latency of synchronous produces (request received → every record acknowledged), the producers'
/// queue depth and readiness.
class ProxyMetrics {
public:
    void countRequest(const std::string &route, int status);
    void countAccepted(const std::string &topic, uint64_t records = 1);
    void countRefused(const std::string &reason, uint64_t records = 1);
    void observeProduceLatency(double seconds);

    uint64_t accepted() const { return acceptedTotal_.load(); }
    uint64_t refused(const std::string &reason) const;

    /// The Prometheus text; `gauges` appends lines (queue depth, readiness) computed at scrape time.
    std::string prometheusText(const std::function<std::string()> &gauges) const;

private:
    static constexpr std::array<double, 12> kLatencyBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,   0.25,   0.5,   1,    2.5,   10};
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    std::map<std::string, uint64_t> acceptedByTopic_;
    std::map<std::string, uint64_t> refusedByReason_;
    std::array<uint64_t, kLatencyBuckets.size()> latencyBuckets_{};
    uint64_t latencyCount_ = 0;
    double latencySum_ = 0;
    std::atomic<uint64_t> acceptedTotal_{0};
};

} // namespace pipec::proxy
