// The changelog protocol of one Kafka task, without Kafka: random streams through a task's operator chain with
// checkpoints at random points and crashes at every step of a checkpoint (mid-write, written but not committed,
// committed), restored by a new incarnation from the log as a compacting broker keeps it. The features must come out
// as from one uninterrupted run; only rows of windows fired since the last committed checkpoint may repeat.
#include "runtime/kafka/changelog.h"
#include "runtime/operators/operator_chain.h"
#include "tests/unit/runtime_window/window_test_support.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>

#include <map>
#include <set>

using namespace pipec;
using namespace pipec::runtime;
using namespace pipec::runtime::testing;

namespace {

/// A changelog partition in memory: every record in order; compaction keeps the newest per key and drops tombstones.
class MemoryLog : public ChangelogOutput {
public:
    struct Record {
        std::string key;
        std::optional<std::string> value;
    };
    void produce(int32_t partition, const std::string& key, const std::optional<std::string>& value) override {
        CHECK(partition == 7);
        records.push_back({key, value});
    }
    ChangelogContents contents() const {
        ChangelogContents latest;
        for (const auto& record : records) {
            if (!record.value) {
                latest.erase(record.key);
                continue;
            }
            auto value = decodeChangelogValue(*record.value);
            REQUIRE(value.has_value());
            latest[record.key] = *value;
        }
        return latest;
    }
    /// What compaction leaves (the newest record of each key, tombstones gone), as a log.
    void compact() {
        std::map<std::string, size_t> newest;
        for (size_t i = 0; i < records.size(); ++i) newest[records[i].key] = i;
        std::vector<Record> kept;
        for (size_t i = 0; i < records.size(); ++i)
            if (newest[records[i].key] == i && records[i].value) kept.push_back(records[i]);
        records = std::move(kept);
    }
    std::vector<Record> records;
};

struct Committed {
    std::string mark;
    size_t offset = 0;  // the next event to read
};

/// Runs `events` through task incarnations that crash at random steps of their checkpoints; returns every row the
/// sink received over all incarnations, and counts the restores.
std::vector<std::string> runWithCrashes(const plan::Pipeline& pipeline, const std::vector<Event>& events, std::mt19937& random,
                                        int& restores, size_t& maxRecordsPerEntry) {
    CaptureSink sink;
    MemoryLog log;
    std::optional<Committed> committed;
    const int64_t delay = pipeline.source().watermark_delay_ms();
    const std::string fingerprint = stateFingerprint(pipeline);
    uint64_t writer = 1;
    size_t position = 0;
    for (;;) {
        // A new incarnation: restore from the log at the committed checkpoint and read from its offset.
        OperatorChain chain(pipeline, sink);
        TaskCheckpointer checkpointer(7, fingerprint, ++writer);
        std::optional<int64_t> maxEventTime;
        if (random() % 2) log.compact();  // the broker may or may not have compacted in between
        if (committed) {
            auto mark = parseCheckpointMark(committed->mark);
            REQUIRE(mark.has_value());
            checkpointer.restore(log.contents(), *mark, chain);
            maxEventTime = mark->maxEventTime;
            position = committed->offset;
            ++restores;
            // A confirmation before this incarnation wrote anything (KafkaJob re-sends the restored mark when it retries
            // a deferred commit): it must change nothing, above all not clean up the restored writer's records.
            if (random() % 3 == 0) checkpointer.committed();
        } else {
            checkpointer.adopt(log.contents());
            position = 0;
        }
        bool crashed = false;
        while (position < events.size() && !crashed) {
            Row row = toRow(events[position]);
            RowBatch batch;
            int64_t time = events[position].time;
            batch.append(time).swap(row);
            chain.process(batch);
            ++position;
            if (!maxEventTime || time > *maxEventTime) {
                maxEventTime = time;
                chain.advanceWatermark(time - delay);
            }
            if (random() % 23 != 0) continue;
            // A checkpoint; sometimes the process dies during it.
            size_t before = log.records.size();
            std::string mark = checkpointer.write(chain, log, maxEventTime);
            switch (random() % 8) {
            case 0:  // dies while writing: only part of the records reached the broker
                log.records.resize(before + random() % (log.records.size() - before + 1));
                crashed = true;
                break;
            case 1:  // dies after the records were acknowledged, before the offsets were committed
                crashed = true;
                break;
            case 2:  // the commit fails (a rebalance), the task goes on
                break;
            default:
                committed = Committed{mark, position};
                checkpointer.committed();
            }
        }
        if (!crashed) {
            // Two more committed checkpoints: the first tombstones what expired before it and what earlier writers
            // left; after the second, the compacted log holds exactly the live entries of this writer (the changelog
            // does not grow with the windows that fired).
            std::string mark;
            for (int i = 0; i < 2; ++i) {
                mark = checkpointer.write(chain, log, maxEventTime);
                checkpointer.committed();
            }
            log.compact();
            std::set<std::string> entries;
            for (const auto& record : log.records) {
                auto decoded = decodeChangelogKey(record.key);
                REQUIRE(decoded.has_value());
                CHECK(decoded->writer == writer);
                entries.insert(decoded->entry);
            }
            CHECK(entries.size() == parseCheckpointMark(mark)->entries);
            CHECK(entries.size() == checkpointer.liveEntries());
            break;
        }
    }
    std::map<std::string, size_t> perEntry;
    for (const auto& [key, value] : log.contents()) {
        auto decoded = decodeChangelogKey(key);
        REQUIRE(decoded.has_value());
        ++perEntry[std::to_string(decoded->writer) + "/" + decoded->entry];
    }
    for (const auto& [entry, count] : perEntry) maxRecordsPerEntry = std::max(maxRecordsPerEntry, count);
    return sink.rows;  // the last incarnation ran to the end: flush what is open
}

std::vector<std::string> finishRun(const plan::Pipeline& pipeline, const std::vector<Event>& events) {
    CaptureSink sink;
    PipelineExecutor executor(pipeline, sink);
    for (const auto& event : events) {
        Row row = toRow(event);
        executor.process(row);
    }
    return sink.rows;  // without finish(): only what the watermark fired, as the crash runs
}

/// `row` (fields joined by `|`) with every field holding a fractional number written to 12 significant digits.
std::string roundFloats(const std::string& row) {
    std::string out;
    size_t start = 0;
    while (start < row.size()) {
        size_t end = row.find('|', start);
        if (end == std::string::npos) end = row.size();
        std::string field = row.substr(start, end - start);
        char* parsed = nullptr;
        double value = std::strtod(field.c_str(), &parsed);
        if (!field.empty() && parsed == field.c_str() + field.size() && field.find_first_of(".eE") != std::string::npos)
            field = fmt::format("{:.12g}", value);
        out += field;
        if (end < row.size()) out += '|';
        start = end + 1;
    }
    return out;
}

/// `newAggregates`: the pipeline of makeAggregatePipeline (variances, FIRST/LAST_VALUE, LISTAGG, FILTER,
/// APPROX_COUNT_DISTINCT) instead of makePipeline's (then `invertibleOnly` is not used).
void checkCrashes(plan::WindowKind kind, int64_t size, int64_t slide, int64_t gap, bool invertibleOnly, uint32_t seed,
                  bool newAggregates = false) {
    std::mt19937 random(seed);
    int restores = 0;
    size_t duplicates = 0;
    size_t rows = 0;
    size_t maxRecordsPerEntry = 0;
    for (int round = 0; round < 40; ++round) {
        CAPTURE(round);
        int64_t delay = std::vector<int64_t>{0, 500, 2000}[random() % 3];
        plan::Pipeline pipeline = newAggregates ? makeAggregatePipeline(kind, size, slide, gap, delay)
                                                : makePipeline(kind, size, slide, gap, delay, invertibleOnly);
        auto events = randomEvents(random, 300 + random() % 300);
        auto expected = finishRun(pipeline, events);
        auto actual = runWithCrashes(pipeline, events, random, restores, maxRecordsPerEntry);
        if (kind == plan::CUMULATE && newAggregates) {
            // A restored CUMULATE window rebuilds its running value by merging its slices, where the run before the
            // crash folded row by row: floating-point variances then differ in the last bits (addition is not
            // associative; docs/checkpoints.md). Compared to 12 significant digits.
            for (auto& row : expected) row = roundFloats(row);
            for (auto& row : actual) row = roundFloats(row);
        }
        // Every row that was emitted is right, every row that should be was, and repeats are whole rows of the same
        // window (its value unchanged: the feature store sees the same value again).
        std::set<std::string> expectedSet(expected.begin(), expected.end());
        std::set<std::string> actualSet(actual.begin(), actual.end());
        CHECK(expectedSet.size() == expected.size());
        for (const auto& row : actual) {
            CAPTURE(row);
            CHECK(expectedSet.count(row) == 1);
        }
        for (const auto& row : expected) {
            CAPTURE(row);
            CHECK(actualSet.count(row) == 1);
        }
        duplicates += actual.size() - actualSet.size();
        rows += expected.size();
    }
    MESSAGE(restores << " restores, " << rows << " rows, " << duplicates << " repeated after restores");
    CHECK(restores > 20);
    // Two slots per entry and writer: never more records of an entry than that once compacted.
    CHECK(maxRecordsPerEntry <= 2);
}

} // namespace

