// Shared by the window tests: a test pipeline with every aggregate, random event streams, and a capturing sink.
#pragma once

#include "runtime/operators/pipeline_executor.h"

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace pipec::runtime::testing {

struct Event {
    int64_t time;
    int64_t key;
    std::optional<int64_t> value;
    std::optional<std::string> name;
};

/// Collects rows as text so they compare exactly and print readably on failure.
class CaptureSink : public RowSink {
public:
    void open(const std::vector<plan::OutputColumn>&) override {}
    void write(const Row& row) override {
        std::string text;
        for (const auto& value : row) text += (value.isNull ? "NULL" : value.s.empty() ? std::to_string(value.i) : value.s) + "|";
        rows.push_back(text);
    }
    void flush() override {}
    std::vector<std::string> rows;
};

inline plan::Expr column(int index, plan::TypeId type) {
    plan::Expr expression;
    expression.set_type(type);
    expression.set_column(index);
    return expression;
}

// Source row: [_time, key BIGINT, value BIGINT (nullable), name VARCHAR (nullable)].
// Aggregates: COUNT(*), COUNT(value), SUM(value), AVG(value), MIN(value), MAX(value), COUNT(DISTINCT name),
// MIN(name), SUM(DISTINCT value). Outputs: the whole aggregate row.
constexpr int kAggregates = 9;

/// With `invertibleOnly`, only COUNT(*), COUNT, SUM and AVG over integers: the windows then take the incremental
/// (add entering slices, subtract leaving ones) path instead of merging slices.
inline plan::Pipeline makePipeline(plan::WindowKind kind, int64_t size, int64_t slide, int64_t gap, int64_t delay, bool invertibleOnly = false) {
    plan::Pipeline pipeline;
    pipeline.set_job_name("differential");
    pipeline.mutable_source()->set_watermark_delay_ms(delay);
    auto* window = pipeline.mutable_window();
    window->set_kind(kind);
    window->set_size_ms(size);
    window->set_slide_ms(slide);
    window->set_gap_ms(gap);
    *window->add_group_keys() = column(1, plan::BIGINT);
    window->add_group_key_names("key");
    struct Spec {
        plan::AggregateFunction function;
        int argument;
        plan::TypeId type;
        bool distinct;
    };
    const Spec specs[kAggregates] = {{plan::COUNT_STAR, -1, plan::BIGINT, false}, {plan::COUNT, 2, plan::BIGINT, false},
                                     {plan::SUM, 2, plan::BIGINT, false},        {plan::AVG, 2, plan::BIGINT, false},
                                     {plan::MIN, 2, plan::BIGINT, false},        {plan::MAX, 2, plan::BIGINT, false},
                                     {plan::COUNT, 3, plan::VARCHAR, true},      {plan::MIN, 3, plan::VARCHAR, false},
                                     {plan::SUM, 2, plan::BIGINT, true}};
    int aggregateCount = invertibleOnly ? 4 : kAggregates;
    for (int a = 0; a < aggregateCount; ++a) {
        const Spec& spec = specs[a];
        auto* aggregate = window->add_aggregates();
        aggregate->set_function(spec.function);
        aggregate->set_distinct(spec.distinct);
        aggregate->set_result_type(spec.function == plan::COUNT ? plan::BIGINT : spec.type);
        if (spec.argument >= 0) *aggregate->mutable_argument() = column(spec.argument, spec.type);
    }
    for (int i = 0; i < 1 + aggregateCount + 2; ++i) {
        plan::TypeId type = i == 8 && !invertibleOnly ? plan::VARCHAR : plan::BIGINT;
        *pipeline.add_outputs() = column(i, type);
        auto* output = pipeline.add_output_columns();
        output->set_name("c" + std::to_string(i));
        output->set_type(type);
    }
    return pipeline;
}

inline Row toRow(const Event& event) {
    Row row(4);
    row[0] = Value::ofInt(event.time);
    row[1] = Value::ofInt(event.key);
    row[2] = event.value ? Value::ofInt(*event.value) : Value::null();
    row[3] = event.name ? Value::ofString(*event.name) : Value::null();
    return row;
}

inline std::vector<Event> randomEvents(std::mt19937& random, size_t count) {
    std::vector<Event> events;
    int64_t clock = static_cast<int64_t>(random() % 100000) - 50000;  // sometimes before the epoch
    const char* names[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < count; ++i) {
        clock += static_cast<int64_t>(random() % 700);
        int64_t jitter = random() % 5 == 0 ? -static_cast<int64_t>(random() % 4000) : 0;  // out of order, sometimes late
        Event event{clock + jitter, static_cast<int64_t>(random() % 5), std::nullopt, std::nullopt};
        if (random() % 5) event.value = static_cast<int64_t>(random() % 200) - 50;
        if (random() % 4) event.name = names[random() % 4];
        events.push_back(event);
    }
    return events;
}

} // namespace pipec::runtime::testing
