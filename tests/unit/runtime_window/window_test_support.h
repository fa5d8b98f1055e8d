// Shared by the window tests: a test pipeline with every aggregate, random event streams, and a capturing sink.
#pragma once

#include "runtime/operators/pipeline_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
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
        for (const auto& value : row) {
            if (value.isNull) text += "NULL|";
            else if (!value.s.empty()) text += value.s + "|";
            else if (value.d != 0) text += fmt::format("{}|", value.d);  // a DOUBLE (integers keep d = 0)
            else text += std::to_string(value.i) + "|";
        }
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

// Source row: [_time, key BIGINT, value BIGINT (nullable), name VARCHAR (nullable), value / 4 DOUBLE (nullable)].
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

/// The aggregates beyond COUNT/SUM/AVG/MIN/MAX, FILTER and DISTINCT over the same source row: the variances over
/// BIGINT and DOUBLE, FIRST_VALUE/LAST_VALUE, LISTAGG(name, ';'), filtered COUNT(*)/SUM/COUNT(DISTINCT)/FIRST_VALUE,
/// APPROX_COUNT_DISTINCT and STDDEV_SAMP(DISTINCT). Outputs: the whole aggregate row.
inline plan::Expr greaterThanZero(int columnIndex) {
    plan::Expr expression;
    expression.set_type(plan::BOOLEAN);
    auto* call = expression.mutable_call();
    call->set_function("greater");
    *call->add_args() = column(columnIndex, plan::BIGINT);
    auto* zero = call->add_args();
    zero->set_type(plan::BIGINT);
    zero->mutable_literal()->set_int_value(0);
    return expression;
}

/// One aggregate call of makeAggregatePipeline.
struct AggregateSpec {
    plan::AggregateFunction function;
    int argument;  // -1: COUNT(*)
    plan::TypeId argumentType;
    plan::TypeId resultType;
    bool distinct = false;
    bool filtered = false;  // FILTER (WHERE value > 0)
};

inline const std::vector<AggregateSpec>& aggregateSpecs(bool invertibleOnly = false) {
    // The invertible ones (integer variances, filtered COUNT(*) and SUM): windows then take the incremental path.
    static const std::vector<AggregateSpec> kInvertible = {
        {plan::VAR_POP, 2, plan::BIGINT, plan::BIGINT},
        {plan::STDDEV_SAMP, 2, plan::BIGINT, plan::BIGINT},
        {plan::COUNT_STAR, -1, plan::TYPE_NULL, plan::BIGINT, false, true},
        {plan::SUM, 2, plan::BIGINT, plan::BIGINT, false, true},
    };
    if (invertibleOnly) return kInvertible;
    static const std::vector<AggregateSpec> kSpecs = {
        {plan::VAR_POP, 2, plan::BIGINT, plan::BIGINT},
        {plan::VAR_SAMP, 2, plan::BIGINT, plan::BIGINT},
        {plan::STDDEV_POP, 2, plan::BIGINT, plan::BIGINT},
        {plan::STDDEV_SAMP, 2, plan::BIGINT, plan::BIGINT},
        {plan::VAR_SAMP, 4, plan::DOUBLE, plan::DOUBLE},
        {plan::STDDEV_POP, 4, plan::DOUBLE, plan::DOUBLE},
        {plan::FIRST_VALUE, 3, plan::VARCHAR, plan::VARCHAR},
        {plan::LAST_VALUE, 2, plan::BIGINT, plan::BIGINT},
        {plan::LISTAGG, 3, plan::VARCHAR, plan::VARCHAR},
        {plan::COUNT_STAR, -1, plan::TYPE_NULL, plan::BIGINT, false, true},
        {plan::SUM, 2, plan::BIGINT, plan::BIGINT, false, true},
        {plan::COUNT, 3, plan::VARCHAR, plan::BIGINT, true, true},
        {plan::APPROX_COUNT_DISTINCT, 2, plan::BIGINT, plan::BIGINT},
        {plan::FIRST_VALUE, 2, plan::BIGINT, plan::BIGINT, false, true},
        {plan::STDDEV_SAMP, 4, plan::DOUBLE, plan::DOUBLE, true},
    };
    return kSpecs;
}
constexpr size_t kApproxColumn = 1 + 12;  // the APPROX_COUNT_DISTINCT column of makeAggregatePipeline (not invertibleOnly)


