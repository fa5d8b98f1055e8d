#include "proxy/proxy_metrics.h"

#include <fmt/format.h>

namespace pipec::proxy {

void ProxyMetrics::countRequest(const std::string &route, int status) {
    std::lock_guard lock(mutex_);
    ++requests_[{route, status}];
}

void ProxyMetrics::countAccepted(const std::string &topic, uint64_t records) {
    std::lock_guard lock(mutex_);
    acceptedByTopic_[topic] += records;
    acceptedTotal_ += records;
}

void ProxyMetrics::countRefused(const std::string &reason, uint64_t records) {
    std::lock_guard lock(mutex_);
    refusedByReason_[reason] += records;
}

uint64_t ProxyMetrics::refused(const std::string &reason) const {
    std::lock_guard lock(mutex_);
    auto found = refusedByReason_.find(reason);
    return found == refusedByReason_.end() ? 0 : found->second;
}

void ProxyMetrics::observeProduceLatency(double seconds) {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
        if (seconds <= kLatencyBuckets[i]) ++latencyBuckets_[i];
    ++latencyCount_;
    latencySum_ += seconds;
}

std::string ProxyMetrics::prometheusText(const std::function<std::string()> &gauges) const {
    std::string text;
    std::lock_guard lock(mutex_);
    text += "# HELP pipec_proxy_requests_total HTTP requests by route and status.\n# TYPE pipec_proxy_requests_total "
            "counter\n";
    for (const auto &[key, count] : requests_)
        text +=
            fmt::format("pipec_proxy_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", key.first, key.second, count);
    text += "# HELP pipec_proxy_records_accepted_total Records acknowledged by Kafka (or queued, in async mode), by "
            "topic.\n"
            "# TYPE pipec_proxy_records_accepted_total counter\n";
    for (const auto &[topic, count] : acceptedByTopic_)
        text += fmt::format("pipec_proxy_records_accepted_total{{topic=\"{}\"}} {}\n", topic, count);
    text += "# HELP pipec_proxy_records_refused_total Records not produced, by reason.\n"
            "# TYPE pipec_proxy_records_refused_total counter\n";
    for (const auto &[reason, count] : refusedByReason_)
        text += fmt::format("pipec_proxy_records_refused_total{{reason=\"{}\"}} {}\n", reason, count);
    text +=
        "# HELP pipec_proxy_produce_latency_seconds Synchronous produce requests: receipt to the last acknowledgment.\n"
        "# TYPE pipec_proxy_produce_latency_seconds histogram\n";
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
        text += fmt::format("pipec_proxy_produce_latency_seconds_bucket{{le=\"{}\"}} {}\n", kLatencyBuckets[i],
                            latencyBuckets_[i]);
    text += fmt::format("pipec_proxy_produce_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", latencyCount_);
    text += fmt::format("pipec_proxy_produce_latency_seconds_sum {}\npipec_proxy_produce_latency_seconds_count {}\n",
                        latencySum_, latencyCount_);
    if (gauges) text += gauges();
    return text;
}

} // namespace pipec::proxy
