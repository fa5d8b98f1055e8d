// Differential and snapshot tests of the window operators: random event streams through TUMBLE, HOP, CUMULATE and SESSION
// with every aggregate, checked row for row against a brute-force reference written independently here (every event
// into every window it belongs to, with the same watermark and lateness rules from shared/SEMANTICS.md).
#include "runtime/operators/operator_chain.h"
#include "runtime/operators/pipeline_executor.h"
#include "tests/unit/runtime_window/window_test_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

using namespace pipec;
using namespace pipec::runtime;
using namespace pipec::runtime::testing;

namespace {

std::string referenceRow(int64_t key, const std::vector<const Event*>& events, int64_t start, int64_t end) {
    int64_t count = 0, sum = 0, minimum = 0, maximum = 0;
    std::set<std::string> names;
    std::set<int64_t> distinctValues;
    std::optional<std::string> minName;
    for (const Event* event : events) {
        if (event->value) {
            int64_t v = *event->value;
            minimum = count ? std::min(minimum, v) : v;
            maximum = count ? std::max(maximum, v) : v;
            ++count;
            sum += v;
            distinctValues.insert(v);
        }
        if (event->name) {
            names.insert(*event->name);
            if (!minName || *event->name < *minName) minName = *event->name;
        }
    }
    auto number = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string("NULL"); };
    int64_t distinctSum = 0;
    for (int64_t v : distinctValues) distinctSum += v;
    std::string text = std::to_string(key) + "|" + std::to_string(events.size()) + "|" + std::to_string(count) + "|";
    text += number(count ? std::optional<int64_t>(sum) : std::nullopt) + "|";
    text += number(count ? std::optional<int64_t>(sum / count) : std::nullopt) + "|";
    text += number(count ? std::optional<int64_t>(minimum) : std::nullopt) + "|";
    text += number(count ? std::optional<int64_t>(maximum) : std::nullopt) + "|";
    text += std::to_string(names.size()) + "|" + (minName ? *minName : "NULL") + "|";
    text += number(distinctValues.empty() ? std::nullopt : std::optional<int64_t>(distinctSum)) + "|";
    text += std::to_string(start) + "|" + std::to_string(end) + "|";
    return text;
}

/// Keeps the key, the first four aggregates and the window bounds of a reference row (the invertible-only shape).
std::string invertibleColumns(const std::string& row) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t bar = row.find('|'); bar != std::string::npos; start = bar + 1, bar = row.find('|', start)) parts.push_back(row.substr(start, bar - start));
    std::string text;
    for (size_t i : {0, 1, 2, 3, 4, 10, 11}) text += parts[i] + "|";
    return text;
}

} // namespace

/// Random streams through TUMBLE/HOP of the given shapes, compared row for row with the brute-force reference.
/// With `invertibleOnly` the windows take the incremental path; otherwise the slice-merging path.
static int checkSlidingWindows(uint32_t seed, const std::vector<std::pair<int64_t, int64_t>>& shapes, const std::vector<int64_t>& delays,
                        bool invertibleOnly) {
    std::mt19937 random(seed);
    int rows = 0;
    for (int round = 0; round < 60; ++round) {
        auto [size, slide] = shapes[static_cast<size_t>(round) % shapes.size()];
        int64_t delay = delays[random() % delays.size()];
        auto events = randomEvents(random, 200 + random() % 300);
        CAPTURE(round);
        CAPTURE(size);
        CAPTURE(slide);
        CAPTURE(delay);
        auto expected = referenceSliding(events, size, slide, delay, referenceRow);
        if (invertibleOnly)
            for (auto& row : expected) row = invertibleColumns(row);
        auto actual = runEngine(makePipeline(size == slide ? plan::TUMBLE : plan::HOP, size, slide, 0, delay, invertibleOnly), events);
        REQUIRE(actual.size() == expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
            CAPTURE(i);
            CHECK(actual[i] == expected[i]);
        }
        rows += static_cast<int>(expected.size());
    }
    return rows;
}

TEST_CASE("TUMBLE and HOP match the brute-force reference on random streams") {
    int rows = checkSlidingWindows(20261125, {{1000, 1000}, {3000, 1000}, {2500, 1000}, {1000, 3000}, {6000, 1500}, {4000, 4000}},
                                   {0, 500, 2000}, false);
    CHECK(rows > 1000);
}

TEST_CASE("TUMBLE and HOP with invertible aggregates (incremental windows) match the reference") {
    int rows = checkSlidingWindows(99, {{1000, 1000}, {3000, 1000}, {2500, 1000}, {1000, 3000}, {6000, 1500}, {20000, 500}},
                                   {0, 500, 2000, 7000}, true);
    CHECK(rows > 1000);
}

