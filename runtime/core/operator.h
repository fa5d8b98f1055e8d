#pragma once

#include "runtime/core/value.h"
#include "runtime/state/state_buffer.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::runtime {

/// Rows moving between operators, a batch at a time. `times[i]` is row i's timestamp: the event time for source rows,
/// the window's end − 1 for window results (as Flink stamps window output). Only the first `size` entries are valid;
/// the vectors keep their capacity, and the rows their strings, across batches (a batch is refilled, not rebuilt).
struct RowBatch {
    std::vector<Row> rows;
    std::vector<int64_t> times;
    size_t size = 0;

    /// The next row to fill, stamped with `time` (a reused row: every column must be set).
    Row& append(int64_t time) {
        if (size == rows.size()) [[unlikely]] grow();
        times[size] = time;
        return rows[size++];
    }
    /// Takes the last appended row back (it was rejected after all).
    void dropLast() { --size; }
    void clear() { size = 0; }
    bool empty() const { return size == 0; }

private:
    // Out of line, so that append's common case (a row to reuse) is inlined where rows are appended one at a time.
    [[gnu::noinline]] void grow() {
        rows.emplace_back();
        times.push_back(0);
    }
};

/// Where an operator sends what it produces: the next operator of its chain, or the sink at the chain's end.
class Collector {
public:
    virtual ~Collector() = default;
    virtual void collect(RowBatch& batch) = 0;
};

/// Receives the keyed state an operator checkpoints: one entry per key (a window's key is a GROUP BY key and a slice,
/// or a GROUP BY key for sessions), written so that compaction of a changelog keeps only the newest entry of each key
/// (see docs/checkpoints.md).
class KeyedStateSink {
public:
    virtual ~KeyedStateSink() = default;
    /// The entry's whole state as of now.
    virtual void put(std::string_view key, std::string_view state) = 0;
    /// The entry's state is gone, as the operator's meta of this checkpoint records (its windows fired): any version of
    /// the entry a restore may find is dropped by restoreKey after that meta, so no erase marker is needed, and the
    /// entry's records are removed once this checkpoint is committed. Operators whose state could disappear otherwise
    /// would need erase markers, which the changelog format does not have.
    virtual void expire(std::string_view key) = 0;
};

/// One step of a task's pipeline, after Flink's StreamOperator and Arroyo's ArrowOperator: rows come in batches,
/// watermarks come between batches, and state is checkpointed as a small operator-wide part (`writeMeta`) plus
/// keyed entries, of which a checkpoint writes only those changed since the previous one (for a HOP or TUMBLE window,
/// one entry per GROUP BY key and slice: a checkpoint's cost follows the slices that received rows, not the state).
///
/// The watermark an operator receives never goes back; an operator that was restored ahead of it ignores the lower
/// ones (its windows up to its restored watermark fired before the checkpoint).
class Operator {
public:
    virtual ~Operator() = default;
    virtual std::string_view name() const = 0;

    /// Processes the batch, handing what it produces to `out`. May reorder, compact or overwrite the batch's rows.
    virtual void processBatch(RowBatch& batch, Collector& out) = 0;
    /// The watermark reached `watermark`: emit what it completes. INT64_MAX: the end of a bounded input.
    virtual void onWatermark(int64_t watermark, Collector& out) {
        (void)watermark;
        (void)out;
    }
    /// The lowest watermark at which onWatermark may emit or change state (the end − 1 of its first window not fired,
    /// for instance); INT64_MAX when nothing waits on the watermark. It may be lower than needed, never higher: a
    /// caller may then hold back watermarks below it, but must give the operator the current one before its next batch
    /// and before a checkpoint (its late checks and its meta use it).
    virtual int64_t nextTimer() const { return std::numeric_limits<int64_t>::max(); }
    /// True when no row with an event time ≤ `time` can change this operator's output any more.
    virtual bool finalUpTo(int64_t time) const {
        (void)time;
        return true;
    }

    /// Operator-wide state (its watermark, what has fired), small: written whole with every checkpoint.
    virtual void writeMeta(StateWriter& writer) const { (void)writer; }
    virtual void readMeta(StateReader& reader) { (void)reader; }
    /// Keyed state. `all`: every entry that has state (a first checkpoint); otherwise the entries changed since the
    /// previous call, and `expire` for entries whose state is gone. Each call starts a new change set.
    virtual void writeKeyedState(KeyedStateSink& out, bool all) {
        (void)out;
        (void)all;
    }
    /// One entry written by writeKeyedState, after readMeta. Returns true when the entry holds live state, false when
    /// the restored meta says it expired since it was written (it is then dropped). A checkpoint's live entries are
    /// those put and not expired since, so restores count them against the checkpoint's. Throws
    /// std::runtime_error on corrupt input.
    virtual bool restoreKey(std::string_view key, std::string_view state) {
        (void)key;
        (void)state;
        return false;
    }
    /// Every entry was given: rebuild derived structures, drop what the restored watermark already fired.
    virtual void restoreFinished() {}

    /// Whole-state snapshot and restore (offline tools and tests): meta, then every key.
    virtual void snapshot(StateWriter& writer) const { writeMeta(writer); }
    virtual void restore(StateReader& reader) { readMeta(reader); }
};

} // namespace pipec::runtime
