#pragma once

#include "runtime/core/row_sink.h"
#include "runtime/sinks/json_lines_sink.h"  // formatJsonRow: rows are written as JSON

#include <atomic>
#include <map>
#include <memory>
#include <string>

namespace pipec::runtime {

struct KafkaSinkOptions {
    std::string brokers;
    std::string topic;
    std::map<std::string, std::string> properties; // extra librdkafka producer settings
    int flushTimeoutMs = 60000;
};

/// Writes each output row as one JSON object to a Kafka topic, keyed by the entity key columns joined with `|`.
/// Values follow the JSON-lines output: numbers as numbers, TIMESTAMP as ISO-8601 UTC with milliseconds, NULL as
/// null. `flush` returns once every row was acknowledged; it throws std::runtime_error when a delivery failed for
/// good, so the job does not commit offsets past rows that never arrived.
class KafkaSink : public RowSink {
public:
    explicit KafkaSink(KafkaSinkOptions options);
    ~KafkaSink() override;

    void open(const std::vector<plan::OutputColumn>& columns) override;
    void write(const Row& row) override;
    void flush() override;

    uint64_t delivered() const;

    struct Handle;

private:
    KafkaSinkOptions options_;
    std::vector<plan::OutputColumn> columns_;
    std::unique_ptr<Handle> handle_;
};



} // namespace pipec::runtime