TEST_CASE("checkpoint, crash at any step, restore: HOP and TUMBLE with merging and incremental windows") {
    checkCrashes(plan::HOP, 6000, 1500, 0, false, 1);
    checkCrashes(plan::HOP, 4000, 1000, 0, true, 2);
    checkCrashes(plan::TUMBLE, 3000, 3000, 0, false, 3);
    checkCrashes(plan::TUMBLE, 2000, 2000, 0, true, 4);
}

TEST_CASE("checkpoint, crash at any step, restore: the order-sensitive, filtered and sketch aggregates") {
    checkCrashes(plan::HOP, 6000, 1500, 0, false, 7, true);
    checkCrashes(plan::SESSION, 0, 0, 1500, false, 8, true);
}

TEST_CASE("checkpoint, crash at any step, restore: CUMULATE with merging and running windows") {
    // makePipeline(kind, size, slide = step, …)
    checkCrashes(plan::CUMULATE, 6000, 1500, 0, false, 7);
    checkCrashes(plan::CUMULATE, 4000, 1000, 0, true, 8);
    checkCrashes(plan::CUMULATE, 6000, 1500, 0, false, 9, true);  // the order-sensitive, filtered and sketch aggregates
}

TEST_CASE("checkpoint, crash at any step, restore: SESSION") {
    checkCrashes(plan::SESSION, 0, 0, 1500, false, 5);
    checkCrashes(plan::SESSION, 0, 0, 4000, true, 6);
}

