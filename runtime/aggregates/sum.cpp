// SUM(x): the sum of the non-NULL values in the argument's type, NULL over none. Integer sums wrap around as Java's
// do in Flink.
#include "runtime/aggregates/sum_count.h"

namespace pipec::runtime {

namespace {

class Sum final : public aggregates::SumCount {
public:
    using SumCount::SumCount;

    Value result(const Accumulator& accumulator) const override {
        if (accumulator.count == 0) return Value::null();
        if (floating_) {
            double sum = setup().resultType == plan::FLOAT ? static_cast<double>(static_cast<float>(accumulator.d)) : accumulator.d;
            return Value::ofDouble(sum);
        }
        return Value::ofInt(aggregates::wrapTo(setup().resultType, accumulator.i));
    }
};

std::unique_ptr<AggregateKernel> create(const AggregateSetup& setup) { return std::make_unique<Sum>(setup); }

} // namespace

const AggregateDefinition kSumAggregate{
    .planFunction = plan::SUM, .sqlName = "SUM", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::numericSameType, .distinct = DistinctUse::Applies, .filter = true, .mergeable = true,
    .flinkName = "SUM", .signature = "SUM([DISTINCT] x)", .create = create};

} // namespace pipec::runtime
