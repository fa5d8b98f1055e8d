// A partition moving between consumer-group members, simulated on PartitionedExecutor exactly as the Kafka loop
// drives it: the previous owner commits its watermark and the offset of the first record whose windows are still
// open, the new owner re-reads from there in a lane that starts at the committed watermark. Together the two members
// must emit every window exactly once, as one member owning both partitions from the start does.
#include "runtime/operators/partitioned_executor.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <random>

using namespace pipec;
using namespace pipec::runtime;

namespace {

class CaptureSink : public RowSink {
public:
    void open(const std::vector<plan::OutputColumn>&) override { ++opens; }
    void write(const Row& row) override {
        std::string text;
        for (const auto& value : row) text += std::to_string(value.i) + "|";
        rows.push_back(text);
    }
    void flush() override {}
    std::vector<std::string> rows;
    int opens = 0;
};

plan::Expr column(int index) {
    plan::Expr expression;
    expression.set_type(plan::BIGINT);
    expression.set_column(index);
    return expression;
}

// Source row [_time, key, value]; HOP(size 30, slide 10), TUMBLE(30) or SESSION(gap 7) GROUP BY key: COUNT(*),
// SUM(value).
plan::Pipeline makePipeline(plan::WindowKind kind, int64_t delay) {
    plan::Pipeline pipeline;
    pipeline.set_job_name("handover");
    pipeline.mutable_source()->set_watermark_delay_ms(delay);
    auto* window = pipeline.mutable_window();
    window->set_kind(kind);
    window->set_size_ms(30);
    window->set_slide_ms(kind == plan::TUMBLE ? 30 : 10);
    window->set_gap_ms(7);
    *window->add_group_keys() = column(1);
    window->add_group_key_names("key");
    auto* count = window->add_aggregates();
    count->set_function(plan::COUNT_STAR);
    count->set_result_type(plan::BIGINT);
    auto* sum = window->add_aggregates();
    sum->set_function(plan::SUM);
    sum->set_result_type(plan::BIGINT);
    *sum->mutable_argument() = column(2);
    for (int i = 0; i < 5; ++i) {
        *pipeline.add_outputs() = column(i);
        auto* output = pipeline.add_output_columns();
        output->set_name("c" + std::to_string(i));
        output->set_type(plan::BIGINT);
    }
    return pipeline;
}

struct Event {
    int64_t time;
    int64_t value;
    int64_t key = 0;  // 0.. within the partition
};

/// The row of an event of the partition whose first key is `partitionKey` (1 or 2): its keys are partitionKey,
/// partitionKey + 10, ... so no key is in both partitions.
Row toRow(const Event& event, int64_t partitionKey) {
    Row row(3);
    row[0] = Value::ofInt(event.time);
    row[1] = Value::ofInt(partitionKey + 10 * event.key);
    row[2] = Value::ofInt(event.value);
    return row;
}

/// Each partition's events in strictly increasing time order, with gaps that leave some windows empty and close
/// sessions.
std::vector<Event> makeEvents(std::mt19937_64& random, size_t count) {
    std::vector<Event> events;
    int64_t time = 0;
    for (size_t i = 0; i < count; ++i) {
        time += 1 + static_cast<int64_t>(random() % 5);  // strictly increasing: with delay 0 a repeated time is late
        if (random() % 25 == 0) time += 12;
        events.push_back({time, static_cast<int64_t>(random() % 100)});
    }
    return events;
}

/// Several keys per partition, and times out of order by up to `disorder` (a watermark delay of at least that
/// much makes no row late).
std::vector<Event> makeDisorderedEvents(std::mt19937_64& random, size_t count, int64_t disorder, int64_t keys) {
    std::vector<Event> events = makeEvents(random, count);
    for (auto& event : events) {
        event.time -= static_cast<int64_t>(random() % static_cast<uint64_t>(disorder + 1));
        event.key = static_cast<int64_t>(random() % static_cast<uint64_t>(keys));
    }
    return events;
}

std::vector<std::string> sorted(std::vector<std::string> rows) {
    std::sort(rows.begin(), rows.end());
    return rows;
}

/// Tracks the partitions' maximum event times like KafkaPartitionWatermarks (no idleness here).
struct Maxima {
    std::optional<int64_t> of[2];
    std::optional<int64_t> minimum(bool both) const {
        if (!of[0] || (both && !of[1])) return std::nullopt;
        return both ? std::min(*of[0], *of[1]) : *of[0];
    }
};

/// Partition 1 (key 2) is owned by member B for its first `handedAt` events, then moves to member A, which owns
/// partition 0 (key 1) and has consumed its first `aheadBy` events by then. Returns all rows both members emitted.
std::vector<std::string> simulateHandover(plan::WindowKind kind, const std::vector<Event>& p0, const std::vector<Event>& p1,
                                          size_t aheadBy, size_t handedAt, bool lanes, int64_t delay,
                                          std::mt19937_64& random) {
    plan::Pipeline pipeline = makePipeline(kind, delay);
    CaptureSink sink;

    // Member B owns partition 1 alone, then commits: its watermark, and the first offset with open windows.
    int64_t committedWatermark, committedFloor;
    size_t committedOffset = handedAt;
    {
        PartitionedExecutor b(pipeline, sink);
        int64_t maximum = INT64_MIN;
        for (size_t i = 0; i < handedAt; ++i) {
            Row row = toRow(p1[i], 2);
            b.process(row, 1);
            maximum = std::max(maximum, p1[i].time);
            b.advanceWatermark(maximum - delay);
        }
        committedWatermark = b.watermarkOf(1);
        committedFloor = b.resumeFloorOf(1);
        CHECK(committedFloor <= committedWatermark);
        if (kind != plan::SESSION) CHECK(committedFloor == committedWatermark);
        maximum = INT64_MIN;
        for (size_t i = 0; i < handedAt; ++i) {
            maximum = std::max(maximum, p1[i].time);
            if (!b.complete(maximum, 1)) {
                committedOffset = i;
                break;
            }
        }
        CHECK(b.watermark() == committedWatermark);
    }

    // Member A owns partition 0 and has consumed part of it.
    PartitionedExecutor a(pipeline, sink);
    Maxima maxima;
    int64_t jobWatermark = INT64_MIN;
    auto afterRow = [&](bool both) {
        auto minimum = maxima.minimum(both);
        a.setLaneTarget(minimum ? *minimum - delay : INT64_MIN);  // as the Kafka loop does
        if (!minimum) return;
        jobWatermark = std::max(jobWatermark, *minimum - delay);
        a.advanceWatermark(jobWatermark);
    };
    size_t next0 = 0;
    for (; next0 < aheadBy; ++next0) {
        Row row = toRow(p0[next0], 1);
        a.process(row, 0);
        maxima.of[0] = std::max(maxima.of[0].value_or(INT64_MIN), p0[next0].time);
        afterRow(false);
    }

    // Partition 1 moves to A, which re-reads it from the committed offset; the two partitions' records interleave.
    if (lanes && (committedWatermark != a.watermark() || committedFloor != committedWatermark))
        a.openLane(1, committedFloor, committedWatermark);
    size_t next1 = committedOffset;
    while (next0 < p0.size() || next1 < p1.size()) {
        bool take0 = next1 == p1.size() || (next0 < p0.size() && random() % 2 == 0);
        const Event& event = take0 ? p0[next0++] : p1[next1++];
        Row row = toRow(event, take0 ? 1 : 2);
        a.process(row, take0 ? 0 : 1);
        auto& maximum = maxima.of[take0 ? 0 : 1];
        maximum = std::max(maximum.value_or(INT64_MIN), event.time);
        afterRow(true);
        if (random() % 50 == 0) a.advanceLanes();
    }
    a.finish();
    CHECK(sink.opens == 2);  // once per member: lanes do not reopen the sink
    return sink.rows;
}

std::vector<std::string> singleOwner(plan::WindowKind kind, const std::vector<Event>& p0, const std::vector<Event>& p1,
                                     int64_t delay) {
    CaptureSink sink;
    PipelineExecutor executor(makePipeline(kind, delay), sink);
    executor.setExternalWatermark(true);  // no watermark until the end: nothing is late
    for (const auto& event : p0) {
        Row row = toRow(event, 1);
        executor.process(row);
    }
    for (const auto& event : p1) {
        Row row = toRow(event, 2);
        executor.process(row);
    }
    executor.finish();
    return sink.rows;
}

} // namespace