namespace {
/// One task's chain and checkpointer on an in-memory log, fed row by row.
struct Task {
    explicit Task(const plan::Pipeline& pipeline, uint64_t writer = 42)
        : chain(pipeline, sink), checkpointer(7, stateFingerprint(pipeline), writer) {}
    void feed(int64_t time, int64_t key) {
        Row row = toRow(Event{time, key, 1, std::nullopt});
        RowBatch batch;
        batch.append(time).swap(row);
        chain.process(batch);
    }
    /// A committed checkpoint; returns the records it wrote.
    size_t checkpoint(MemoryLog& log) {
        size_t before = log.records.size();
        mark = checkpointer.write(chain, log, 0);
        checkpointer.committed();
        return log.records.size() - before;
    }
    CaptureSink sink;
    OperatorChain chain;
    TaskCheckpointer checkpointer;
    std::string mark;
};
} // namespace

TEST_CASE("a checkpoint writes only the slices changed since the previous one; fired slices expire without markers") {
    plan::Pipeline pipeline = makePipeline(plan::HOP, 4000, 1000, 0, 0, true);
    Task task(pipeline);
    MemoryLog log;
    for (int64_t key = 0; key < 50; ++key) task.feed(100, key);
    CHECK(task.checkpoint(log) == 50);  // the first checkpoint: every (key, slice)
    task.feed(1500, 3);
    task.feed(1600, 4);
    task.feed(1700, 4);
    CHECK(task.checkpoint(log) == 2);  // keys 3 and 4 in the slice [1000, 2000), not their older slice
    task.feed(200, 3);                 // out of order, into the first slice
    CHECK(task.checkpoint(log) == 1);
    CHECK(task.checkpoint(log) == 0);  // nothing changed
    CHECK(parseCheckpointMark(task.mark)->entries == 52);
    task.chain.advanceWatermark(3999);  // the last window holding [0, 1000) fires: its 50 entries expire
    CHECK(task.checkpoint(log) == 0);   // no erase markers: the mark's meta says they fired
    CHECK(parseCheckpointMark(task.mark)->entries == 2);
    CHECK(task.checkpoint(log) == 51);  // once that is committed, their records go (key 3's in both slots)
    log.compact();
    CHECK(log.records.size() == 2);

    // The compacted log restores the same state: the rest of the windows come out as from an uninterrupted run.
    Task restored(pipeline, 43);
    restored.checkpointer.restore(log.contents(), *parseCheckpointMark(task.mark), restored.chain);
    task.chain.finish();
    restored.chain.finish();
    CHECK(restored.sink.rows == std::vector<std::string>(task.sink.rows.end() - static_cast<long>(restored.sink.rows.size()), task.sink.rows.end()));
    CHECK(restored.sink.rows.size() == 2);  // keys 3 and 4 in the one window left, [1000, 5000)
}

