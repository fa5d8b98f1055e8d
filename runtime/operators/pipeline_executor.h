#pragma once

#include "runtime/core/row_sink.h"
#include "runtime/operators/operator_chain.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pipec::runtime {

/// Event times must lie strictly within ±2^60 ms (about ±36 million years), so window arithmetic cannot overflow.
inline constexpr int64_t kEventTimeLimit = int64_t{1} << 60;

struct PipelineStats {
    uint64_t rowsIn = 0;
    uint64_t rowsFiltered = 0;
    uint64_t lateRowsDropped = 0;   // rows whose every window had already fired (as Flink counts them)
    uint64_t rowsOutOfRange = 0;    // event times beyond ±2^60 ms (about ±36 million years), dropped
    uint64_t rowsOut = 0;
    uint64_t windowsFired = 0;      // emitted (key, window) results before HAVING
    int64_t watermark = INT64_MIN;
};

/// Runs one plan::Pipeline over a single ordered stream of decoded source rows (row[0] = `_time`, then
/// Source::columns[1..]), one row at a time, with the watermark of a replay: max(event time) − delay, moved after
/// each row (before the filter, so filtered rows still move time forward). Offline replays, `pipec test` and the
/// benchmarks use it; the Kafka runtime drives one OperatorChain per partition instead (runtime/kafka/).
class PipelineExecutor {
public:
    /// Opens `sink` with the plan's output columns.
    PipelineExecutor(const plan::Pipeline& plan, RowSink& sink);
    ~PipelineExecutor();

    /// One source row (its values may be swapped out: the caller refills every column for the next one).
    void process(Row& row);
    /// For callers that track watermarks themselves: rows no longer move it, advanceWatermark does.
    void setExternalWatermark(bool external) { external_ = external; }
    void advanceWatermark(int64_t watermark);
    /// End of a bounded input: the watermark jumps to +∞ and every open window fires.
    void finish();

    /// All operator state (watermark, windows, keys) as bytes, and back into an executor built from the same plan.
    /// restore() throws std::runtime_error on corrupt input.
    std::string snapshot() const;
    void restore(std::string_view bytes);

    PipelineStats stats() const;
    /// True when a source row with this event time can no longer change the output: every window it belongs to has
    /// fired (always true without a window). Monotone in `time`.
    bool complete(int64_t time) const { return chain_.finalUpTo(time); }
    int64_t maxEventTime() const { return maxEventTime_; }
    OperatorChain& chain() { return chain_; }

private:
    std::string jobName_;
    OperatorChain chain_;
    RowBatch batch_;
    int64_t delay_ = 0;
    int64_t maxEventTime_ = INT64_MIN;
    bool external_ = false;
    uint64_t rowsOutOfRange_ = 0;
};

} // namespace pipec::runtime