TEST_CASE("a partition handed over between members: every window emitted once, as with one owner") {
    for (plan::WindowKind kind : {plan::HOP, plan::TUMBLE, plan::SESSION}) {
        for (uint64_t seed = 1; seed <= 40; ++seed) {
            CAPTURE(kind);
            CAPTURE(seed);
            std::mt19937_64 random(seed);
            std::vector<Event> p0 = makeEvents(random, 300);
            std::vector<Event> p1 = makeEvents(random, 300);
            int64_t delay = static_cast<int64_t>(random() % 3) * 4;
            // Events within a partition are in time order and the watermark is the minimum over partitions minus
            // the delay, so one owner drops nothing: its output is every window of every event.
            std::vector<std::string> expected = sorted(singleOwner(kind, p0, p1, delay));
            if (kind == plan::HOP) {
                std::vector<std::string> brute;
                for (int key = 1; key <= 2; ++key) {
                    const auto& events = key == 1 ? p0 : p1;
                    for (int64_t start = -20; start <= events.back().time; start += 10) {
                        int64_t count = 0, sum = 0;
                        for (const auto& e : events) if (e.time >= start && e.time < start + 30) { ++count; sum += e.value; }
                        if (count) brute.push_back(std::to_string(key) + "|" + std::to_string(count) + "|" + std::to_string(sum) + "|" + std::to_string(start) + "|" + std::to_string(start + 30) + "|");
                    }
                }
                CHECK(sorted(brute) == expected);
            }
            // The new owner ahead of the committed watermark (the windows in between were never emitted for the
            // moved keys) or behind it (the previous owner emitted them already).
            size_t handedAt = 60 + random() % 180;
            size_t aheadBy = seed % 2 == 0 ? std::min<size_t>(299, handedAt + 40 + random() % 50)
                                           : static_cast<size_t>(random() % 40);
            std::mt19937_64 interleave(seed * 7919);
            std::vector<std::string> withLanes =
                sorted(simulateHandover(kind, p0, p1, aheadBy, handedAt, true, delay, interleave));
            if (withLanes != expected) {
                std::vector<std::string> missing, extra;
                std::set_difference(expected.begin(), expected.end(), withLanes.begin(), withLanes.end(), std::back_inserter(missing));
                std::set_difference(withLanes.begin(), withLanes.end(), expected.begin(), expected.end(), std::back_inserter(extra));
                std::string text;
                for (auto& r : missing) text += "missing " + r + "\n";
                for (auto& r : extra) text += "extra " + r + "\n";
                CAPTURE(text);
                CHECK(withLanes == expected);
            }
        }
    }
}