inline plan::Pipeline makeAggregatePipeline(plan::WindowKind kind, int64_t size, int64_t slide, int64_t gap, int64_t delay,
                                            bool invertibleOnly = false) {
    plan::Pipeline pipeline;
    pipeline.set_job_name("aggregates");
    pipeline.mutable_source()->set_watermark_delay_ms(delay);
    auto* window = pipeline.mutable_window();
    window->set_kind(kind);
    window->set_size_ms(size);
    window->set_slide_ms(slide);
    window->set_gap_ms(gap);
    *window->add_group_keys() = column(1, plan::BIGINT);
    window->add_group_key_names("key");
    std::vector<plan::TypeId> outputTypes = {plan::BIGINT};
    for (const AggregateSpec& spec : aggregateSpecs(invertibleOnly)) {
        auto* aggregate = window->add_aggregates();
        aggregate->set_function(spec.function);
        aggregate->set_distinct(spec.distinct);
        aggregate->set_result_type(spec.resultType);
        if (spec.argument >= 0) *aggregate->mutable_argument() = column(spec.argument, spec.argumentType);
        if (spec.filtered) *aggregate->mutable_filter() = greaterThanZero(2);
        if (spec.function == plan::LISTAGG) aggregate->add_parameters()->set_string_value(";");
        outputTypes.push_back(spec.resultType);
    }
    outputTypes.push_back(plan::TIMESTAMP);
    outputTypes.push_back(plan::TIMESTAMP);
    for (size_t i = 0; i < outputTypes.size(); ++i) {
        *pipeline.add_outputs() = column(static_cast<int>(i), outputTypes[i]);
        auto* output = pipeline.add_output_columns();
        output->set_name("c" + std::to_string(i));
        output->set_type(outputTypes[i]);
    }
    return pipeline;
}

