// COUNT(*) and COUNT(x): rows, and non-NULL values (NULLs never reach the kernel). BIGINT, never NULL.
#include "runtime/aggregates/aggregate.h"

namespace pipec::runtime {

namespace {

class Count final : public AggregateKernel {
public:
    explicit Count(const AggregateSetup& setup) : AggregateKernel(setup, &fold) {}

    static void fold(const AggregateKernel&, Accumulator& accumulator, const Value&, int64_t, uint64_t) { ++accumulator.count; }
    void merge(Accumulator& into, const Accumulator& from) const override { into.count += from.count; }
    bool invertible() const override { return true; }
    void subtract(Accumulator& into, const Accumulator& part) const override { into.count -= part.count; }
    Value result(const Accumulator& accumulator) const override { return Value::ofInt(accumulator.count); }
};

std::unique_ptr<AggregateKernel> create(const AggregateSetup& setup) { return std::make_unique<Count>(setup); }

} // namespace

const AggregateDefinition kCountStarAggregate{
    .planFunction = plan::COUNT_STAR, .sqlName = "COUNT", .star = true, .minArguments = 0, .maxArguments = 0,
    .typeRule = aggregates::anyType, .distinct = DistinctUse::Refused, .filter = true, .mergeable = true,
    .flinkName = "COUNT", .signature = "COUNT(*)", .create = create};

const AggregateDefinition kCountAggregate{
    .planFunction = plan::COUNT, .sqlName = "COUNT", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::anyType, .distinct = DistinctUse::Applies, .filter = true, .mergeable = true,
    .flinkName = "COUNT", .signature = "COUNT([DISTINCT] x)", .create = create};

} // namespace pipec::runtime
