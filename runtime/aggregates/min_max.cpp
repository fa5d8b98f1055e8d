// MIN(x) and MAX(x) over numbers, VARCHAR (byte order), TIMESTAMP and BOOLEAN; NULL over no values. DISTINCT is
// allowed and changes nothing. Not invertible: a window merges its slices.
#include "runtime/aggregates/aggregate.h"

namespace pipec::runtime {

namespace {

template <bool Minimum>
class Extremum final : public AggregateKernel {
public:
    explicit Extremum(const AggregateSetup& setup)
        : AggregateKernel(setup, aggregates::isText(setup.argumentType) ? &foldText
                                 : aggregates::isFloating(setup.argumentType) ? &foldFloating
                                                                              : &foldInteger),
          text_(aggregates::isText(setup.argumentType)), floating_(aggregates::isFloating(setup.argumentType)) {}

    template <typename T>
    static bool better(const T& candidate, const T& current) { return Minimum ? candidate < current : candidate > current; }

    static void foldInteger(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t, uint64_t) {
        if (accumulator.count == 0 || better(value.i, accumulator.i)) accumulator.i = value.i;
        ++accumulator.count;
    }
    static void foldFloating(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t, uint64_t) {
        if (accumulator.count == 0 || better(value.d, accumulator.d)) accumulator.d = value.d;
        ++accumulator.count;
    }
    static void foldText(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t, uint64_t) {
        if (accumulator.count == 0 || better(value.s, accumulator.text())) accumulator.mutableExtra().text = value.s;
        ++accumulator.count;
    }

    void merge(Accumulator& into, const Accumulator& from) const override {
        if (from.count == 0) return;
        bool take = into.count == 0 || (text_       ? better(from.text(), into.text())
                                        : floating_ ? better(from.d, into.d)
                                                    : better(from.i, into.i));
        if (take) {
            into.i = from.i;
            into.d = from.d;
            if (text_) into.mutableExtra().text = from.text();
        }
        into.count += from.count;
    }
    Value result(const Accumulator& accumulator) const override { return aggregates::keptValue(accumulator, text_); }

private:
    bool text_;
    bool floating_;
};

std::unique_ptr<AggregateKernel> createMin(const AggregateSetup& setup) { return std::make_unique<Extremum<true>>(setup); }
std::unique_ptr<AggregateKernel> createMax(const AggregateSetup& setup) { return std::make_unique<Extremum<false>>(setup); }

} // namespace

const AggregateDefinition kMinAggregate{
    .planFunction = plan::MIN, .sqlName = "MIN", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::comparableSameType, .distinct = DistinctUse::Redundant, .filter = true, .mergeable = true,
    .flinkName = "MIN", .signature = "MIN(x)", .create = createMin};

const AggregateDefinition kMaxAggregate{
    .planFunction = plan::MAX, .sqlName = "MAX", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::comparableSameType, .distinct = DistinctUse::Redundant, .filter = true, .mergeable = true,
    .flinkName = "MAX", .signature = "MAX(x)", .create = createMax};

} // namespace pipec::runtime
