// The changelog protocol of one Kafka task, without Kafka: random streams through a task's operator chain with
// checkpoints at random points and crashes at every step of a checkpoint (mid-write, written but not committed,
// committed), restored by a new incarnation from the log as a compacting broker keeps it. The features must come out
// as from one uninterrupted run; only rows of windows fired since the last committed checkpoint may repeat.
#include "runtime/kafka/changelog.h"
#include "runtime/operators/operator_chain.h"
#include "tests/unit/runtime_window/window_test_support.h"

#include <doctest/doctest.h>

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
        if (!crashed) break;
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

void checkCrashes(plan::WindowKind kind, int64_t size, int64_t slide, int64_t gap, bool invertibleOnly, uint32_t seed) {
    std::mt19937 random(seed);
    int restores = 0;
    size_t duplicates = 0;
    size_t rows = 0;
    size_t maxRecordsPerEntry = 0;
    for (int round = 0; round < 40; ++round) {
        CAPTURE(round);
        int64_t delay = std::vector<int64_t>{0, 500, 2000}[random() % 3];
        plan::Pipeline pipeline = makePipeline(kind, size, slide, gap, delay, invertibleOnly);
        auto events = randomEvents(random, 300 + random() % 300);
        auto expected = finishRun(pipeline, events);
        auto actual = runWithCrashes(pipeline, events, random, restores, maxRecordsPerEntry);
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

TEST_CASE("checkpoint, crash at any step, restore: SESSION") {
    checkCrashes(plan::SESSION, 0, 0, 1500, false, 5);
    checkCrashes(plan::SESSION, 0, 0, 4000, true, 6);
}

TEST_CASE("a checkpoint writes only the entries changed since the previous one, and erases emptied ones") {
    plan::Pipeline pipeline = makePipeline(plan::TUMBLE, 1000, 1000, 0, 0, true);
    CaptureSink sink;
    OperatorChain chain(pipeline, sink);
    TaskCheckpointer checkpointer(7, stateFingerprint(pipeline), 42);
    MemoryLog log;
    auto feed = [&](int64_t time, int64_t key) {
        Row row = toRow(Event{time, key, 1, std::nullopt});
        RowBatch batch;
        batch.append(time).swap(row);
        chain.process(batch);
    };
    for (int64_t key = 0; key < 50; ++key) feed(100, key);
    checkpointer.write(chain, log, 100);
    checkpointer.committed();
    CHECK(log.records.size() == 50);  // the first checkpoint: every key
    feed(200, 3);
    feed(300, 4);
    size_t before = log.records.size();
    checkpointer.write(chain, log, 300);
    checkpointer.committed();
    CHECK(log.records.size() - before == 2);  // only the two keys that changed
    chain.advanceWatermark(999);              // the window fires: every key's state is gone
    before = log.records.size();
    std::string mark = checkpointer.write(chain, log, 300);
    checkpointer.committed();
    CHECK(log.records.size() - before == 50);  // one erase marker each
    CHECK(parseCheckpointMark(mark)->entries == 0);
    before = log.records.size();
    checkpointer.write(chain, log, 300);  // the next one removes both slots of each erased entry
    CHECK(log.records.size() - before == 100);
    log.compact();
    CHECK(log.records.empty());
}

TEST_CASE("a checkpoint of another plan's state is refused; one missing entries is refused") {
    plan::Pipeline pipeline = makePipeline(plan::HOP, 4000, 1000, 0, 0, true);
    CaptureSink sink;
    OperatorChain chain(pipeline, sink);
    TaskCheckpointer checkpointer(7, stateFingerprint(pipeline), 42);
    MemoryLog log;
    for (int64_t key = 0; key < 5; ++key) {
        Row row = toRow(Event{100, key, 1, std::nullopt});
        RowBatch batch;
        batch.append(100).swap(row);
        chain.process(batch);
    }
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

    log.records.erase(log.records.begin());  // a record lost (retention)
    OperatorChain fresh(pipeline, sink);
    TaskCheckpointer restorer(7, stateFingerprint(pipeline), 44);
    CHECK_THROWS_WITH_AS(restorer.restore(log.contents(), *mark, fresh), doctest::Contains("holds 4 of the 5"), std::runtime_error);
}

TEST_CASE("changelog keys, values and checkpoint marks round-trip; garbage is not taken for them") {
    ChangelogKey key{12, 0x1234567890abcdefULL, 1, std::string("\x01\x00k", 3)};
    auto decoded = decodeChangelogKey(encodeChangelogKey(key));
    REQUIRE(decoded.has_value());
    CHECK(decoded->partition == 12);
    CHECK(decoded->writer == key.writer);
    CHECK(decoded->slot == 1);
    CHECK(decoded->entry == key.entry);
    // The compaction key: the same (partition, writer, slot, entry) always encodes alike, anything else differs.
    CHECK(encodeChangelogKey(key) == encodeChangelogKey(ChangelogKey{12, key.writer, 1, key.entry}));
    CHECK(encodeChangelogKey(key) != encodeChangelogKey(ChangelogKey{13, key.writer, 1, key.entry}));
    CHECK(encodeChangelogKey(key) != encodeChangelogKey(ChangelogKey{12, key.writer, 0, key.entry}));
    CHECK_FALSE(decodeChangelogKey("short").has_value());

    ChangelogValue value{99, false, "state"};
    auto decodedValue = decodeChangelogValue(encodeChangelogValue(value));
    REQUIRE(decodedValue.has_value());
    CHECK(decodedValue->sequence == 99);
    CHECK(decodedValue->state == "state");
    CHECK_FALSE(decodeChangelogValue("").has_value());

    CheckpointMark mark{0xabcULL, 5, "00ff", 3, -1767225600000, std::string("\x00\x01\xff", 3), {}};
    auto parsed = parseCheckpointMark(formatCheckpointMark(mark));
    REQUIRE(parsed.has_value());
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
}
