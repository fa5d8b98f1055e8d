// The aggregates beyond COUNT/SUM/AVG/MIN/MAX through the window operators (TUMBLE, HOP, SESSION): random event
// streams checked row for row against a brute-force reference that computes every aggregate from the window's
// events directly (the variances two-pass, FIRST/LAST/LISTAGG by sorting on event time then arrival, FILTER by
// skipping rows, APPROX_COUNT_DISTINCT against the exact distinct count). Slices, merges, running windows and
// checkpoints must not change any result.
#include "runtime/operators/pipeline_executor.h"
#include "tests/unit/runtime_window/window_test_support.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <set>

using namespace pipec;
using namespace pipec::runtime;
using namespace pipec::runtime::testing;

namespace {

class ValueSink : public RowSink {
public:
    void open(const std::vector<plan::OutputColumn>&) override {}
    void write(const Row& row) override { rows.push_back(row); }
    void flush() override {}
    std::vector<Row> rows;
};

/// The reference: every aggregate computed from the window's events directly. `base` is the first event, so an
/// event's position in the input is its arrival.
Row referenceRow(const Event* base, int64_t key, std::vector<const Event*> events, int64_t start, int64_t end, bool invertibleOnly) {
    std::sort(events.begin(), events.end(), [&](const Event* a, const Event* b) {
        return a->time != b->time ? a->time < b->time : a - base < b - base;
    });
    Row row;
    row.push_back(Value::ofInt(key));
    for (const AggregateSpec& spec : aggregateSpecs(invertibleOnly)) {
        std::vector<const Event*> seen;
        for (const Event* event : events)
            if (!spec.filtered || (event->value && *event->value > 0)) seen.push_back(event);
        std::vector<int64_t> integers;
        std::vector<std::string> names;
        for (const Event* event : seen) {
            if (event->value) integers.push_back(*event->value);
            if (event->name) names.push_back(*event->name);
        }
        auto n = static_cast<int64_t>(integers.size());
        switch (spec.function) {
        case plan::VAR_POP:
        case plan::VAR_SAMP:
        case plan::STDDEV_POP:
        case plan::STDDEV_SAMP: {
            bool sample = spec.function == plan::VAR_SAMP || spec.function == plan::STDDEV_SAMP;
            bool root = spec.function == plan::STDDEV_POP || spec.function == plan::STDDEV_SAMP;
            if (spec.distinct) {
                std::set<int64_t> unique(integers.begin(), integers.end());
                integers.assign(unique.begin(), unique.end());
                n = static_cast<int64_t>(integers.size());
            }
            if (n == 0 || (sample && n == 1)) {
                row.push_back(Value::null());
                break;
            }
            if (spec.argumentType == plan::DOUBLE) {
                double mean = 0;
                for (int64_t v : integers) mean += static_cast<double>(v) / 4;
                mean /= static_cast<double>(n);
                double squares = 0;
                for (int64_t v : integers) squares += (static_cast<double>(v) / 4 - mean) * (static_cast<double>(v) / 4 - mean);
                double variance = squares / static_cast<double>(sample ? n - 1 : n);
                row.push_back(Value::ofDouble(root ? std::sqrt(variance) : variance));
            } else {
                // Flink's rewrite: (Σx² − (Σx)²/n) / n, in integers.
                int64_t sum = 0, sumOfSquares = 0;
                for (int64_t v : integers) sum += v, sumOfSquares += v * v;
                int64_t variance = (sumOfSquares - sum * sum / n) / (sample ? n - 1 : n);
                row.push_back(Value::ofInt(root ? static_cast<int64_t>(std::sqrt(static_cast<double>(variance))) : variance));
            }
            break;
        }
        case plan::FIRST_VALUE:
        case plan::LAST_VALUE: {
            bool first = spec.function == plan::FIRST_VALUE;
            const Event* pick = nullptr;
            for (const Event* event : seen) {
                bool has = spec.argument == 3 ? event->name.has_value() : event->value.has_value();
                if (has && (!pick || !first)) pick = event;
            }
            if (!pick) row.push_back(Value::null());
            else row.push_back(spec.argument == 3 ? Value::ofString(*pick->name) : Value::ofInt(*pick->value));
            break;
        }
        case plan::LISTAGG: {
            if (names.empty()) {
                row.push_back(Value::null());
                break;
            }
            std::string joined;
            for (size_t k = 0; k < names.size(); ++k) joined += (k ? ";" : "") + names[k];
            row.push_back(Value::ofString(joined));
            break;
        }
        case plan::COUNT_STAR: row.push_back(Value::ofInt(static_cast<int64_t>(seen.size()))); break;
        case plan::SUM: {
            int64_t sum = 0;
            for (int64_t v : integers) sum += v;
            row.push_back(n ? Value::ofInt(sum) : Value::null());
            break;
        }
        case plan::COUNT: row.push_back(Value::ofInt(static_cast<int64_t>(std::set<std::string>(names.begin(), names.end()).size()))); break;
        case plan::APPROX_COUNT_DISTINCT: row.push_back(Value::ofInt(static_cast<int64_t>(std::set<int64_t>(integers.begin(), integers.end()).size()))); break;
        default: FAIL("no reference for this aggregate");
        }
    }
    row.push_back(Value::ofInt(start));
    row.push_back(Value::ofInt(end));
    return row;
}

std::string show(const Value& value) {
    if (value.isNull) return "NULL";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%lld/%.17g", static_cast<long long>(value.i), value.d);
    return buffer + (value.s.empty() ? std::string() : "/" + value.s);
}

void compareRows(const std::vector<Row>& actual, const std::vector<Row>& expected, bool invertibleOnly = false) {
    const auto& specs = aggregateSpecs(invertibleOnly);
    REQUIRE(actual.size() == expected.size());
    for (size_t r = 0; r < expected.size(); ++r) {
        REQUIRE(actual[r].size() == expected[r].size());
        for (size_t c = 0; c < expected[r].size(); ++c) {
            CAPTURE(r);
            CAPTURE(c);
            const Value& a = actual[r][c];
            const Value& e = expected[r][c];
            CAPTURE(show(a));
            CAPTURE(show(e));
            REQUIRE(a.isNull == e.isNull);
            if (e.isNull) continue;
            if (!invertibleOnly && c == kApproxColumn) {
                // Linear counting over 16384 registers: a few hundred values are counted within about one.
                CHECK(std::abs(a.i - e.i) <= 1 + e.i / 100);
            } else if (c >= 1 && c <= specs.size() && specs[c - 1].resultType == plan::DOUBLE) {
                CHECK(std::abs(a.d - e.d) <= 1e-9 * std::max(1.0, std::abs(e.d)));
            } else {
                CHECK(a.i == e.i);
                CHECK(a.s == e.s);
            }
        }
    }
}

} // namespace