/// The source row; column 4 is the value as a DOUBLE divided by 4 (for the floating-point aggregates).
inline Row toRow(const Event& event) {
    Row row(5);
    row[0] = Value::ofInt(event.time);
    row[1] = Value::ofInt(event.key);
    row[2] = event.value ? Value::ofInt(*event.value) : Value::null();
    row[3] = event.name ? Value::ofString(*event.name) : Value::null();
    row[4] = event.value ? Value::ofDouble(static_cast<double>(*event.value) / 4) : Value::null();
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

inline int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/// Brute force over windows [start, end) listed per event time by `windowsOf(time)`: every event is stored in every
/// window holding it that has not fired (end − 1 > watermark); windows fire in order of end, each key's row in order
/// of the key's first row; `rowOf(key, events, start, end)` makes a fired window's row from its events (in arrival
/// order).
template <typename WindowsOf, typename RowOf>
auto referenceWindows(const std::vector<Event>& events, int64_t delay, WindowsOf windowsOf, RowOf rowOf) {
    std::vector<decltype(rowOf(int64_t{}, std::vector<const Event*>{}, int64_t{}, int64_t{}))> out;
    std::map<int64_t, int> keyOrder;
    std::map<std::pair<int64_t, int64_t>, std::map<int64_t, std::vector<const Event*>>> windows;  // (end, start) → key → events
    int64_t watermark = INT64_MIN, maxTime = INT64_MIN;
    auto fire = [&](int64_t upTo) {
        while (!windows.empty() && windows.begin()->first.first - 1 <= upTo) {
            auto& [bounds, byKey] = *windows.begin();
            std::vector<std::pair<int, int64_t>> keys;
            for (const auto& entry : byKey) keys.push_back({keyOrder[entry.first], entry.first});
            std::sort(keys.begin(), keys.end());
            for (const auto& [order, key] : keys) out.push_back(rowOf(key, byKey[key], bounds.second, bounds.first));
            windows.erase(windows.begin());
        }
    };
    for (const Event& event : events) {
        for (const auto& [start, end] : windowsOf(event.time)) {
            if (end - 1 <= watermark) continue;  // this window has fired: the row is late for it
            // Keys are emitted in order of their first row that reached some window.
            keyOrder.emplace(event.key, static_cast<int>(keyOrder.size()));
            windows[{end, start}][event.key].push_back(&event);
        }
        if (event.time > maxTime) {
            maxTime = event.time;
            if (maxTime - delay > watermark) {
                watermark = maxTime - delay;
                fire(watermark);
            }
        }
    }
    fire(INT64_MAX);
    return out;
}

/// Brute force TUMBLE/HOP: the windows [s, s + size) with s a multiple of slide in (time − size, time].
template <typename RowOf>
auto referenceSliding(const std::vector<Event>& events, int64_t size, int64_t slide, int64_t delay, RowOf rowOf) {
    return referenceWindows(events, delay, [&](int64_t time) {
        std::vector<std::pair<int64_t, int64_t>> windows;
        for (int64_t start = floorDiv(time, slide) * slide; start > time - size; start -= slide) windows.emplace_back(start, start + size);
        return windows;
    }, rowOf);
}

/// Brute force CUMULATE: the windows [cycle start, end) with end a multiple of step in (time, cycle end].
template <typename RowOf>
auto referenceCumulative(const std::vector<Event>& events, int64_t step, int64_t size, int64_t delay, RowOf rowOf) {
    return referenceWindows(events, delay, [&](int64_t time) {
        std::vector<std::pair<int64_t, int64_t>> windows;
        int64_t cycleStart = floorDiv(time, size) * size;
        for (int64_t end = floorDiv(time, step) * step + step; end <= cycleStart + size; end += step) windows.emplace_back(cycleStart, end);
        return windows;
    }, rowOf);
}

/// Brute force SESSION: per key a list of sessions, each with its events; merge on overlap or touch. A session's
/// events are not in arrival order (a merge appends the absorbed sessions' events).
template <typename RowOf>
auto referenceSession(const std::vector<Event>& events, int64_t gap, int64_t delay, RowOf rowOf) {
    struct Session {
        int64_t start, end;
        std::vector<const Event*> events;
    };
    std::vector<decltype(rowOf(int64_t{}, std::vector<const Event*>{}, int64_t{}, int64_t{}))> out;
    std::map<int64_t, int> keyOrder;
    std::map<int64_t, std::vector<Session>> sessions;
    int64_t watermark = INT64_MIN, maxTime = INT64_MIN;
    auto fire = [&](int64_t upTo) {
        std::vector<std::tuple<int64_t, int64_t, int, int64_t>> ready;  // end, start, key order, key
        for (auto& [key, list] : sessions)
            for (auto& session : list)
                if (session.end - 1 <= upTo) ready.emplace_back(session.end, session.start, keyOrder[key], key);
        std::sort(ready.begin(), ready.end());
        for (const auto& [end, start, order, key] : ready) {
            auto& list = sessions[key];
            auto it = std::find_if(list.begin(), list.end(), [&](const Session& s) { return s.start == start; });
            out.push_back(rowOf(key, it->events, it->start, it->end));
            list.erase(it);
        }
    };
    for (const Event& event : events) {
        if (event.time + gap - 1 > watermark) {
            keyOrder.emplace(event.key, static_cast<int>(keyOrder.size()));
            Session merged{event.time, event.time + gap, {&event}};
            auto& list = sessions[event.key];
            bool changed = true;
            while (changed) {
                changed = false;
                for (auto it = list.begin(); it != list.end(); ++it) {
                    if (it->start <= merged.end && it->end >= merged.start) {
                        merged.start = std::min(merged.start, it->start);
                        merged.end = std::max(merged.end, it->end);
                        merged.events.insert(merged.events.end(), it->events.begin(), it->events.end());
                        list.erase(it);
                        changed = true;
                        break;
                    }
                }
            }
            list.push_back(merged);
        }
        if (event.time > maxTime) {
            maxTime = event.time;
            if (maxTime - delay > watermark) {
                watermark = maxTime - delay;
                fire(watermark);
            }
        }
    }
    fire(INT64_MAX);
    return out;
}

template <typename Sink = CaptureSink>
auto runEngine(const plan::Pipeline& pipeline, const std::vector<Event>& events) {
    Sink sink;
    PipelineExecutor executor(pipeline, sink);
    for (const auto& event : events) {
        Row row = toRow(event);
        executor.process(row);
    }
    executor.finish();
    return sink.rows;
}

/// Runs the events with a snapshot after the first `cut` and a restore into a new executor that takes the rest; the
/// rows of both, in order. `canonical` says whether the restored executor snapshots to the same bytes at once.
template <typename Sink = CaptureSink>
auto runWithRestore(const plan::Pipeline& pipeline, const std::vector<Event>& events, size_t cut, bool& canonical) {
    Sink before;
    std::string bytes;
    {
        PipelineExecutor executor(pipeline, before);
        for (size_t i = 0; i < cut; ++i) {
            Row row = toRow(events[i]);
            executor.process(row);
        }
        bytes = executor.snapshot();
    }
    Sink after;
    PipelineExecutor restored(pipeline, after);
    restored.restore(bytes);
    canonical = restored.snapshot() == bytes;
    for (size_t i = cut; i < events.size(); ++i) {
        Row row = toRow(events[i]);
        restored.process(row);
    }
    restored.finish();
    auto rows = before.rows;
    rows.insert(rows.end(), after.rows.begin(), after.rows.end());
    return rows;
}

} // namespace pipec::runtime::testing
