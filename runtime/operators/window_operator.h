#pragma once

#include "runtime/core/expression.h"
#include "runtime/core/operator.h"
#include "runtime/core/value.h"
#include "runtime/operators/window_accumulator.h"
#include "runtime/state/state_buffer.h"

#include <pipec/plan.pb.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace pipec::runtime {

/// Maps group-key values to dense indexes in order of first arrival, which is also the emission order of keys
/// within a window.
class GroupKeyTable {
public:
    explicit GroupKeyTable(const plan::WindowAggregate& window);
    uint32_t lookup(const Row& row);
    const Row& values(uint32_t index) const { return values_[index]; }
    size_t size() const { return values_.size(); }
    void write(StateWriter& writer) const;
    void read(StateReader& reader);

    /// A key's values as checkpoint key bytes (stable across processes and plan-compatible versions).
    std::string encodeKey(uint32_t index) const;
    /// Adds the key `encodeKey` produced (restoring a checkpoint); throws std::runtime_error on corrupt or duplicate
    /// keys.
    uint32_t insertEncoded(std::string_view bytes);

    /// Change tracking for incremental checkpoints: keys whose state changed since the last checkpoint, and keys
    /// that have an entry in the checkpointed state (so that an emptied one is erased there).
    void markChanged(uint32_t index) {
        if (index >= changedBits_.size() * 64) changedBits_.resize(index / 64 + 1 + changedBits_.size(), 0);
        changedBits_[index / 64] |= uint64_t{1} << (index % 64);
    }
    bool changed(uint32_t index) const {
        return index < changedBits_.size() * 64 && (changedBits_[index / 64] >> (index % 64) & 1) != 0;
    }
    void clearChanged() { std::fill(changedBits_.begin(), changedBits_.end(), 0); }
    void setCheckpointed(uint32_t index, bool value) {
        if (checkpointed_.size() <= index) checkpointed_.resize(index + 1, false);
        checkpointed_[index] = value;
    }
    bool checkpointed(uint32_t index) const { return index < checkpointed_.size() && checkpointed_[index]; }

private:
    uint32_t insert(const Row& row);
    uint32_t lookupInteger(const Value& value, const Row& row);

    /// Fast path for the common single integer key read straight from a column: open addressing on the value.
    bool integerKey_ = false;
    std::vector<int64_t> slotKeys_;
    std::vector<uint32_t> slotIndexes_;  // index + 1; 0 = empty slot
    uint32_t nullIndex_ = 0;             // index + 1 of the NULL key
    std::vector<CompiledExpression> expressions_;
    std::vector<plan::TypeId> types_;
    std::vector<int> columns_;  // plain-column keys read the row directly
    std::unordered_map<std::string, uint32_t> indexes_;
    std::vector<Row> values_;
    std::vector<uint64_t> changedBits_;
    std::vector<bool> checkpointed_;
    std::string scratch_;
    Row keyScratch_;
};

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
    /// output is final (used to commit source offsets only for rows whose effects are durable).
    virtual bool complete(int64_t time, int64_t watermark) const = 0;
    /// The watermark at which rows read again from the commit position (see complete) are all still accepted for
    /// the windows open now: `watermark` itself for fixed windows, lower for sessions (a session still open can hold
    /// rows whose own [t, t + gap) is already below the watermark).
    virtual int64_t resumeFloor(int64_t watermark) const { return watermark; }
    /// Every window with end − 1 ≤ this has fired (INT64_MIN: none).
    virtual int64_t firedUpTo() const = 0;

    /// Incremental checkpoints (see Operator): the operator-wide part is what has fired; each key's entry holds its
    /// open slices or sessions. `all`: every key with state; else the keys changed since the previous call, and an
    /// erase for each checkpointed key whose state is gone.
    virtual void writeMeta(StateWriter& writer) const = 0;
    virtual void readMeta(StateReader& reader) = 0;
    virtual void writeKeyedState(KeyedStateSink& out, bool all) = 0;
    /// Restores one key's entry (after readMeta); parts that already fired by the restored watermark are dropped.
    virtual void restoreKey(std::string_view key, std::string_view state) = 0;
    virtual void restoreFinished() = 0;

    static std::unique_ptr<WindowOperator> create(const plan::WindowAggregate& window);
};

/// Floor division for a positive divisor (window arithmetic aligned to the epoch, also before 1970).
inline int64_t floorDivide(int64_t value, int64_t divisor) {
    int64_t quotient = value / divisor;
    return (value % divisor != 0 && ((value < 0) != (divisor < 0))) ? quotient - 1 : quotient;
}

} // namespace pipec::runtime