TEST_CASE("the new aggregates, FILTER and DISTINCT on TUMBLE and HOP match the brute-force reference") {
    std::mt19937 random(20261127);
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{1000, 1000}, {3000, 1000}, {2500, 1000}, {6000, 1500}, {4000, 4000}};
    for (int round = 0; round < 30; ++round) {
        auto [size, slide] = shapes[static_cast<size_t>(round) % shapes.size()];
        int64_t delay = std::vector<int64_t>{0, 500, 2000}[random() % 3];
        auto events = randomEvents(random, 200 + random() % 300);
        CAPTURE(round);
        const Event* base = events.data();
        auto expected = referenceSliding(events, size, slide, delay, [&](int64_t key, const std::vector<const Event*>& e, int64_t s, int64_t w) {
            return referenceRow(base, key, e, s, w, false);
        });
        auto actual = runEngine<ValueSink>(makeAggregatePipeline(size == slide ? plan::TUMBLE : plan::HOP, size, slide, 0, delay), events);
        compareRows(actual, expected);
    }
}

TEST_CASE("the new aggregates, FILTER and DISTINCT on CUMULATE match the brute-force reference") {
    std::mt19937 random(14014);
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{3000, 1000}, {6000, 1500}, {4000, 4000}, {10000, 500}};  // max size, step
    for (int round = 0; round < 20; ++round) {
        auto [size, step] = shapes[static_cast<size_t>(round) % shapes.size()];
        int64_t delay = std::vector<int64_t>{0, 500, 2000}[random() % 3];
        auto events = randomEvents(random, 200 + random() % 300);
        CAPTURE(round);
        const Event* base = events.data();
        auto expected = referenceCumulative(events, step, size, delay, [&](int64_t key, const std::vector<const Event*>& e, int64_t s, int64_t w) {
            return referenceRow(base, key, e, s, w, false);
        });
        auto actual = runEngine<ValueSink>(makeAggregatePipeline(plan::CUMULATE, size, step, 0, delay), events);
        compareRows(actual, expected);
    }
}