TEST_CASE("without lanes the handover loses or duplicates windows (the case lanes exist for)") {
    std::mt19937_64 random(3);
    std::vector<Event> p0 = makeEvents(random, 300);
    std::vector<Event> p1 = makeEvents(random, 300);
    std::vector<std::string> expected = sorted(singleOwner(plan::HOP, p0, p1, 0));
    for (size_t aheadBy : {size_t{280}, size_t{5}}) {
        CAPTURE(aheadBy);
        std::mt19937_64 interleave(11);
        CHECK(sorted(simulateHandover(plan::HOP, p0, p1, aheadBy, 150, false, 0, interleave)) != expected);
        std::mt19937_64 again(11);
        CHECK(sorted(simulateHandover(plan::HOP, p0, p1, aheadBy, 150, true, 0, again)) == expected);
    }
}

TEST_CASE("lanes: watermark, completeness, late rows and discarding") {
    CaptureSink sink;
    PartitionedExecutor executor(makePipeline(plan::HOP, 0), sink);
    Row row = toRow({100, 1}, 1);
    executor.process(row, 0);
    executor.advanceWatermark(100);
    executor.openLane(3, 40, 40);
    CHECK(executor.laneCount() == 1);
    CHECK(executor.hasLane(3));
    CHECK_FALSE(executor.hasLane(0));
    CHECK(executor.watermarkOf(3) == 40);
    CHECK(executor.watermarkOf(0) == 100);
    // 15 is late for the lane (its windows all end by 40); 45 is not, though the job watermark passed it.
    Row late = toRow({15, 1}, 2);
    executor.process(late, 3);
    CHECK(executor.lateRows() == 1);
    Row onTime = toRow({45, 1}, 2);
    executor.process(onTime, 3);
    CHECK(executor.lateRows() == 1);
    CHECK_FALSE(executor.complete(45, 3));
    CHECK(executor.complete(45, 0));
    // The lane follows its target lazily and never goes back.
    executor.setLaneTarget(30);
    executor.advanceLanes();
    CHECK(executor.watermarkOf(3) == 40);
    executor.setLaneTarget(70);
    executor.advanceLanes();
    CHECK(executor.watermarkOf(3) == 70);
    CHECK(executor.complete(45, 3));
    CHECK(sink.rows.size() == 3);  // key 2's windows [20, 50), [30, 60), [40, 70)
    executor.discardOrigins({3});
    CHECK(executor.laneCount() == 0);
    CHECK(executor.lateRows() == 1);  // the dropped lane's late rows stay counted
    CHECK(executor.watermarkOf(3) == 100);
}