TEST_CASE("CUMULATE matches the brute-force reference on random streams") {
    // (step, max size): several steps per cycle, one step per cycle (a TUMBLE), and a long cycle of short steps.
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{1000, 3000}, {500, 5000}, {2000, 2000}, {1000, 4000}, {250, 20000}};
    for (bool invertibleOnly : {false, true}) {
        std::mt19937 random(invertibleOnly ? 31 : 30);
        int rows = 0;
        for (int round = 0; round < 40; ++round) {
            auto [step, size] = shapes[static_cast<size_t>(round) % shapes.size()];
            int64_t delay = std::vector<int64_t>{0, 500, 2000, 7000}[random() % 4];
            auto events = randomEvents(random, 200 + random() % 300);
            CAPTURE(invertibleOnly);
            CAPTURE(round);
            CAPTURE(step);
            CAPTURE(size);
            CAPTURE(delay);
            auto expected = referenceCumulative(events, step, size, delay, referenceRow);
            if (invertibleOnly)
                for (auto& row : expected) row = invertibleColumns(row);
            auto actual = runEngine(makePipeline(plan::CUMULATE, size, step, 0, delay, invertibleOnly), events);
            REQUIRE(actual.size() == expected.size());
            for (size_t i = 0; i < expected.size(); ++i) {
                CAPTURE(i);
                CHECK(actual[i] == expected[i]);
            }
            rows += static_cast<int>(expected.size());
        }
        CHECK(rows > 1000);
    }
}

TEST_CASE("SESSION matches the brute-force reference on random streams") {
    std::mt19937 random(777);
    int rows = 0;
    for (int round = 0; round < 60; ++round) {
        int64_t gap = std::vector<int64_t>{300, 1000, 2500}[random() % 3];
        int64_t delay = std::vector<int64_t>{0, 500, 2000}[random() % 3];
        auto events = randomEvents(random, 200 + random() % 300);
        CAPTURE(round);
        CAPTURE(gap);
        CAPTURE(delay);
        auto expected = referenceSession(events, gap, delay, referenceRow);
        auto actual = runEngine(makePipeline(plan::SESSION, 0, 0, gap, delay), events);
        REQUIRE(actual.size() == expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
            CAPTURE(i);
            CHECK(actual[i] == expected[i]);
        }
        rows += static_cast<int>(expected.size());
    }
    CHECK(rows > 500);
}

TEST_CASE("snapshot, restore and continue gives the uninterrupted output at random cut points") {
    std::mt19937 random(4242);
    for (int round = 0; round < 60; ++round) {
        plan::WindowKind kind = std::vector<plan::WindowKind>{plan::TUMBLE, plan::HOP, plan::SESSION, plan::CUMULATE}[round % 4];
        plan::Pipeline pipeline = makePipeline(kind, kind == plan::TUMBLE ? 2000 : 5000, kind == plan::TUMBLE ? 2000 : 1000, 1500,
                                               std::vector<int64_t>{0, 1000}[random() % 2], round % 2 == 0);
        auto events = randomEvents(random, 300);
        auto expected = runEngine(pipeline, events);
        size_t cut = random() % (events.size() + 1);
        CAPTURE(round);
        CAPTURE(cut);

        bool canonical = false;
        auto combined = runWithRestore(pipeline, events, cut, canonical);
        CHECK(canonical);  // the encoding is canonical
        CHECK(combined == expected);
    }
}

