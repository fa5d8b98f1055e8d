#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace pipec::runtime {

/// A minimal HTTP/1.1 server on its own thread for the job's operational endpoints:
///   GET /metrics  — Prometheus text exposition format, produced by the metrics callback on each scrape
///   GET /healthz  — 200 while the process serves requests (liveness)
///   GET /readyz   — 200 when the readiness callback says so, else 503 with its reason as the body (readiness)
/// One request per connection (`Connection: close`); that is all scrapers and probes need.
class MetricsServer {
public:
    using MetricsCallback = std::function<std::string()>;
    using ReadyCallback = std::function<bool()>;
    /// Empty when ready, else why not (one line, sent as the body of the 503 so an operator sees it in the probe).
    using ReadinessCallback = std::function<std::string()>;

    /// Binds `bindAddress:port` (port 0 picks a free port) and starts serving; throws std::runtime_error when the
    /// port cannot be bound.
    MetricsServer(int port, MetricsCallback metrics, ReadinessCallback readiness,
                  const std::string& bindAddress = "0.0.0.0");
    /// The same with a plain yes/no readiness (the 503 then says only "not ready").
    MetricsServer(int port, MetricsCallback metrics, ReadyCallback ready, const std::string& bindAddress = "0.0.0.0");
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /// The bound port (useful with port 0).
    int port() const { return port_; }
    /// Stops accepting and joins the thread; idempotent.
    void stop();

private:
    void serve();
    void handle(int client);

    MetricsCallback metrics_;
    ReadinessCallback readiness_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace pipec::runtime