TEST_CASE("handover with several keys per partition and rows out of order within the delay") {
    for (plan::WindowKind kind : {plan::HOP, plan::TUMBLE, plan::SESSION}) {
        for (uint64_t seed = 1; seed <= 40; ++seed) {
            CAPTURE(kind);
            CAPTURE(seed);
            std::mt19937_64 random(seed * 31 + 5);
            const int64_t disorder = 1 + static_cast<int64_t>(random() % 12);
            // At least disorder + 2: a session ending at t (which a row at t would extend) fires only at watermark
            // t - 1, and the watermark stays below t - 1 while a row at t can still arrive.
            const int64_t delay = disorder + 2 + static_cast<int64_t>(random() % 3);
            std::vector<Event> p0 = makeDisorderedEvents(random, 300, disorder, 3);
            std::vector<Event> p1 = makeDisorderedEvents(random, 300, disorder, 3);
            // Within the delay nothing is late, and no window fires before a row that belongs to it arrives: the
            // output is every window of every event, as one owner without a watermark computes it.
            std::vector<std::string> expected = sorted(singleOwner(kind, p0, p1, delay));
            size_t handedAt = 60 + random() % 180;
            size_t aheadBy = seed % 2 == 0 ? std::min<size_t>(299, handedAt + 40 + random() % 50)
                                           : static_cast<size_t>(random() % 40);
            std::mt19937_64 interleave(seed * 104729);
            auto got = sorted(simulateHandover(kind, p0, p1, aheadBy, handedAt, true, delay, interleave));
            if (got != expected) {
                std::vector<std::string> missing, extra;
                std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
                std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(extra));
                std::string text = "disorder " + std::to_string(disorder) + ", delay " + std::to_string(delay) +
                                   ", handed over at " + std::to_string(handedAt) + ", ahead by " +
                                   std::to_string(aheadBy) + "\n";
                for (auto& r : missing) text += "missing " + r + "\n";
                for (auto& r : extra) text += "extra " + r + "\n";
                CAPTURE(text);
                CHECK(got == expected);
            }
        }
    }
}

