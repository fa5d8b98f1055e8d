#pragma once

#include "runtime/core/row_sink.h"

#include <memory>
#include <vector>

namespace pipec::runtime {

/// Writes every row to several sinks (a job materializing features into Redis and printing them, say);
/// flush() returns when all of them are durable.
class FanoutSink : public RowSink {
public:
    void add(std::unique_ptr<RowSink> sink) { sinks_.push_back(std::move(sink)); }
    bool empty() const { return sinks_.empty(); }
    void open(const std::vector<plan::OutputColumn>& columns) override {
        for (auto& sink : sinks_) sink->open(columns);
    }
    void write(const Row& row) override {
        for (auto& sink : sinks_) sink->write(row);
    }
    void writeWindowed(const Row& row, int64_t windowEndMs) override {
        for (auto& sink : sinks_) sink->writeWindowed(row, windowEndMs);
    }
    void flush() override {
        for (auto& sink : sinks_) sink->flush();
    }
    void health(std::vector<SinkHealth>& out) const override {
        for (const auto& sink : sinks_) sink->health(out);
    }

private:
    std::vector<std::unique_ptr<RowSink>> sinks_;
};

} // namespace pipec::runtime