TEST_CASE("checkpoint cost follows the slices that received rows, not the state (HOP 60 s / 1 s)") {
    plan::Pipeline pipeline = makePipeline(plan::HOP, 60000, 1000, 0, 0, true);
    Task task(pipeline);
    MemoryLog log;
    const int64_t keys = 20;
    size_t largest = 0;
    for (int64_t second = 0; second < 300; ++second) {
        for (int64_t key = 0; key < keys; ++key) task.feed(second * 1000 + key, key);
        task.chain.advanceWatermark(second * 1000);
        if (second % 10 == 9) {
            size_t written = task.checkpoint(log);
            if (second > 9) largest = std::max(largest, written);
        }
    }
    // Live state: 20 keys × 61 slices. A checkpoint every 10 s writes the 10 new slices of each key, and removes the
    // ~10 that expired by the one before.
    CHECK(parseCheckpointMark(task.mark)->entries >= static_cast<uint64_t>(keys * 60));
    CHECK(largest <= static_cast<size_t>(keys * 10 * 2));
    task.checkpoint(log);  // removes what the last one expired
    log.compact();
    CHECK(log.records.size() <= static_cast<size_t>(keys * 62));
}

TEST_CASE("sessions: a key whose sessions fired expires; rows again make it live again") {
    plan::Pipeline pipeline = makePipeline(plan::SESSION, 0, 0, 1000, 0, true);
    Task task(pipeline);
    MemoryLog log;
    task.feed(100, 1);
    task.feed(100, 2);
    CHECK(task.checkpoint(log) == 2);
    task.chain.advanceWatermark(5000);  // both sessions fire
    CHECK(task.checkpoint(log) == 0);
    CHECK(parseCheckpointMark(task.mark)->entries == 0);
    task.feed(6000, 1);                 // key 1 opens a new session before its records are removed
    CHECK(task.checkpoint(log) == 2);   // its new version, and key 2's one record removed (key 1's stay: live again)
    CHECK(parseCheckpointMark(task.mark)->entries == 1);
    Task restored(pipeline, 43);
    restored.checkpointer.restore(log.contents(), *parseCheckpointMark(task.mark), restored.chain);
    restored.chain.finish();
    task.chain.finish();
    REQUIRE(restored.sink.rows.size() == 1);
    CHECK(restored.sink.rows.back() == task.sink.rows.back());
}

