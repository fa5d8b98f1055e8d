#pragma once

#include "runtime/aggregates/aggregate.h"

namespace pipec::runtime::aggregates {

/// The state SUM and AVG share: the count of values, and their sum in `i` (integers, wrapping as Java's do) or `d`
/// (FLOAT/DOUBLE). Integer sums are invertible; floating-point sums are not (their rounding depends on the order).
class SumCount : public AggregateKernel {
public:
    explicit SumCount(const AggregateSetup& setup)
        : AggregateKernel(setup, isFloating(setup.argumentType) ? &foldFloating : &foldInteger), floating_(isFloating(setup.argumentType)) {}

    static void foldInteger(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t, uint64_t) {
        ++accumulator.count;
        accumulator.i = wrappingAdd(accumulator.i, value.i);
    }
    static void foldFloating(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t, uint64_t) {
        ++accumulator.count;
        accumulator.d += value.d;
    }
    void merge(Accumulator& into, const Accumulator& from) const override {
        into.count += from.count;
        into.i = wrappingAdd(into.i, from.i);
        into.d += from.d;
    }
    bool invertible() const override { return !floating_; }
    void subtract(Accumulator& into, const Accumulator& part) const override {
        into.count -= part.count;
        into.i = wrappingSubtract(into.i, part.i);
    }

protected:
    bool floating_;
};

} // namespace pipec::runtime::aggregates
