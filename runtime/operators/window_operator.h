#pragma once

#include "runtime/core/expression.h"
#include "runtime/core/operator.h"
#include "runtime/core/value.h"
#include "runtime/operators/window_accumulator.h"
#include "runtime/state/group_key_table.h"
#include "runtime/state/state_buffer.h"

#include <pipec/plan.pb.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace pipec::runtime {

/// What happened to a row given to a window operator.
enum class WindowAdd { Added, Late, NoWindow };

/// An event-time window aggregation. Output rows are [group keys..., aggregates..., window_start, window_end].
class WindowOperator {
public:
    using Emit = std::function<void(Row&)>;
    virtual ~WindowOperator() = default;
    /// Adds a row with event time `time`; `watermark` is the watermark before this row. A row is late for a window
    /// that has already fired (window end − 1 ≤ watermark).
    virtual WindowAdd add(const Row& row, int64_t time, int64_t watermark) = 0;
    /// Fires, emits and purges every window with end − 1 ≤ `watermark`, in order of window end, then start, then key.
    /// The emitted row is the callee's to keep (it may swap it out): the operator builds every column of it afresh
    /// for each result.
    virtual void fire(int64_t watermark, const Emit& emit) = 0;
    virtual void write(StateWriter& writer) const = 0;
    virtual void read(StateReader& reader) = 0;
    /// True once every window a row with event time `time` could contribute to has fired, so its effect on the
    /// output is final (Operator::finalUpTo).
    virtual bool complete(int64_t time, int64_t watermark) const = 0;
    /// The lowest watermark at which fire() may emit or change state (see Operator::nextTimer).
    virtual int64_t nextTimer() const = 0;
    /// The group keys this operator has seen (never shrinks).
    virtual GroupKeyTable& groupKeys() = 0;
    /// Every window with end − 1 ≤ this has fired (INT64_MIN: none).
    virtual int64_t firedUpTo() const = 0;

    /// Incremental checkpoints (see Operator): the operator-wide part is what has fired. HOP and TUMBLE write one entry
    /// per (slice, GROUP BY key) holding that key's part of the slice; SESSION one entry per key holding its open
    /// sessions. `all`: every entry with state; else the entries changed since the previous call, and `expire` for
    /// each checkpointed entry whose state fired since (the meta says so: no marker is needed).
    virtual void writeMeta(StateWriter& writer) const = 0;
    virtual void readMeta(StateReader& reader) = 0;
    virtual void writeKeyedState(KeyedStateSink& out, bool all) = 0;
    /// Restores one entry (after readMeta); parts that already fired by the restored watermark are dropped. False when
    /// nothing of it is live.
    virtual bool restoreKey(std::string_view key, std::string_view state) = 0;
    virtual void restoreFinished() = 0;

    static std::unique_ptr<WindowOperator> create(const plan::WindowAggregate& window);
};

/// Floor division for a positive divisor (window arithmetic aligned to the epoch, also before 1970).
inline int64_t floorDivide(int64_t value, int64_t divisor) {
    int64_t quotient = value / divisor;
    return (value % divisor != 0 && ((value < 0) != (divisor < 0))) ? quotient - 1 : quotient;
}

} // namespace pipec::runtime
