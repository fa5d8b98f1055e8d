#pragma once

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

/// What only text MIN/MAX and DISTINCT aggregates need, kept out of line so the common accumulator stays 32 bytes.
struct AccumulatorExtra {
    std::string text;                                   // MIN/MAX over VARCHAR
    std::unordered_map<std::string, int64_t> distinct;  // DISTINCT: encoded value → multiplicity
};

/// The running state of one aggregate over one group (a slice, a window or a session).
/// `count` counts the values folded in (rows for COUNT(*)); `i`/`d` hold the sum or the current MIN/MAX.
/// DISTINCT aggregates keep the distinct values with their multiplicities instead, so slices can be merged.
struct Accumulator {
    int64_t count = 0;
    int64_t i = 0;
    double d = 0;
    std::unique_ptr<AccumulatorExtra> extra;

    AccumulatorExtra& mutableExtra() {
        if (!extra) extra = std::make_unique<AccumulatorExtra>();
        return *extra;
    }
    const std::string& text() const {
        static const std::string kEmpty;
        return extra ? extra->text : kEmpty;
    }
    size_t distinctCount() const { return extra ? extra->distinct.size() : 0; }

    Accumulator() = default;
    Accumulator(Accumulator&&) noexcept = default;
    Accumulator& operator=(Accumulator&&) noexcept = default;
    Accumulator(const Accumulator& other)
        : count(other.count), i(other.i), d(other.d), extra(other.extra ? std::make_unique<AccumulatorExtra>(*other.extra) : nullptr) {}
    Accumulator& operator=(const Accumulator& other) {
        if (this != &other) *this = Accumulator(other);
        return *this;
    }
};

/// Everything about one aggregate call that the hot path needs, resolved once from the plan.
class AggregateFunction {
public:
    explicit AggregateFunction(const plan::Aggregate& aggregate);

    /// Folds the row's argument into the accumulator (NULL arguments are ignored, as in SQL).
    void update(Accumulator& accumulator, const Row& row) const;
    void merge(Accumulator& into, const Accumulator& from) const;
    /// True when `subtract` can take a merged part back out exactly: COUNT, and SUM/AVG over integers (not DISTINCT,
    /// not MIN/MAX, not floating point, whose sums depend on the order of additions).
    bool invertible() const;
    /// Removes a part previously merged into `into` (only for invertible aggregates).
    void subtract(Accumulator& into, const Accumulator& part) const;
    Value result(const Accumulator& accumulator) const;
    void reset(Accumulator& accumulator) const;

    void write(StateWriter& writer, const Accumulator& accumulator) const;
    void read(StateReader& reader, Accumulator& accumulator) const;

private:
    enum class Storage { Integer, Floating, Text };
    bool better(const Value& candidate, const Accumulator& current) const;
    bool betterAccumulator(const Accumulator& candidate, const Accumulator& current) const;
    void fold(Accumulator& accumulator, const Value& value) const;

    plan::AggregateFunction function_;
    bool distinct_;
    plan::TypeId argumentType_ = plan::TYPE_NULL;
    plan::TypeId resultType_;
    Storage storage_ = Storage::Integer;
    CompiledExpression argument_;
    bool hasArgument_ = false;
    int argumentColumn_ = -1;  // the argument is a plain column: read it without evaluating an expression
};

} // namespace pipec::runtime