TEST_CASE("chains sharing their ChainBuffers emit what chains with their own do") {
    // A Kafka job's tasks share one set of batches (the fired results, the projection): the tasks fire one after the
    // other, and each must emit exactly its own rows, as with buffers of its own. Four chains (keys split by key % 4),
    // a common watermark moved after every event as a job does, then the end of input; one stream also fires more
    // than one batch (4096 rows) at once.
    std::mt19937 random(977);
    constexpr size_t kChains = 4;
    for (int round = 0; round < 24; ++round) {
        plan::WindowKind kind = std::vector<plan::WindowKind>{plan::TUMBLE, plan::HOP, plan::SESSION, plan::CUMULATE}[round % 4];
        plan::Pipeline pipeline = makePipeline(kind, kind == plan::TUMBLE ? 2000 : 5000, kind == plan::TUMBLE ? 2000 : 1000, 1500,
                                               std::vector<int64_t>{0, 1000}[random() % 2], round % 2 == 0);
        std::vector<Event> events = randomEvents(random, 400);
        if (round == 1) {
            // 1,200 keys in one slice's time: the end of input fires 5 HOP windows of each, 6,000 rows in one call.
            events.clear();
            for (int64_t key = 0; key < 1200; ++key) events.push_back(Event{static_cast<int64_t>(random() % 900), key, key, std::nullopt});
        }
        CAPTURE(round);
        ChainBuffers shared;
        std::vector<CaptureSink> sharedSinks(kChains);
        std::vector<CaptureSink> ownSinks(kChains);
        std::vector<std::unique_ptr<OperatorChain>> sharing;
        std::vector<std::unique_ptr<OperatorChain>> owning;
        for (size_t c = 0; c < kChains; ++c) {
            sharing.push_back(std::make_unique<OperatorChain>(pipeline, sharedSinks[c], &shared));
            owning.push_back(std::make_unique<OperatorChain>(pipeline, ownSinks[c]));
        }
        int64_t maxTime = INT64_MIN;
        for (const Event& event : events) {
            const size_t c = static_cast<size_t>(event.key) % kChains;
            for (auto* chains : {&sharing, &owning}) {
                Row row = toRow(event);
                RowBatch batch;
                batch.append(event.time).swap(row);
                (*chains)[c]->process(batch);
            }
            maxTime = std::max(maxTime, event.time);
            for (size_t d = 0; d < kChains; ++d) {
                sharing[d]->advanceWatermark(maxTime - pipeline.source().watermark_delay_ms());
                owning[d]->advanceWatermark(maxTime - pipeline.source().watermark_delay_ms());
            }
        }
        for (size_t c = 0; c < kChains; ++c) {
            sharing[c]->finish();
            owning[c]->finish();
        }
        size_t rows = 0;
        for (size_t c = 0; c < kChains; ++c) {
            CAPTURE(c);
            CHECK(sharedSinks[c].rows == ownSinks[c].rows);
            rows += ownSinks[c].rows.size();
        }
        CHECK(rows > 0);
        if (round == 1) CHECK(rows == 6000);
        // The chains did fill the shared batches (a chain ignoring them would leave them empty).
        CHECK(!shared.windowResults.rows.empty());
    }
}

TEST_CASE("corrupt snapshots are rejected, not trusted") {
    plan::Pipeline pipeline = makePipeline(plan::HOP, 3000, 1000, 0, 0);
    CaptureSink sink;
    PipelineExecutor executor(pipeline, sink);
    std::mt19937 random(1);
    for (const auto& event : randomEvents(random, 100)) {
        Row row = toRow(event);
        executor.process(row);
    }
    std::string bytes = executor.snapshot();
    for (size_t cut : {size_t{0}, size_t{7}, bytes.size() / 2, bytes.size() - 1}) {
        CaptureSink other;
        PipelineExecutor fresh(pipeline, other);
        CHECK_THROWS_AS(fresh.restore(std::string_view(bytes).substr(0, cut)), std::runtime_error);
    }
    std::string corrupted = bytes;
    corrupted[corrupted.size() / 3] ^= 0x5A;
    CaptureSink other;
    PipelineExecutor fresh(pipeline, other);
    try {
        fresh.restore(corrupted);  // may or may not be detectable; it must not crash
    } catch (const std::exception&) {
    }
}

// A snapshot altered byte by byte either fails to restore or restores a state the engine can keep running on: no
// crash, and no internal inconsistency (for sessions: two entries for one session, or overlapping sessions of a key,
// would desynchronise the firing index).
TEST_CASE("altered session snapshots either fail to restore or keep a consistent state") {
    plan::Pipeline pipeline = makePipeline(plan::SESSION, 5000, 1000, 1500, 0);
    CaptureSink sink;
    PipelineExecutor executor(pipeline, sink);
    std::mt19937 random(7);
    auto events = randomEvents(random, 120);
    for (size_t i = 0; i < 80; ++i) {
        Row row = toRow(events[i]);
        executor.process(row);
    }
    const std::string bytes = executor.snapshot();
    size_t restored = 0;
    for (size_t position = 0; position < bytes.size(); ++position) {
        for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x10}, uint8_t{0x80}}) {
            std::string altered = bytes;
            altered[position] = static_cast<char>(altered[position] ^ flip);
            CaptureSink other;
            PipelineExecutor fresh(pipeline, other);
            try {
                fresh.restore(altered);
            } catch (const std::runtime_error&) {
                continue;
            }
            ++restored;
            CAPTURE(position);
            CHECK_NOTHROW([&] {
                for (size_t i = 80; i < events.size(); ++i) {
                    Row row = toRow(events[i]);
                    fresh.process(row);
                }
                fresh.finish();
            }());
        }
    }
    CHECK(restored > 0);  // some alterations (aggregate values, times) are not detectable, and must still run
}
