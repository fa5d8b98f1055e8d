#include "runtime/core/metrics_server.h"
#include "runtime/sinks/fanout_sink.h"
#include "runtime/sinks/redis_feature_sink.h"
#include "runtime/kafka/kafka_job_status.h"
#include "tests/unit/runtime_kafka/local_servers.h"

#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <thread>

using namespace pipec::runtime;
using pipec::test::httpGet;
using pipec::test::RedisServerProcess;

namespace {

/// A sink whose health the test sets.
class ReportingSink : public RowSink {
public:
    explicit ReportingSink(SinkHealth health) : health_(std::move(health)) {}
    void open(const std::vector<pipec::plan::OutputColumn>&) override {}
    void write(const Row&) override {}
    void flush() override {}
    void health(std::vector<SinkHealth>& out) const override { out.push_back(health_); }
    SinkHealth health_;
};

bool startsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

/// Polls `path` until its response starts with `prefix` (or about `seconds` passed); the last response.
std::string waitForResponse(int port, const std::string& path, const std::string& prefix, int seconds) {
    std::string reply;
    for (int i = 0; i < seconds * 20; ++i) {
        reply = httpGet(port, path);
        if (startsWith(reply, prefix)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return reply;
}

/// The value of one sample (`name{labels}`) in a Prometheus text, or -1 when it is missing.
double sampleValue(const std::string& text, const std::string& series) {
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
}

} // namespace

TEST_CASE("sink health: metrics per sink, and readiness by the blocked time") {
    JobStatus status;
    CHECK(status.prometheusText("job").find("pipec_sink_") == std::string::npos);  // no sink: no series

    FanoutSink sinks;
    auto redis = std::make_unique<ReportingSink>(SinkHealth{"features", false, 45250, 60500, 7});
    ReportingSink* redisSink = redis.get();
    sinks.add(std::move(redis));
    sinks.add(std::make_unique<ReportingSink>(SinkHealth{"other \"one\"", true, 0, 1000, 0}));
    status.sink = &sinks;

    std::string text = status.prometheusText("job");
    CHECK(text.find("# TYPE pipec_sink_up gauge\npipec_sink_up{job=\"job\",sink=\"features\"} 0\n"
                    "pipec_sink_up{job=\"job\",sink=\"other \\\"one\\\"\"} 1\n") != std::string::npos);
    CHECK(text.find("pipec_sink_blocked_seconds{job=\"job\",sink=\"features\"} 45.250\n") != std::string::npos);
    CHECK(text.find("# TYPE pipec_sink_blocked_seconds_total counter\n"
                    "pipec_sink_blocked_seconds_total{job=\"job\",sink=\"features\"} 60.500\n") != std::string::npos);
    CHECK(text.find("pipec_sink_retries_total{job=\"job\",sink=\"features\"} 7\n") != std::string::npos);
    // The existing series stay as they were.
    CHECK(text.find("pipec_consumer_lag_records{job=\"job\"} -1\n") != std::string::npos);

    CHECK(status.notReadyReason(30000).find("not consuming") == 0);
    status.running = true;
    CHECK(status.notReadyReason(30000) ==
          "sink `features` blocked for 45250 ms (threshold 30000 ms): its writes are not getting through");
    CHECK(status.notReadyReason(50000).empty());
    CHECK(status.notReadyReason(0).empty());  // the sink rule switched off
    redisSink->health_ = SinkHealth{"features", true, 0, 60500, 7};
    CHECK(status.notReadyReason(30000).empty());
}

TEST_CASE("readiness: /readyz turns 503 while Redis stalls past the threshold, /healthz stays 200") {
    if (!pipec::test::commandExists("redis-server")) {
        MESSAGE("redis-server not installed: skipping");
        return;
    }
    RedisServerProcess server(pipec::test::freeTcpPort());
    std::vector<pipec::plan::OutputColumn> columns(2);
    columns[0].set_name("k");
    columns[0].set_type(pipec::plan::BIGINT);
    columns[0].set_is_key(true);
    columns[1].set_name("v");
    columns[1].set_type(pipec::plan::BIGINT);
    RedisFeatureSinkOptions options;
    options.port = server.port();
    options.name = "features";
    options.features = {{"f", "v", 600}};
    options.commandTimeoutMs = 300;
    options.initialBackoffMs = 20;
    options.maxBackoffMs = 100;
    options.log = [](const std::string&) {};
    FanoutSink sinks;
    sinks.add(std::make_unique<RedisFeatureSink>(options));
    sinks.open(columns);

    JobStatus status;
    status.sink = &sinks;
    status.running = true;
    MetricsServer metrics(
        0, [&status] { return status.prometheusText("job"); },
        MetricsServer::ReadinessCallback([&status] { return status.notReadyReason(800); }), "127.0.0.1");
    CHECK(startsWith(httpGet(metrics.port(), "/readyz"), "HTTP/1.1 200"));

    redisContext* client = redisConnect("127.0.0.1", server.port());
    REQUIRE(client != nullptr);
    freeReplyObject(redisCommand(client, "CLIENT PAUSE 3000 WRITE"));
    std::thread job([&] {
        sinks.writeWindowed({Value::ofInt(1), Value::ofInt(1)}, 1000);
        sinks.flush();
    });
    std::string notReady = waitForResponse(metrics.port(), "/readyz", "HTTP/1.1 503", 3);
    CHECK(startsWith(notReady, "HTTP/1.1 503"));
    CHECK(notReady.find("\r\n\r\nsink `features` blocked for ") != std::string::npos);
    CHECK(startsWith(httpGet(metrics.port(), "/healthz"), "HTTP/1.1 200"));
    std::string text = httpGet(metrics.port(), "/metrics");
    CHECK(text.find("pipec_sink_up{job=\"job\",sink=\"features\"} 0\n") != std::string::npos);
    CHECK(sampleValue(text, "pipec_sink_blocked_seconds{job=\"job\",sink=\"features\"}") >= 0.8);
    CHECK(sampleValue(text, "pipec_sink_retries_total{job=\"job\",sink=\"features\"}") >= 1);

    job.join();  // the pause ends, the batch lands
    CHECK(startsWith(httpGet(metrics.port(), "/readyz"), "HTTP/1.1 200"));
    text = httpGet(metrics.port(), "/metrics");
    CHECK(text.find("pipec_sink_up{job=\"job\",sink=\"features\"} 1\n") != std::string::npos);
    CHECK(text.find("pipec_sink_blocked_seconds{job=\"job\",sink=\"features\"} 0.000\n") != std::string::npos);
    redisFree(client);
}