/// A member owning both partitions stops after `stopAt[0]` and `stopAt[1]` events and commits each partition (its
/// watermark, floor and first offset with open windows), as a plain restart does; a fresh member then continues
/// from those commits, its own executor resumed from them (`main`) or with a lane per partition. Returns every row
/// both emitted.
std::vector<std::string> simulateRestart(plan::WindowKind kind, const std::vector<Event>* partitions[2], const size_t stopAt[2],
                                         int64_t delay, bool main, std::mt19937_64& random) {
    plan::Pipeline pipeline = makePipeline(kind, delay);
    CaptureSink sink;
    int64_t watermark[2], floor[2];
    size_t committed[2];
    {
        PartitionedExecutor before(pipeline, sink);
        Maxima maxima;
        int64_t jobWatermark = INT64_MIN;
        size_t next[2] = {0, 0};
        while (next[0] < stopAt[0] || next[1] < stopAt[1]) {
            int p = next[1] == stopAt[1] || (next[0] < stopAt[0] && random() % 2 == 0) ? 0 : 1;
            const Event& event = (*partitions[p])[next[p]++];
            Row row = toRow(event, p + 1);
            before.process(row, p);
            maxima.of[p] = std::max(maxima.of[p].value_or(INT64_MIN), event.time);
            if (auto minimum = maxima.minimum(true)) {
                jobWatermark = std::max(jobWatermark, *minimum - delay);
                before.advanceWatermark(jobWatermark);
            }
        }
        for (int p = 0; p < 2; ++p) {
            watermark[p] = before.watermarkOf(p);
            floor[p] = std::min(watermark[p], before.resumeFloorOf(p));
            committed[p] = stopAt[p];
            int64_t maximum = INT64_MIN;
            for (size_t i = 0; i < stopAt[p]; ++i) {
                maximum = std::max(maximum, (*partitions[p])[i].time);
                if (!before.complete(maximum, p)) {
                    committed[p] = i;
                    break;
                }
            }
        }
    }
    REQUIRE(watermark[0] == watermark[1]);  // one member: one watermark and floor for all its partitions
    REQUIRE(floor[0] == floor[1]);
    PartitionedExecutor after(pipeline, sink);
    if (main) {
        after.resumeMain(floor[0], watermark[0]);
    } else {
        after.openLane(0, floor[0], watermark[0]);
        after.openLane(1, floor[1], watermark[1]);
    }
    Maxima maxima;
    int64_t jobWatermark = main ? floor[0] : INT64_MIN;
    size_t next[2] = {committed[0], committed[1]};
    while (next[0] < partitions[0]->size() || next[1] < partitions[1]->size()) {
        int p = next[1] == partitions[1]->size() || (next[0] < partitions[0]->size() && random() % 2 == 0) ? 0 : 1;
        const Event& event = (*partitions[p])[next[p]++];
        Row row = toRow(event, p + 1);
        after.process(row, p);
        maxima.of[p] = std::max(maxima.of[p].value_or(INT64_MIN), event.time);
        auto minimum = maxima.minimum(true);
        after.setLaneTarget(minimum ? *minimum - delay : INT64_MIN);
        if (minimum) {
            jobWatermark = std::max(jobWatermark, *minimum - delay);
            after.advanceWatermark(jobWatermark);
        }
    }
    if (!main) CHECK(after.laneCount() == 2);
    after.finish();
    return sink.rows;
}

TEST_CASE("a plain restart continues every window once, with the member's executor resumed or with lanes") {
    for (plan::WindowKind kind : {plan::HOP, plan::TUMBLE, plan::SESSION}) {
        for (uint64_t seed = 1; seed <= 30; ++seed) {
            CAPTURE(kind);
            CAPTURE(seed);
            std::mt19937_64 random(seed * 977 + 3);
            const int64_t disorder = static_cast<int64_t>(random() % 8);
            const int64_t delay = disorder + 2 + static_cast<int64_t>(random() % 3);
            std::vector<Event> p0 = makeDisorderedEvents(random, 250, disorder, 3);
            std::vector<Event> p1 = makeDisorderedEvents(random, 250, disorder, 3);
            std::vector<std::string> expected = sorted(singleOwner(kind, p0, p1, delay));
            const std::vector<Event>* partitions[2] = {&p0, &p1};
            const size_t stopAt[2] = {40 + random() % 180, 40 + random() % 180};
            for (bool main : {true, false}) {
                CAPTURE(main);
                std::mt19937_64 interleave(seed * 31);
                CHECK(sorted(simulateRestart(kind, partitions, stopAt, delay, main, interleave)) == expected);
            }
        }
    }
}
