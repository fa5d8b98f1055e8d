// AVG(x): the mean of the non-NULL values, NULL over none. Over an integer type the result keeps that type and
// truncates toward zero, as in Flink; over FLOAT/DOUBLE it is a DOUBLE division.
#include "runtime/aggregates/sum_count.h"

namespace pipec::runtime {

namespace {

class Avg final : public aggregates::SumCount {
public:
    using SumCount::SumCount;

    Value result(const Accumulator& accumulator) const override {
        if (accumulator.count == 0) return Value::null();
        if (floating_) return Value::ofDouble(accumulator.d / static_cast<double>(accumulator.count));
        return Value::ofInt(aggregates::wrapTo(setup().resultType, accumulator.i / accumulator.count));
    }
};

std::unique_ptr<AggregateKernel> create(const AggregateSetup& setup) { return std::make_unique<Avg>(setup); }

} // namespace

const AggregateDefinition kAvgAggregate{
    .planFunction = plan::AVG, .sqlName = "AVG", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::numericSameType, .distinct = DistinctUse::Applies, .filter = true, .mergeable = true,
    .flinkName = "AVG", .signature = "AVG([DISTINCT] x)", .create = create};

} // namespace pipec::runtime
