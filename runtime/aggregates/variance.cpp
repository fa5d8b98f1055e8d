// VAR_POP, VAR_SAMP, STDDEV_POP, STDDEV_SAMP over a numeric argument; the result has the argument's type, as in
// Flink (whose planner rewrites them into SUM(x*x), SUM(x) and COUNT(x) computed in that type).
//
// - FLOAT/DOUBLE: Welford's running mean and sum of squared deviations (`d` = mean, `i` = M2 as double bits), merged
//   across slices and sessions with Chan et al.'s pairwise formula. Numerically stable, so pipec's result can differ
//   from Flink's textbook (Σx² − (Σx)²/n)/n in the last digits, and is never negative where Flink's can be.
// - INT/BIGINT: Flink's formula exactly, in 64-bit integer arithmetic (`i` = Σx, `d` = Σx² as integer bits):
//   (Σx² − (Σx)²/n) / n (VAR_SAMP: / (n − 1)), each division truncating; STDDEV is the square root truncated. Exact
//   and invertible (a window subtracts the slices leaving it). Flink computes in the argument's type, so over INT
//   its intermediate sums wrap at 2³¹ where pipec's wrap at 2⁶³.
// NULL over no values; the sample forms are NULL over one value.
#include "runtime/aggregates/aggregate.h"

#include <cmath>

namespace pipec::runtime {

namespace {

template <bool Sample, bool Root>
class Variance final : public AggregateKernel {
public:
    explicit Variance(const AggregateSetup& setup)
        : AggregateKernel(setup, aggregates::isFloating(setup.argumentType) ? &foldFloating : &foldInteger),
          floating_(aggregates::isFloating(setup.argumentType)) {}

    static void foldFloating(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t, uint64_t) {
        ++accumulator.count;
        double delta = value.d - accumulator.d;
        accumulator.d += delta / static_cast<double>(accumulator.count);
        accumulator.setIAsDouble(accumulator.iAsDouble() + delta * (value.d - accumulator.d));
    }
    static void foldInteger(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t, uint64_t) {
        ++accumulator.count;
        accumulator.i = aggregates::wrappingAdd(accumulator.i, value.i);
        accumulator.setDAsInteger(aggregates::wrappingAdd(accumulator.dAsInteger(), aggregates::wrappingMultiply(value.i, value.i)));
    }

    void merge(Accumulator& into, const Accumulator& from) const override {
        if (from.count == 0) return;
        if (!floating_) {
            into.count += from.count;
            into.i = aggregates::wrappingAdd(into.i, from.i);
            into.setDAsInteger(aggregates::wrappingAdd(into.dAsInteger(), from.dAsInteger()));
            return;
        }
        if (into.count == 0) {
            into.count = from.count;
            into.d = from.d;
            into.i = from.i;
            return;
        }
        double a = static_cast<double>(into.count), b = static_cast<double>(from.count), n = a + b;
        double delta = from.d - into.d;
        into.setIAsDouble(into.iAsDouble() + from.iAsDouble() + delta * delta * a * b / n);
        into.d += delta * b / n;
        into.count += from.count;
    }
    bool invertible() const override { return !floating_; }
    void subtract(Accumulator& into, const Accumulator& part) const override {
        into.count -= part.count;
        into.i = aggregates::wrappingSubtract(into.i, part.i);
        into.setDAsInteger(aggregates::wrappingSubtract(into.dAsInteger(), part.dAsInteger()));
    }
    Value result(const Accumulator& accumulator) const override {
        int64_t n = accumulator.count;
        if (n == 0 || (Sample && n == 1)) return Value::null();
        if (floating_) {
            double variance = accumulator.iAsDouble() / static_cast<double>(Sample ? n - 1 : n);
            double value = Root ? std::sqrt(variance) : variance;
            if (setup().resultType == plan::FLOAT) value = static_cast<double>(static_cast<float>(value));
            return Value::ofDouble(value);
        }
        int64_t sum = accumulator.i;
        int64_t squares = accumulator.dAsInteger();
        int64_t difference = aggregates::wrappingSubtract(squares, aggregates::wrappingMultiply(sum, sum) / n);
        int64_t variance = difference / (Sample ? n - 1 : n);
        if (Root) {
            // CAST(POWER(var, 0.5) AS type): a negative variance (only after overflow) has no root; Java casts NaN to 0.
            double root = std::sqrt(static_cast<double>(variance));
            variance = std::isnan(root) ? 0 : static_cast<int64_t>(root);
        }
        return Value::ofInt(aggregates::wrapTo(setup().resultType, variance));
    }

private:
    bool floating_;
};

template <bool Sample, bool Root>
std::unique_ptr<AggregateKernel> create(const AggregateSetup& setup) {
    return std::make_unique<Variance<Sample, Root>>(setup);
}

} // namespace

const AggregateDefinition kStddevPopAggregate{
    .planFunction = plan::STDDEV_POP, .sqlName = "STDDEV_POP", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::numericSameType, .distinct = DistinctUse::Applies, .filter = true, .mergeable = true,
    .flinkName = "STDDEV_POP", .signature = "STDDEV_POP([DISTINCT] x)", .create = create<false, true>};

const AggregateDefinition kStddevSampAggregate{
    .planFunction = plan::STDDEV_SAMP, .sqlName = "STDDEV_SAMP", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::numericSameType, .distinct = DistinctUse::Applies, .filter = true, .mergeable = true,
    .flinkName = "STDDEV_SAMP", .signature = "STDDEV_SAMP([DISTINCT] x)", .create = create<true, true>};

const AggregateDefinition kVarPopAggregate{
    .planFunction = plan::VAR_POP, .sqlName = "VAR_POP", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::numericSameType, .distinct = DistinctUse::Applies, .filter = true, .mergeable = true,
    .flinkName = "VAR_POP", .signature = "VAR_POP([DISTINCT] x)", .create = create<false, false>};

const AggregateDefinition kVarSampAggregate{
    .planFunction = plan::VAR_SAMP, .sqlName = "VAR_SAMP", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::numericSameType, .distinct = DistinctUse::Applies, .filter = true, .mergeable = true,
    .flinkName = "VAR_SAMP", .signature = "VAR_SAMP([DISTINCT] x)", .create = create<true, false>};

} // namespace pipec::runtime
