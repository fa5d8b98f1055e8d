#pragma once

#include "runtime/core/value.h"
#include "runtime/state/state_buffer.h"

#include <pipec/plan.pb.h>

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pipec::runtime {

/// One value an order-sensitive aggregate keeps (FIRST_VALUE, LAST_VALUE, LISTAGG): the row's event time and its
/// arrival number at the operator, which order values deterministically however slices are cut and merged.
struct OrderedValue {
    int64_t time = 0;
    uint64_t arrival = 0;
    std::string text;

    bool before(const OrderedValue& other) const { return time != other.time ? time < other.time : arrival < other.arrival; }
};

/// What only some aggregates need, kept out of line so the common accumulator stays 32 bytes.
struct AccumulatorExtra {
    std::string text;                                   // MIN/MAX over VARCHAR; FIRST_VALUE/LAST_VALUE's text
    std::unordered_map<std::string, int64_t> distinct;  // DISTINCT: encoded value → multiplicity
    int64_t time = 0;                                   // FIRST_VALUE/LAST_VALUE: the kept value's event time …
    uint64_t arrival = 0;                               // … and arrival number
    std::vector<OrderedValue> values;                   // LISTAGG: every value with its order
    std::string registers;                              // APPROX_COUNT_DISTINCT: the HyperLogLog registers
};

/// The running state of one aggregate over one group (a slice, a window or a session).
/// `count` counts the values folded in (rows for COUNT(*)); `i`/`d` hold what the aggregate keeps there (a sum, the
/// current MIN/MAX, a mean); `extra` what does not fit. DISTINCT aggregates keep the distinct values with their
/// multiplicities instead, so slices can be merged.
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

    /// `i` and `d` reinterpreted, for aggregates that keep two doubles or two integers (the variances).
    double iAsDouble() const { return std::bit_cast<double>(i); }
    void setIAsDouble(double value) { i = std::bit_cast<int64_t>(value); }
    int64_t dAsInteger() const { return std::bit_cast<int64_t>(d); }
    void setDAsInteger(int64_t value) { d = std::bit_cast<double>(value); }

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

/// How one aggregate call is configured, from the plan.
struct AggregateSetup {
    plan::TypeId argumentType = plan::TYPE_NULL;  // TYPE_NULL for COUNT(*)
    plan::TypeId resultType = plan::BIGINT;
    std::vector<plan::Literal> parameters;        // constant arguments after the first (LISTAGG's separator)
};

/// The runtime of one aggregate function, configured for one call (its argument and result types). It knows how to
/// fold a value into an accumulator, merge two accumulators (slices of a window, sessions that touch), take a merged
/// part back out (when exact), produce the result, and checkpoint an accumulator.
///
/// The per-row step is a plain function pointer chosen once per call (`fold`), specialised for the argument type,
/// so the hot path makes no virtual call and no switch on the aggregate; everything else is per window or per
/// checkpoint, and virtual. NULL arguments, FILTER and DISTINCT are handled before `fold` by the caller
/// (AggregateFunction), the same way for every aggregate.
class AggregateKernel {
public:
    /// Folds one non-NULL value (for COUNT(*) a placeholder) of a row with event time `time` and arrival number
    /// `arrival` (strictly increasing per operator) into the accumulator.
    using Fold = void (*)(const AggregateKernel& kernel, Accumulator& accumulator, const Value& value, int64_t time, uint64_t arrival);

    AggregateKernel(const AggregateSetup& setup, Fold fold) : setup_(setup), fold_(fold) {}
    virtual ~AggregateKernel() = default;
    AggregateKernel(const AggregateKernel&) = delete;
    AggregateKernel& operator=(const AggregateKernel&) = delete;

    Fold fold() const { return fold_; }
    void update(Accumulator& accumulator, const Value& value, int64_t time, uint64_t arrival) const {
        fold_(*this, accumulator, value, time, arrival);
    }
    virtual void merge(Accumulator& into, const Accumulator& from) const = 0;
    /// True when `subtract` takes a merged part back out exactly (the window operators then keep a running
    /// accumulator per key instead of merging every slice of a window).
    virtual bool invertible() const { return false; }
    /// Removes a part previously merged into `into`; only called when `invertible()`.
    virtual void subtract(Accumulator& into, const Accumulator& part) const;
    virtual Value result(const Accumulator& accumulator) const = 0;
    virtual void reset(Accumulator& accumulator) const;
    /// The checkpoint encoding. The default is the common one (count, i, d, text, distinct values), which every
    /// aggregate of changelog format 1 used; aggregates with more state override both.
    virtual void write(StateWriter& writer, const Accumulator& accumulator) const;
    virtual void read(StateReader& reader, Accumulator& accumulator) const;

    const AggregateSetup& setup() const { return setup_; }

private:
    AggregateSetup setup_;
    Fold fold_;
};

/// The common checkpoint encoding (see AggregateKernel::write), also used for DISTINCT accumulators.
void writeCommonState(StateWriter& writer, const Accumulator& accumulator);
void readCommonState(StateReader& reader, Accumulator& accumulator);

/// What an aggregate's type rule sees of a call, and what it decides (the binder reports `error`).
struct AggregateTyping {
    std::string name;                           // as the query names it (upper case), for messages
    plan::TypeId argumentType = plan::TYPE_NULL;
    std::vector<plan::TypeId> parameterTypes;   // the constant arguments after the first

    plan::TypeId result = plan::TYPE_NULL;
    bool nullable = true;                        // false: never NULL (COUNT)
    std::string error;                           // set when the argument does not fit
    std::string help;
};

/// Returns false (with `typing.error` set) when the argument does not fit.
using AggregateTypeRule = bool (*)(AggregateTyping& typing);
using KernelFactory = std::unique_ptr<AggregateKernel> (*)(const AggregateSetup& setup);

/// What DISTINCT does to an aggregate.
enum class DistinctUse {
    Applies,    // over the distinct values (COUNT, SUM, AVG, the variances, LISTAGG)
    Redundant,  // allowed, changes nothing (MIN, MAX, APPROX_COUNT_DISTINCT): not even kept in the plan
    Refused,    // an error: the result depends on duplicates' order (FIRST_VALUE, LAST_VALUE)
};

/// One aggregate function: everything pipec knows about it, in one place. The binder types calls with it, the plan
/// printer and the Flink emitter spell them with it, the window operators run them with it.
struct AggregateDefinition {
    plan::AggregateFunction planFunction;
    std::string_view sqlName;          // upper case
    bool star;                         // the `f(*)` form (COUNT(*))
    size_t minArguments;               // with star: 0
    size_t maxArguments;               // arguments after the first must be literals (LISTAGG's separator)
    AggregateTypeRule typeRule;
    DistinctUse distinct;
    bool filter;                       // FILTER (WHERE …) applies (else the binder refuses it, E0432)
    bool mergeable;                    // partial states merge exactly; every window needs it (slices, touching sessions), so
                                       // a non-mergeable aggregate is refused by the runtime until an operator without merges exists
    std::string_view flinkName;        // how Flink streaming SQL spells it
    std::string_view signature;        // for messages and documentation: "LISTAGG(expr [, separator])"
    KernelFactory create;
    /// The Flink target writes `flinkName(DISTINCT x)` (APPROX_COUNT_DISTINCT, batch-only in Flink, becomes an exact
    /// COUNT(DISTINCT x)) …
    bool flinkDistinct = false;
    /// … and warns (W0601) with this note where the Flink job can compute something else than pipec.
    std::string_view flinkNote = {};
};

/// Every aggregate, in documentation order (COUNT(*) and COUNT(x) are two entries).
const std::vector<const AggregateDefinition*>& aggregateCatalog();
/// The aggregate a plan names, or nullptr.
const AggregateDefinition* findPlanAggregate(plan::AggregateFunction function);
/// The aggregate SQL names (upper case), in its `f(*)` form or not; nullptr when none.
const AggregateDefinition* findSqlAggregate(std::string_view sqlName, bool star);
/// True when SQL names an aggregate of that name (in any form).
bool isAggregateName(std::string_view sqlName);

// The catalog's entries, one per aggregate file.
extern const AggregateDefinition kCountStarAggregate;
extern const AggregateDefinition kCountAggregate;
extern const AggregateDefinition kSumAggregate;
extern const AggregateDefinition kAvgAggregate;
extern const AggregateDefinition kMinAggregate;
extern const AggregateDefinition kMaxAggregate;
extern const AggregateDefinition kStddevPopAggregate;
extern const AggregateDefinition kStddevSampAggregate;
extern const AggregateDefinition kVarPopAggregate;
extern const AggregateDefinition kVarSampAggregate;
extern const AggregateDefinition kFirstValueAggregate;
extern const AggregateDefinition kLastValueAggregate;
extern const AggregateDefinition kListaggAggregate;
extern const AggregateDefinition kApproxCountDistinctAggregate;

// ---- helpers shared by the aggregate files ----
namespace aggregates {

inline bool isFloating(plan::TypeId type) { return type == plan::FLOAT || type == plan::DOUBLE; }
inline bool isText(plan::TypeId type) { return type == plan::VARCHAR || type == plan::BYTES; }
inline bool isNumeric(plan::TypeId type) {
    return type == plan::INT || type == plan::BIGINT || type == plan::FLOAT || type == plan::DOUBLE;
}
/// Java's wrap-around of an int result (SUM over INT overflows as in Flink).
inline int64_t wrapTo(plan::TypeId type, int64_t value) {
    return type == plan::INT ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value))) : value;
}
inline int64_t wrappingAdd(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }
inline int64_t wrappingSubtract(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
inline int64_t wrappingMultiply(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }

/// The value an accumulator keeps in `i`/`d` (and its text), as MIN, MAX, FIRST_VALUE and LAST_VALUE return it;
/// NULL when no value was folded in.
inline Value keptValue(const Accumulator& accumulator, bool text) {
    if (accumulator.count == 0) return Value::null();
    Value value;
    value.isNull = false;
    value.i = accumulator.i;
    value.d = accumulator.d;
    if (text) value.s = accumulator.text();
    return value;
}

/// The type rules the aggregates share.
bool anyType(AggregateTyping& typing);        // COUNT: any argument, BIGINT NOT NULL
bool numericSameType(AggregateTyping& typing); // SUM, AVG, the variances: a numeric argument, the result in its type
bool comparableSameType(AggregateTyping& typing); // MIN, MAX
bool anyTypeSameType(AggregateTyping& typing);  // FIRST_VALUE, LAST_VALUE: any argument, the result in its type

} // namespace aggregates

} // namespace pipec::runtime