namespace {
/// One row at time 100 for each of the keys 0-4.
void rowsForFiveKeys(OperatorChain& chain) {
    for (int64_t key = 0; key < 5; ++key) {
        Row row = toRow(Event{100, key, 1, std::nullopt});
        RowBatch batch;
        batch.append(100).swap(row);
        chain.process(batch);
    }
}
} // namespace

TEST_CASE("a checkpoint of another plan's state is refused; one missing entries is refused") {
    plan::Pipeline pipeline = makePipeline(plan::HOP, 4000, 1000, 0, 0, true);
    CaptureSink sink;
    OperatorChain chain(pipeline, sink);
    TaskCheckpointer checkpointer(7, stateFingerprint(pipeline), 42);
    MemoryLog log;
    rowsForFiveKeys(chain);
    auto mark = parseCheckpointMark(checkpointer.write(chain, log, 100));
    REQUIRE(mark.has_value());

    plan::Pipeline other = makePipeline(plan::HOP, 8000, 1000, 0, 0, true);  // another window size
    CHECK(stateFingerprint(other) != stateFingerprint(pipeline));
    OperatorChain otherChain(other, sink);
    TaskCheckpointer otherCheckpointer(7, stateFingerprint(other), 43);
    CHECK_THROWS_WITH_AS(otherCheckpointer.restore(log.contents(), *mark, otherChain),
                         doctest::Contains("state is incompatible"), std::runtime_error);

    plan::Pipeline sameState = pipeline;
    sameState.mutable_outputs()->RemoveLast();  // outputs are not state
    CHECK(stateFingerprint(sameState) == stateFingerprint(pipeline));

    CheckpointMark older = *mark;
    older.format = 1;  // the changelog format before per-slice entries
    OperatorChain olderChain(pipeline, sink);
    TaskCheckpointer olderCheckpointer(7, stateFingerprint(pipeline), 45);
    CHECK_THROWS_WITH_AS(olderCheckpointer.restore(log.contents(), older, olderChain), doctest::Contains("changelog format 1"),
                         std::runtime_error);
    auto parsedOlder = parseCheckpointMark("pipec-checkpoint=1;w=0000000000000abc;n=5;f=00ff;e=3;t=-;m=");
    REQUIRE(parsedOlder.has_value());
    CHECK(parsedOlder->format == 1);  // a mark without `v`

    log.records.erase(log.records.begin());  // a record lost (retention)
    OperatorChain fresh(pipeline, sink);
    TaskCheckpointer restorer(7, stateFingerprint(pipeline), 44);
    CHECK_THROWS_WITH_AS(restorer.restore(log.contents(), *mark, fresh), doctest::Contains("holds 4 of the 5"), std::runtime_error);
}

TEST_CASE("a restored task keeps the restored writer's records until its own first checkpoint is committed") {
    plan::Pipeline pipeline = makePipeline(plan::HOP, 4000, 1000, 0, 0, true);
    CaptureSink sink;
    MemoryLog log;
    OperatorChain chain(pipeline, sink);
    TaskCheckpointer first(7, stateFingerprint(pipeline), 42);
    rowsForFiveKeys(chain);
    auto mark = parseCheckpointMark(first.write(chain, log, 100));
    REQUIRE(mark.has_value());
    first.committed();

    // The next owner restores, is told its (re-sent) restored mark is committed, writes its first checkpoint, and dies
    // before committing it.
    OperatorChain second(pipeline, sink);
    TaskCheckpointer secondCheckpointer(7, stateFingerprint(pipeline), 43);
    secondCheckpointer.restore(log.contents(), *mark, second);
    secondCheckpointer.committed();
    secondCheckpointer.write(second, log, 100);
    size_t tombstones = 0;
    for (const auto& record : log.records) tombstones += record.value ? 0 : 1;
    CHECK(tombstones == 0);

    // The owner after it restores the committed checkpoint, still whole.
    OperatorChain third(pipeline, sink);
    TaskCheckpointer thirdCheckpointer(7, stateFingerprint(pipeline), 44);
    log.compact();
    CHECK_NOTHROW(thirdCheckpointer.restore(log.contents(), *mark, third));
}

