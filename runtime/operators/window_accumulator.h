#pragma once

#include "runtime/aggregates/aggregate.h"
#include "runtime/core/expression.h"
#include "runtime/core/value.h"
#include "runtime/state/state_buffer.h"
#include "runtime/state/value_encoding.h"

#include <pipec/plan.pb.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace pipec::runtime {

/// One aggregate call of a window operator, resolved once from the plan: the aggregate's kernel (from the aggregate
/// catalog, runtime/aggregates), and what every aggregate call shares — evaluating the argument, FILTER (WHERE …),
/// skipping NULL arguments and DISTINCT. The window operators keep one accumulator per key × slice (or session) and
/// call update per row, merge/subtract per window, result per fired window, write/read per checkpoint.
class AggregateFunction {
public:
    explicit AggregateFunction(const plan::Aggregate& aggregate);

    /// Folds the row (event time `time`) into the accumulator: NULL arguments are ignored, as in SQL, and so are
    /// rows the FILTER condition does not hold for.
    void update(Accumulator& accumulator, const Row& row, int64_t time) const {
        uint64_t arrival = ++arrivals_;
        if (hasFilter_ && !passes(row)) return;
        if (argumentColumn_ >= 0) {
            const Value& value = row[static_cast<size_t>(argumentColumn_)];
            if (value.isNull) return;
            if (distinct_) addDistinct(accumulator, value);
            else fold_(*kernel_, accumulator, value, time, arrival);
            return;
        }
        if (!hasArgument_) {
            fold_(*kernel_, accumulator, kRow, time, arrival);
            return;
        }
        Value value = argument_.evaluate(row);
        if (value.isNull) return;
        if (distinct_) addDistinct(accumulator, value);
        else fold_(*kernel_, accumulator, value, time, arrival);
    }
    void merge(Accumulator& into, const Accumulator& from) const;
    /// True when `subtract` can take a merged part back out exactly (see AggregateKernel::invertible; never for DISTINCT).
    bool invertible() const { return !distinct_ && kernel_->invertible(); }
    /// Removes a part previously merged into `into` (only for invertible aggregates).
    void subtract(Accumulator& into, const Accumulator& part) const { kernel_->subtract(into, part); }
    Value result(const Accumulator& accumulator) const;
    void reset(Accumulator& accumulator) const { kernel_->reset(accumulator); }

    void write(StateWriter& writer, const Accumulator& accumulator) const;
    void read(StateReader& reader, Accumulator& accumulator) const;

private:
    static const Value kRow;  // what COUNT(*) folds per row

    bool passes(const Row& row) const;
    void addDistinct(Accumulator& accumulator, const Value& value) const;

    std::shared_ptr<const AggregateKernel> kernel_;
    AggregateKernel::Fold fold_;
    bool distinct_;
    plan::TypeId argumentType_ = plan::TYPE_NULL;
    CompiledExpression argument_;
    bool hasArgument_ = false;
    int argumentColumn_ = -1;  // the argument is a plain column: read it without evaluating an expression
    bool hasFilter_ = false;
    CompiledExpression filter_;
    /// Rows seen, numbering arrivals for the order-sensitive aggregates (ties of event time go by arrival). Restored
    /// accumulators move it past their newest arrival, so rows after a restart still come after the restored ones.
    mutable uint64_t arrivals_ = 0;
};

} // namespace pipec::runtime
