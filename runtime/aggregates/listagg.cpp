// LISTAGG(x [, separator]): the non-NULL VARCHAR values joined with the separator (default ',', as in Flink), NULL
// over none. The separator must be a string literal. Values are joined in the order FIRST_VALUE/LAST_VALUE use:
// event time, ties by arrival at the operator (Flink joins in arrival order; on an input in event-time order both
// agree). A number is refused rather than formatted: CAST(x AS STRING) says how it is written, as Flink requires.
// The accumulator keeps every value of the slice (or session), so state grows with the rows of a window.
#include "runtime/aggregates/aggregate.h"
#include "runtime/core/function_catalog.h"

#include <algorithm>
#include <stdexcept>

namespace pipec::runtime {

namespace {

class Listagg final : public AggregateKernel {
public:
    explicit Listagg(const AggregateSetup& setup)
        : AggregateKernel(setup, &fold),
          separator_(setup.parameters.empty() ? std::string(",") : setup.parameters.front().string_value()) {}

    static void fold(const AggregateKernel&, Accumulator& accumulator, const Value& value, int64_t time, uint64_t arrival) {
        ++accumulator.count;
        accumulator.mutableExtra().values.push_back(OrderedValue{time, arrival, value.s});
    }
    void merge(Accumulator& into, const Accumulator& from) const override {
        if (from.count == 0) return;
        auto& values = into.mutableExtra().values;
        values.insert(values.end(), from.extra->values.begin(), from.extra->values.end());
        into.count += from.count;
    }
    Value result(const Accumulator& accumulator) const override {
        if (accumulator.count == 0) return Value::null();
        std::vector<const OrderedValue*> ordered;
        ordered.reserve(accumulator.extra->values.size());
        for (const auto& value : accumulator.extra->values) ordered.push_back(&value);
        std::sort(ordered.begin(), ordered.end(), [](const OrderedValue* a, const OrderedValue* b) { return a->before(*b); });
        std::string joined;
        for (size_t k = 0; k < ordered.size(); ++k) {
            if (k) joined += separator_;
            joined += ordered[k]->text;
        }
        return Value::ofString(std::move(joined));
    }
    void write(StateWriter& writer, const Accumulator& accumulator) const override {
        writer.writeI64(accumulator.count);
        if (accumulator.count == 0) return;
        for (const auto& value : accumulator.extra->values) {
            writer.writeI64(value.time);
            writer.writeU64(value.arrival);
            writer.writeString(value.text);
        }
    }
    void read(StateReader& reader, Accumulator& accumulator) const override {
        accumulator = Accumulator();
        uint64_t count = reader.readCount(24);
        if (count == 0) return;
        accumulator.count = static_cast<int64_t>(count);
        auto& values = accumulator.mutableExtra().values;
        values.reserve(count);
        for (uint64_t k = 0; k < count; ++k) {
            OrderedValue value;
            value.time = reader.readI64();
            value.arrival = reader.readU64();
            value.text = reader.readString();
            values.push_back(std::move(value));
        }
    }

private:
    std::string separator_;
};

bool listaggType(AggregateTyping& typing) {
    if (typing.argumentType != plan::VARCHAR) {
        typing.error = "LISTAGG expects a VARCHAR argument, found " + sqlTypeName(typing.argumentType);
        typing.help = "write LISTAGG(CAST(x AS STRING)) to say how the values are written, as Flink requires";
        return false;
    }
    if (!typing.parameterTypes.empty() && typing.parameterTypes.front() != plan::VARCHAR) {
        typing.error = "LISTAGG's separator must be a string literal";
        typing.help = "write the separator in quotes, e.g. LISTAGG(x, ';')";
        return false;
    }
    typing.result = plan::VARCHAR;
    return true;
}

std::unique_ptr<AggregateKernel> create(const AggregateSetup& setup) { return std::make_unique<Listagg>(setup); }

} // namespace

const AggregateDefinition kListaggAggregate{
    .planFunction = plan::LISTAGG, .sqlName = "LISTAGG", .star = false, .minArguments = 1, .maxArguments = 2,
    .typeRule = listaggType, .distinct = DistinctUse::Refused, .filter = true, .mergeable = true,
    .flinkName = "LISTAGG", .signature = "LISTAGG(x [, separator])", .create = create,
    .flinkNote = "Flink joins the values in arrival order, pipec in event-time order (ties by arrival): the two differ "
                 "when rows arrive out of order within the watermark delay"};

} // namespace pipec::runtime