TEST_CASE("the compaction key: one record per (partition, writer, slot, operator, slice, GROUP BY key)") {
    ChangelogKey key{12, 0x1234567890abcdefULL, 1, std::string("\x01\x00k", 3)};
    auto decoded = decodeChangelogKey(encodeChangelogKey(key));
    REQUIRE(decoded.has_value());
    CHECK(decoded->partition == 12);
    CHECK(decoded->writer == key.writer);
    CHECK(decoded->slot == 1);
    CHECK(decoded->entry == key.entry);
    // The same (partition, writer, slot, entry) always encodes alike, anything else differs.
    CHECK(encodeChangelogKey(key) == encodeChangelogKey(ChangelogKey{12, key.writer, 1, key.entry}));
    CHECK(encodeChangelogKey(key) != encodeChangelogKey(ChangelogKey{13, key.writer, 1, key.entry}));
    CHECK(encodeChangelogKey(key) != encodeChangelogKey(ChangelogKey{12, key.writer, 0, key.entry}));
    CHECK(encodeChangelogKey(key) != encodeChangelogKey(ChangelogKey{12, key.writer + 1, 1, key.entry}));
    CHECK_FALSE(decodeChangelogKey("short").has_value());

    // A window's entries: its position in the chain, the slice start, the GROUP BY key. Key 1 in two slices and key 2
    // in one make three entries; rewriting a slice of a key writes the same entry (the other slot), and the one after
    // it the first slot again, so compaction keeps at most two records per entry.
    plan::Pipeline pipeline = makePipeline(plan::HOP, 4000, 1000, 0, 0, true);
    Task task(pipeline);
    MemoryLog log;
    task.feed(100, 1);
    task.feed(1100, 1);
    task.feed(200, 2);
    REQUIRE(task.checkpoint(log) == 3);
    std::set<std::string> entries;
    for (const auto& record : log.records) {
        auto parsed = decodeChangelogKey(record.key);
        REQUIRE(parsed.has_value());
        CHECK(parsed->partition == 7);
        CHECK(parsed->writer == 42);
        CHECK(parsed->slot == 0);
        REQUIRE(parsed->entry.size() > 9);
        CHECK(parsed->entry[0] == 0);  // the window is the chain's first operator (no WHERE)
        entries.insert(parsed->entry);
    }
    CHECK(entries.size() == 3);
    std::string firstSliceOfKey2 = log.records[1].key;  // records in order of slice, then of key arrival
    task.feed(300, 2);
    REQUIRE(task.checkpoint(log) == 1);
    CHECK(decodeChangelogKey(log.records.back().key)->entry == decodeChangelogKey(firstSliceOfKey2)->entry);
    CHECK(decodeChangelogKey(log.records.back().key)->slot == 1);
    task.feed(400, 2);
    REQUIRE(task.checkpoint(log) == 1);
    CHECK(log.records.back().key == firstSliceOfKey2);
    log.compact();
    CHECK(log.records.size() == 4);

    ChangelogValue value{99, "state"};
    auto decodedValue = decodeChangelogValue(encodeChangelogValue(value));
    REQUIRE(decodedValue.has_value());
    CHECK(decodedValue->sequence == 99);
    CHECK(decodedValue->state == "state");
    CHECK_FALSE(decodeChangelogValue("").has_value());
    CHECK_FALSE(decodeChangelogValue(std::string(1, '\x01') + std::string(8, '\0')).has_value());  // format 1

    CheckpointMark mark{kChangelogFormat, 0xabcULL, 5, "00ff", 3, -1767225600000, std::string("\x00\x01\xff", 3), {}};
    auto parsed = parseCheckpointMark(formatCheckpointMark(mark));
    REQUIRE(parsed.has_value());
    CHECK(parsed->format == kChangelogFormat);
    CHECK(parsed->writer == 0xabc);
    CHECK(parsed->sequence == 5);
    CHECK(parsed->entries == 3);
    CHECK(parsed->maxEventTime == -1767225600000);
    CHECK(parsed->meta == mark.meta);
    CHECK(parsed->input.empty());
    // Stage 2 of an exchange carries its input state (which source offsets it applied) in the mark too.
    mark.input = std::string("\x07\x00;=", 4);
    parsed = parseCheckpointMark(formatCheckpointMark(mark));
    REQUIRE(parsed.has_value());
    CHECK(parsed->input == mark.input);
    CHECK(parsed->meta == mark.meta);
    CHECK_FALSE(parseCheckpointMark("pipec-watermark=5").has_value());
    CHECK_FALSE(parseCheckpointMark("pipec-checkpoint=1;w=zz").has_value());
    CHECK_FALSE(parseCheckpointMark("pipec-checkpoint=1;w=0000000000000abc;n=5").has_value());
    CHECK_FALSE(parseCheckpointMark("pipec-checkpoint=1;v=x;w=0000000000000abc;n=5;f=00ff;e=3;t=-;m=").has_value());
}