TEST_CASE("invertible new aggregates (integer variances, filtered COUNT/SUM) on incremental HOP windows match the reference") {
    std::mt19937 random(8128);
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{3000, 1000}, {2500, 1000}, {6000, 1500}, {20000, 500}};
    for (int round = 0; round < 20; ++round) {
        auto [size, slide] = shapes[static_cast<size_t>(round) % shapes.size()];
        int64_t delay = std::vector<int64_t>{0, 500, 2000, 7000}[random() % 4];
        auto events = randomEvents(random, 200 + random() % 300);
        CAPTURE(round);
        const Event* base = events.data();
        auto expected = referenceSliding(events, size, slide, delay, [&](int64_t key, const std::vector<const Event*>& e, int64_t s, int64_t w) {
            return referenceRow(base, key, e, s, w, true);
        });
        auto actual = runEngine<ValueSink>(makeAggregatePipeline(plan::HOP, size, slide, 0, delay, true), events);
        compareRows(actual, expected, true);
    }
}

TEST_CASE("the new aggregates, FILTER and DISTINCT on SESSION match the brute-force reference") {
    std::mt19937 random(4711);
    for (int round = 0; round < 30; ++round) {
        int64_t gap = std::vector<int64_t>{300, 1000, 2500}[random() % 3];
        int64_t delay = std::vector<int64_t>{0, 500, 2000}[random() % 3];
        auto events = randomEvents(random, 200 + random() % 300);
        CAPTURE(round);
        const Event* base = events.data();
        auto expected = referenceSession(events, gap, delay, [&](int64_t key, const std::vector<const Event*>& e, int64_t s, int64_t w) {
            return referenceRow(base, key, e, s, w, false);
        });
        auto actual = runEngine<ValueSink>(makeAggregatePipeline(plan::SESSION, 0, 0, gap, delay), events);
        compareRows(actual, expected);
    }
}

TEST_CASE("the new aggregates: snapshot, restore and continue gives the uninterrupted output") {
    std::mt19937 random(99);
    auto render = [](const std::vector<Row>& rows) {
        std::vector<std::string> text;
        for (const auto& row : rows) {
            std::string line;
            for (const auto& value : row) line += show(value) + "|";
            text.push_back(line);
        }
        return text;
    };
    for (int round = 0; round < 24; ++round) {
        plan::WindowKind kind = std::vector<plan::WindowKind>{plan::TUMBLE, plan::HOP, plan::SESSION}[round % 3];
        plan::Pipeline pipeline = makeAggregatePipeline(kind, kind == plan::TUMBLE ? 2000 : 5000, kind == plan::TUMBLE ? 2000 : 1000, 1500,
                                                        std::vector<int64_t>{0, 1000}[random() % 2]);
        auto events = randomEvents(random, 300);
        auto expected = render(runEngine<ValueSink>(pipeline, events));
        size_t cut = random() % (events.size() + 1);
        CAPTURE(round);
        CAPTURE(cut);
        bool canonical = false;
        auto combined = render(runWithRestore<ValueSink>(pipeline, events, cut, canonical));
        CHECK(canonical);  // the encoding is canonical
        CHECK(combined == expected);
    }
}
