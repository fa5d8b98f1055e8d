#pragma once

#include "runtime/core/expression.h"
#include "runtime/core/row_sink.h"
#include "runtime/operators/window_operator.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// Runs one plan::Pipeline over decoded source rows (row[0] = `_time`, then Source::columns[1..]):
/// watermark → filter → window aggregate (or projection) → HAVING → outputs → sink.
class PipelineExecutor {
public:
    PipelineExecutor(const plan::Pipeline& plan, RowSink& sink);
    ~PipelineExecutor();

    /// One source row. Unless the watermark is external, the watermark becomes max(event time) − delay after the
    /// row (before the filter, so filtered rows still move time forward); windows it completes fire into the sink.
    void process(Row& row, int32_t origin = -1);
    /// Drops the open window state of keys whose rows came from these origins (revoked Kafka partitions).
    void discardOrigins(const std::function<bool(int32_t origin)>& drop);
    /// For sources that track watermarks themselves (Kafka: the minimum over partitions).
    void setExternalWatermark(bool external) { external_ = external; }
    void advanceWatermark(int64_t watermark);
    /// End of a bounded input: the watermark jumps to +∞ and every open window fires.
    void finish();

    /// All operator state (watermark, windows, keys, stats) as bytes, and back into an executor built from the
    /// same plan. restore() throws std::runtime_error on corrupt input.
    std::string snapshot() const;
    void restore(std::string_view bytes);

    const PipelineStats& stats() const { return stats_; }
    /// True when a source row with this event time can no longer change the output: every window it belongs to has
    /// fired (always true without a window). Monotone in `time`.
    bool complete(int64_t time) const { return !window_ || window_->complete(time, stats_.watermark); }
    /// The lowest watermark at which the rows a restart reads again from the commit position are all accepted for the
    /// windows open now (the watermark itself, except for open sessions).
    int64_t resumeFloor() const { return window_ ? window_->resumeFloor(stats_.watermark) : stats_.watermark; }
    /// Windows ending at or before `watermark` + 1 are not emitted (someone else already emitted them).
    void suppressUpTo(int64_t watermark) { suppressUpTo_ = watermark; }
    /// The event-time granularity at which completeness can change (slide, or gap), for bookkeeping in buckets.
    int64_t completionGranularity() const;
    int64_t maxEventTime() const { return maxEventTime_; }

private:
    void emitAggregate(Row& row);
    void writeOutput(const Row& input);

    plan::Pipeline plan_;
    RowSink& sink_;
    std::vector<CompiledExpression> filters_;
    std::vector<CompiledExpression> outputs_;
    std::vector<int> outputColumns_;  // the input column an output copies, or -1 when it is computed
    std::optional<CompiledExpression> having_;
    std::unique_ptr<WindowOperator> window_;
    WindowOperator::Emit emit_;
    int64_t delay_ = 0;
    int64_t maxEventTime_ = INT64_MIN;
    bool external_ = false;
    int64_t suppressUpTo_ = INT64_MIN;
    PipelineStats stats_;
    Row output_;
};

} // namespace pipec::runtime