TEST_CASE("a chain may be held back below its next timer: the same rows as advancing it at every watermark") {
    // KafkaJob advances only the chains whose next timer the watermark reached, and gives the others the current
    // watermark before their next batch or checkpoint. Both must see the same output and the same late rows.
    std::mt19937 random(11);
    struct Shape {
        plan::WindowKind kind;
        int64_t size, slide, gap;
        bool invertible;
    };
    const Shape shapes[] = {{plan::HOP, 6000, 1500, 0, false}, {plan::HOP, 4000, 1000, 0, true}, {plan::TUMBLE, 2000, 2000, 0, true},
                            {plan::SESSION, 0, 0, 1500, false}, {plan::SESSION, 0, 0, 3000, true},
                            {plan::CUMULATE, 4000, 1000, 0, false}};
    for (const Shape& shape : shapes) {
        for (int round = 0; round < 20; ++round) {
            CAPTURE(round);
            int64_t delay = std::vector<int64_t>{0, 500, 2000}[random() % 3];
            plan::Pipeline pipeline = makePipeline(shape.kind, shape.size, shape.slide, shape.gap, delay, shape.invertible);
            auto events = randomEvents(random, 200 + random() % 300);
            CaptureSink eagerSink;
            CaptureSink lazySink;
            OperatorChain eager(pipeline, eagerSink);
            OperatorChain lazy(pipeline, lazySink);
            int64_t watermark = INT64_MIN;
            std::optional<int64_t> maxTime;
            size_t heldBack = 0;
            for (const auto& event : events) {
                lazy.advanceWatermark(watermark);  // the current watermark before its batch
                for (OperatorChain* chain : {&eager, &lazy}) {
                    Row row = toRow(event);
                    RowBatch batch;
                    batch.append(event.time).swap(row);
                    chain->process(batch);
                }
                if (maxTime && event.time <= *maxTime) continue;
                maxTime = event.time;
                watermark = event.time - delay;
                // Below its next timer, advancing emits nothing.
                const bool due = eager.nextTimer() <= watermark;
                size_t rows = eagerSink.rows.size();
                eager.advanceWatermark(watermark);
                if (!due) CHECK(eagerSink.rows.size() == rows);
                if (lazy.nextTimer() <= watermark) lazy.advanceWatermark(watermark);
                else ++heldBack;
            }
            CHECK(heldBack > 0);
            eager.finish();
            lazy.finish();
            CHECK(lazySink.rows == eagerSink.rows);
            CHECK(lazy.stats().lateRowsDropped == eager.stats().lateRowsDropped);
        }
    }
}
