#include "runtime/operators/window_accumulator.h"

#include <algorithm>
#include <stdexcept>

namespace pipec::runtime {

const Value AggregateFunction::kRow = Value::ofInt(1);

AggregateFunction::AggregateFunction(const plan::Aggregate& aggregate) : distinct_(aggregate.distinct()) {
    const AggregateDefinition* definition = findPlanAggregate(aggregate.function());
    if (!definition) throw std::invalid_argument("plan names an unknown aggregate function");
    // Every window merges partial states (slices of TUMBLE/HOP, touching sessions).
    if (!definition->mergeable) throw std::invalid_argument("aggregate " + std::string(definition->sqlName) + " cannot run in a window");
    AggregateSetup setup;
    setup.resultType = aggregate.result_type();
    if (aggregate.has_argument() && !definition->star) {
        hasArgument_ = true;
        argumentType_ = aggregate.argument().type();
        if (aggregate.argument().kind_case() == plan::Expr::kColumn) argumentColumn_ = aggregate.argument().column();
        else argument_ = CompiledExpression::compile(aggregate.argument());
    }
    setup.argumentType = argumentType_;
    setup.parameters.assign(aggregate.parameters().begin(), aggregate.parameters().end());
    if (aggregate.has_filter()) {
        hasFilter_ = true;
        filter_ = CompiledExpression::compile(aggregate.filter());
    }
    // MIN/MAX DISTINCT equal MIN/MAX: only aggregates whose result DISTINCT changes keep the distinct set.
    if (definition->distinct != DistinctUse::Applies) distinct_ = false;
    kernel_ = definition->create(setup);
    fold_ = kernel_->fold();
}

bool AggregateFunction::passes(const Row& row) const {
    Value condition = filter_.evaluate(row);
    return !condition.isNull && condition.i != 0;
}

void AggregateFunction::addDistinct(Accumulator& accumulator, const Value& value) const {
    std::string key;
    encodeValue(value, argumentType_, key);
    ++accumulator.mutableExtra().distinct[key];
}

void AggregateFunction::merge(Accumulator& into, const Accumulator& from) const {
    if (!distinct_) {
        kernel_->merge(into, from);
        return;
    }
    if (!from.distinctCount()) return;
    auto& distinct = into.mutableExtra().distinct;
    for (const auto& [key, multiplicity] : from.extra->distinct) distinct[key] += multiplicity;
}

Value AggregateFunction::result(const Accumulator& accumulator) const {
    if (!distinct_) return kernel_->result(accumulator);
    // The aggregate over the distinct values, folded in their encoded order so the result never depends on the
    // order rows arrived in or slices were merged.
    Accumulator folded;
    if (accumulator.distinctCount()) {
        std::vector<const std::string*> keys;
        keys.reserve(accumulator.extra->distinct.size());
        for (const auto& entry : accumulator.extra->distinct) keys.push_back(&entry.first);
        std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
        uint64_t arrival = 0;
        for (const std::string* key : keys) kernel_->update(folded, decodeValue(*key, argumentType_), 0, ++arrival);
    }
    return kernel_->result(folded);
}

void AggregateFunction::write(StateWriter& writer, const Accumulator& accumulator) const {
    if (distinct_) writeCommonState(writer, accumulator);
    else kernel_->write(writer, accumulator);
}

void AggregateFunction::read(StateReader& reader, Accumulator& accumulator) const {
    if (distinct_) {
        readCommonState(reader, accumulator);
        return;
    }
    kernel_->read(reader, accumulator);
    if (accumulator.extra) {
        arrivals_ = std::max(arrivals_, accumulator.extra->arrival);
        for (const auto& value : accumulator.extra->values) arrivals_ = std::max(arrivals_, value.arrival);
    }
}

} // namespace pipec::runtime
