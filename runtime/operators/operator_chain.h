#pragma once

#include "runtime/core/expression.h"
#include "runtime/core/operator.h"
#include "runtime/core/row_sink.h"
#include "runtime/operators/window_operator.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pipec::runtime {

/// WHERE (over source rows) or HAVING (over window results): keeps the rows every predicate accepts.
class FilterOperator : public Operator {
public:
    FilterOperator(std::string name, const google::protobuf::RepeatedPtrField<plan::Expr>& predicates);
    std::string_view name() const override { return name_; }
    void processBatch(RowBatch& batch, Collector& out) override;
    uint64_t rowsDropped() const { return dropped_; }

private:
    std::string name_;
    std::vector<CompiledExpression> predicates_;
    uint64_t dropped_ = 0;
};

/// The batches operators fill and hand on within one call, empty between calls: a window's fired results and a
/// projection's output. Each keeps the capacity of the largest firing it carried (up to 4096 result rows, ~1 MB), so
/// the chains of one owner that run one at a time on one thread share one set (see OperatorChain).
struct ChainBuffers {
    RowBatch windowResults;
    RowBatch projected;
};

/// A group-window aggregation (HOP, TUMBLE, SESSION) over source rows; results are
/// [group keys..., aggregates..., window_start, window_end], stamped window_end − 1.
class WindowAggregateOperator : public Operator {
public:
    /// `output`: where fired results are collected and handed on (empty between calls; may be shared).
    WindowAggregateOperator(const plan::WindowAggregate& window, RowBatch& output);
    WindowAggregateOperator(const WindowAggregateOperator&) = delete;  // emit_ points at this one
    WindowAggregateOperator& operator=(const WindowAggregateOperator&) = delete;
    std::string_view name() const override { return "window"; }
    void processBatch(RowBatch& batch, Collector& out) override;
    void onWatermark(int64_t watermark, Collector& out) override;
    bool finalUpTo(int64_t time) const override { return window_->complete(time, watermark_); }
    int64_t nextTimer() const override { return window_->nextTimer(); }
    void writeMeta(StateWriter& writer) const override;
    void readMeta(StateReader& reader) override;
    void writeKeyedState(KeyedStateSink& out, bool all) override { window_->writeKeyedState(out, all); }
    bool restoreKey(std::string_view key, std::string_view state) override { return window_->restoreKey(key, state); }
    void restoreFinished() override { window_->restoreFinished(); }
    void snapshot(StateWriter& writer) const override;
    void restore(StateReader& reader) override;

    int64_t watermark() const { return watermark_; }
    GroupKeyTable& groupKeys() { return window_->groupKeys(); }
    uint64_t lateRows() const { return late_; }
    uint64_t resultsEmitted() const { return emitted_; }

private:
    std::unique_ptr<WindowOperator> window_;
    int64_t watermark_ = std::numeric_limits<int64_t>::min();
    uint64_t late_ = 0;
    uint64_t emitted_ = 0;
    RowBatch& output_;
    WindowOperator::Emit emit_;  // fills output_, handing full batches to out_
    Collector* out_ = nullptr;   // the collector of the current onWatermark
};

/// The SELECT list: one output row per input row.
class ProjectOperator : public Operator {
public:
    /// `output`: where projected rows are built (empty between calls; may be shared).
    ProjectOperator(const google::protobuf::RepeatedPtrField<plan::Expr>& outputs, RowBatch& output);
    std::string_view name() const override { return "project"; }
    void processBatch(RowBatch& batch, Collector& out) override;

private:
    std::vector<CompiledExpression> outputs_;
    std::vector<int> copiedColumns_;  // the input column an output copies, or -1 when it is computed
    bool leadingColumns_ = false;     // output i is input column i, for every output
    RowBatch& output_;
};

/// Counters of one chain, summed over the chains of a job for its metrics.
struct ChainStats {
    uint64_t rowsIn = 0;
    uint64_t rowsFiltered = 0;
    uint64_t lateRowsDropped = 0;  // rows whose every window had already fired (as Flink counts them)
    uint64_t windowsFired = 0;     // emitted (key, window) results before HAVING
    uint64_t rowsOut = 0;
};

/// One task's pipeline, built from the plan: filter → window aggregate → having → project → sink (the stages the
/// plan has). Rows go in a batch at a time; watermarks go in between batches. The chain does not open the sink:
/// several chains (one per Kafka partition) may share one, which their owner opens once. Chains that never run at the
/// same time (a Kafka job's tasks, on its one thread) may share their ChainBuffers too: hundreds of chains that each
/// kept the batch of their largest firing held hundreds of MB after a bounded run fired every window at its end.
///
/// Checkpoints: `writeMeta` (the watermark, what fired) is small and written whole each time; keyed state is
/// written per entry (a window's GROUP BY key and slice), prefixed with the operator's position in the chain, only for
/// entries changed since the previous checkpoint.
class OperatorChain {
public:
    /// `shared`: buffers shared with other chains of the same thread (they must outlive the chain); nullptr: its own.
    OperatorChain(const plan::Pipeline& plan, RowSink& sink, ChainBuffers* shared = nullptr);
    ~OperatorChain();
    OperatorChain(const OperatorChain&) = delete;
    OperatorChain& operator=(const OperatorChain&) = delete;

    /// Source rows (row[0] = `_time` = batch.times[i]); the batch's rows may be overwritten.
    void process(RowBatch& batch);
    /// Moves the watermark forward (a lower one is ignored) and emits what it completes.
    void advanceWatermark(int64_t watermark);
    /// End of a bounded input: every open window fires.
    void finish() { advanceWatermark(std::numeric_limits<int64_t>::max()); }
    int64_t watermark() const { return watermark_; }
    /// The lowest watermark at which advanceWatermark may emit or change state (INT64_MAX: none). An owner of many
    /// chains may hold back watermarks below it, provided it gives the chain the current watermark before the chain
    /// processes rows and before it is checkpointed (see Operator::nextTimer).
    int64_t nextTimer() const;
    /// True when no source row with an event time ≤ `time` can change the output any more.
    bool finalUpTo(int64_t time) const;
    bool windowed() const { return window_ != nullptr; }
    /// The window's group keys (nullptr without a window).
    GroupKeyTable* groupKeys() { return window_ ? &window_->groupKeys() : nullptr; }
    ChainStats stats() const;
    /// stats().lateRowsDropped, without the rest.
    uint64_t lateRows() const { return window_ ? window_->lateRows() : 0; }

    void writeMeta(StateWriter& writer) const;
    void readMeta(StateReader& reader);
    void writeKeyedState(KeyedStateSink& out, bool all);
    /// An entry written by writeKeyedState (its key still carries the operator prefix); false when it expired (see
    /// Operator::restoreKey).
    bool restoreKey(std::string_view key, std::string_view state);
    void restoreFinished();
    /// Whole-state snapshot (offline tools, tests).
    void snapshot(StateWriter& writer) const;
    void restore(StateReader& reader);

    struct Link;

private:
    std::unique_ptr<ChainBuffers> ownBuffers_;  // without shared ones
    std::vector<std::unique_ptr<Operator>> operators_;
    std::vector<std::unique_ptr<Collector>> links_;  // links_[i] hands operator i's output on
    FilterOperator* where_ = nullptr;
    WindowAggregateOperator* window_ = nullptr;
    FilterOperator* having_ = nullptr;
    uint64_t rowsIn_ = 0;
    uint64_t* rowsOut_ = nullptr;  // counted by the sink link
    int64_t watermark_ = std::numeric_limits<int64_t>::min();
};

} // namespace pipec::runtime
