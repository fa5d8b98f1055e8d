#include "runtime/sinks/kafka_sink.h"
#include "runtime/sources/embedded_broker.h"
#include "runtime/kafka/kafka_consumer.h"
#include "runtime/kafka/kafka_job_status.h"

#include <doctest/doctest.h>

#include <chrono>

using namespace pipec::runtime;

namespace {
std::vector<pipec::plan::OutputColumn> windowColumns() {
    std::vector<pipec::plan::OutputColumn> columns(4);
    columns[0].set_name("st");
    columns[0].set_type(pipec::plan::BIGINT);
    columns[0].set_is_key(true);
    columns[1].set_name("note");
    columns[1].set_type(pipec::plan::VARCHAR);
    columns[2].set_name("window_end");
    columns[2].set_type(pipec::plan::TIMESTAMP);
    columns[3].set_name("ratio");
    columns[3].set_type(pipec::plan::DOUBLE);
    return columns;
}
} // namespace

TEST_CASE("rows are formatted as JSON objects with ISO-8601 timestamps") {
    auto columns = windowColumns();
    CHECK(formatJsonRow({Value::ofInt(7), Value::ofString("a\"b\n"), Value::ofInt(1767225620000), Value::ofDouble(0.25)},
                        columns) ==
          R"({"st":7,"note":"a\"b\n","window_end":"2026-01-01T00:00:20.000Z","ratio":0.25})");
    CHECK(formatJsonRow({Value::null(), Value::null(), Value::ofInt(-1), Value::ofDouble(1.0 / 0.0)}, columns) ==
          R"({"st":null,"note":null,"window_end":"1969-12-31T23:59:59.999Z","ratio":null})");
}

TEST_CASE("the Kafka sink delivers keyed JSON rows before flush returns") {
    EmbeddedBroker broker;
    broker.createTopic("features", 1);
    KafkaSink sink({.brokers = broker.bootstrapServers(), .topic = "features", .properties = {}, .flushTimeoutMs = 10000});
    sink.open(windowColumns());
    for (int store = 1; store <= 3; ++store)
        sink.write({Value::ofInt(store), Value::ofString("x"), Value::ofInt(0), Value::ofDouble(store)});
    sink.flush();
    CHECK(sink.delivered() == 3);

    KafkaConsumer consumer({.brokers = broker.bootstrapServers(), .groupId = "check", .topics = {"features"},
                            .properties = {}, .reportEndOfPartition = true, .sessionTimeoutMs = 3000,
                            .log = [](const std::string&) {}});
    std::vector<std::pair<std::string, std::string>> seen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!consumer.allPartitionsAtEnd() && std::chrono::steady_clock::now() < deadline)
        consumer.poll(100, 100, [&](const KafkaRecord& record) {
            seen.emplace_back(std::string(record.key), std::string(record.payload));
        });
    REQUIRE(seen.size() == 3);
    CHECK(seen[1].first == "2");
    CHECK(seen[1].second == R"({"st":2,"note":"x","window_end":"1970-01-01T00:00:00.000Z","ratio":2})");
}

TEST_CASE("job status renders Prometheus text with per-reason bad counts") {
    JobStatus status;
    status.recordsIn = 12;
    status.bad[static_cast<size_t>(BadRecordReason::MissingTime)] = 2;
    status.watermarkMs = 1000;
    std::string text = status.prometheusText("store_orders");
    CHECK(text.find("pipec_records_in_total{job=\"store_orders\"} 12\n") != std::string::npos);
    CHECK(text.find("pipec_records_bad_total{job=\"store_orders\",reason=\"missing_time\"} 2\n") != std::string::npos);
    CHECK(text.find("pipec_records_bad_total{job=\"store_orders\",reason=\"undecodable_payload\"} 0\n") !=
          std::string::npos);
    CHECK(text.find("pipec_watermark_ms{job=\"store_orders\"} 1000\n") != std::string::npos);
    CHECK(status.badTotal() == 2);
}
