#pragma once

#include "proxy/api_key_store.h"
#include "proxy/cluster_producer.h"
#include "proxy/proxy_metrics.h"
#include "proxy/rate_limiter.h"
#include "proxy/topic_directory.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace pipec::proxy {

struct ProxyOptions {
    std::string host = "127.0.0.1";
    int port = 8082;                    // 0: any free port (see ProxyServer::port)
    size_t maxBodyBytes = 8 << 20;      // larger bodies: 413
    size_t maxRecordsPerRequest = 1000; // more records: 413
    double recordsPerSecond = 0;        // per client, unless its key says otherwise; 0: no limit
    bool allowUntypedTopics = false;    // pass BINARY/STRING/JSON through to topics no spec types
    std::set<std::string> asyncTopics;  // answer 202 once queued, without ?async=true
    std::string canaryTopic;            // readiness produces a record here first (empty: metadata only)
    int deliveryTimeoutMs = 30000;      // a synchronous request waits this long for acknowledgments
    int httpThreads = 32;               // concurrent requests (a synchronous one holds its thread while it waits)
    std::string tlsCertificate;         // PEM files: serve HTTPS
    std::string tlsPrivateKey;
    bool accessLog = true; // one JSON line per request on stderr
};

/// The HTTP server of `pipec proxy`: Confluent REST Proxy v3 and v2 produce APIs, cluster and topic listings,
/// `/healthz`, `/readyz` and `/metrics`. Requests are authenticated by API key, checked against the topic's
/// message, wrapped in the event envelope and produced by the cluster's producer.
class ProxyServer {
public:
    ProxyServer(ProxyOptions options, const TopicDirectory &directory, const ApiKeyStore &keys,
                std::map<std::string, std::unique_ptr<ClusterProducer>> &producers);
    ~ProxyServer();
    ProxyServer(const ProxyServer &) = delete;
    ProxyServer &operator=(const ProxyServer &) = delete;

    /// Binds and starts serving and warming up (metadata, canary) on threads of its own; throws UserError when the
    /// address cannot be bound or the TLS files do not load.
    void start();
    /// The bound port.
    int port() const { return port_; }
    /// Stops accepting, finishes the requests in progress, and joins the threads.
    void stop();

    /// Empty when ready; else why not (the body of /readyz's 503).
    std::string notReadyReason() const;
    const ProxyMetrics &metrics() const { return metrics_; }

    struct Exchange; // one request being answered (proxy_server.cpp)

private:
    void routes();
    void warmUp();
    void handleProduce(Exchange &exchange, const std::string &clusterId, const std::string &topic, bool v2);
    void handleClusters(Exchange &exchange, const std::string &clusterId, bool list);
    void handleTopics(Exchange &exchange, const std::string &clusterId, const std::string &topic);
    std::string gauges() const;

    ProxyOptions options_;
    const TopicDirectory &directory_;
    const ApiKeyStore &keys_;
    std::map<std::string, std::unique_ptr<ClusterProducer>> &producers_;
    ProxyMetrics metrics_;
    RateLimiter rateLimiter_;
    std::unique_ptr<httplib::Server> server_;
    int port_ = 0;
    std::thread listener_;
    std::thread warmer_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> warmed_{false};
    mutable std::mutex readinessMutex_;
    std::string warmUpState_ = "warming up: fetching the metadata of the served topics";
};

} // namespace pipec::proxy
