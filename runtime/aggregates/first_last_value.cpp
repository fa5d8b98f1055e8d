// FIRST_VALUE(x) and LAST_VALUE(x): the non-NULL value of the row that comes first (last) in the window, NULL over
// none. Rows are ordered by event time, ties by arrival at the operator. Every row keeps its (time, arrival) in the
// accumulator, so the result does not depend on how a window is cut into slices, on the order slices or sessions
// are merged, or on a restart (restored arrivals stay before new ones). Flink orders by arrival alone (processing
// order); on an input in event-time order both agree. DISTINCT is refused (it cannot change the result and Flink
// rejects it).
#include "runtime/aggregates/aggregate.h"

#include <stdexcept>

namespace pipec::runtime {

namespace {

template <bool First>
class OrderedPick final : public AggregateKernel {
public:
    explicit OrderedPick(const AggregateSetup& setup)
        : AggregateKernel(setup, &fold), text_(aggregates::isText(setup.argumentType)) {}

    /// True when a value at (time, arrival) replaces the kept one.
    static bool replaces(const Accumulator& kept, int64_t time, uint64_t arrival) {
        if (kept.count == 0) return true;
        const AccumulatorExtra& extra = *kept.extra;
        bool earlier = time != extra.time ? time < extra.time : arrival < extra.arrival;
        return First ? earlier : !earlier;
    }
    static void fold(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t time, uint64_t arrival) {
        if (replaces(accumulator, time, arrival)) {
            AccumulatorExtra& extra = accumulator.mutableExtra();
            accumulator.i = value.i;
            accumulator.d = value.d;
            extra.text = value.s;
            extra.time = time;
            extra.arrival = arrival;
        }
        ++accumulator.count;
    }
    void merge(Accumulator& into, const Accumulator& from) const override {
        if (from.count == 0) return;
        if (replaces(into, from.extra->time, from.extra->arrival)) {
            AccumulatorExtra& extra = into.mutableExtra();
            into.i = from.i;
            into.d = from.d;
            extra.text = from.extra->text;
            extra.time = from.extra->time;
            extra.arrival = from.extra->arrival;
        }
        into.count += from.count;
    }
    Value result(const Accumulator& accumulator) const override { return aggregates::keptValue(accumulator, text_); }
    void write(StateWriter& writer, const Accumulator& accumulator) const override {
        writer.writeI64(accumulator.count);
        if (accumulator.count == 0) return;
        writer.writeI64(accumulator.i);
        writer.writeF64(accumulator.d);
        writer.writeString(accumulator.extra->text);
        writer.writeI64(accumulator.extra->time);
        writer.writeU64(accumulator.extra->arrival);
    }
    void read(StateReader& reader, Accumulator& accumulator) const override {
        accumulator = Accumulator();
        accumulator.count = reader.readI64();
        if (accumulator.count == 0) return;
        if (accumulator.count < 0) throw std::runtime_error("corrupt FIRST_VALUE/LAST_VALUE state: negative count");
        AccumulatorExtra& extra = accumulator.mutableExtra();
        accumulator.i = reader.readI64();
        accumulator.d = reader.readF64();
        extra.text = reader.readString();
        extra.time = reader.readI64();
        extra.arrival = reader.readU64();
    }

private:
    bool text_;
};

std::unique_ptr<AggregateKernel> createFirst(const AggregateSetup& setup) { return std::make_unique<OrderedPick<true>>(setup); }
std::unique_ptr<AggregateKernel> createLast(const AggregateSetup& setup) { return std::make_unique<OrderedPick<false>>(setup); }

constexpr std::string_view kOrderNote =
    "Flink picks by arrival, pipec by event time then arrival: the two differ when rows arrive out of order within "
    "the watermark delay";

} // namespace

const AggregateDefinition kFirstValueAggregate{
    .planFunction = plan::FIRST_VALUE, .sqlName = "FIRST_VALUE", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::anyTypeSameType, .distinct = DistinctUse::Refused, .filter = true, .mergeable = true,
    .flinkName = "FIRST_VALUE", .signature = "FIRST_VALUE(x)", .create = createFirst, .flinkNote = kOrderNote};

const AggregateDefinition kLastValueAggregate{
    .planFunction = plan::LAST_VALUE, .sqlName = "LAST_VALUE", .star = false, .minArguments = 1, .maxArguments = 1,
    .typeRule = aggregates::anyTypeSameType, .distinct = DistinctUse::Refused, .filter = true, .mergeable = true,
    .flinkName = "LAST_VALUE", .signature = "LAST_VALUE(x)", .create = createLast, .flinkNote = kOrderNote};

} // namespace pipec::runtime
