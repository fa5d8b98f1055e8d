#include "runtime/aggregates/aggregate.h"

#include "runtime/core/function_catalog.h"

#include <algorithm>
#include <stdexcept>

namespace pipec::runtime {

void AggregateKernel::subtract(Accumulator&, const Accumulator&) const {
    throw std::logic_error("subtract called on an aggregate that is not invertible");
}

void AggregateKernel::reset(Accumulator& accumulator) const {
    accumulator.count = 0;
    accumulator.i = 0;
    accumulator.d = 0;
    accumulator.extra.reset();
}

void AggregateKernel::write(StateWriter& writer, const Accumulator& accumulator) const { writeCommonState(writer, accumulator); }
void AggregateKernel::read(StateReader& reader, Accumulator& accumulator) const { readCommonState(reader, accumulator); }

void writeCommonState(StateWriter& writer, const Accumulator& accumulator) {
    writer.writeI64(accumulator.count);
    writer.writeI64(accumulator.i);
    writer.writeF64(accumulator.d);
    writer.writeString(accumulator.text());
    uint64_t distinctCount = accumulator.distinctCount();
    writer.writeU64(distinctCount);
    if (distinctCount) {
        // Sorted, so equal state always snapshots to equal bytes.
        std::vector<std::pair<std::string, int64_t>> entries(accumulator.extra->distinct.begin(), accumulator.extra->distinct.end());
        std::sort(entries.begin(), entries.end());
        for (const auto& [key, multiplicity] : entries) {
            writer.writeString(key);
            writer.writeI64(multiplicity);
        }
    }
}

void readCommonState(StateReader& reader, Accumulator& accumulator) {
    accumulator.count = reader.readI64();
    accumulator.i = reader.readI64();
    accumulator.d = reader.readF64();
    std::string text = reader.readString();
    uint64_t distinctCount = reader.readCount(16);
    accumulator.extra.reset();
    if (!text.empty()) accumulator.mutableExtra().text = std::move(text);
    for (uint64_t k = 0; k < distinctCount; ++k) {
        std::string key = reader.readString();
        accumulator.mutableExtra().distinct[key] = reader.readI64();
    }
}

const std::vector<const AggregateDefinition*>& aggregateCatalog() {
    // Adding an aggregate: one file defining its AggregateDefinition (see count.cpp), and one line here.
    static const std::vector<const AggregateDefinition*> kCatalog = {
        &kCountStarAggregate,
        &kCountAggregate,
        &kSumAggregate,
        &kAvgAggregate,
        &kMinAggregate,
        &kMaxAggregate,
        &kStddevPopAggregate,
        &kStddevSampAggregate,
        &kVarPopAggregate,
        &kVarSampAggregate,
        &kFirstValueAggregate,
        &kLastValueAggregate,
        &kListaggAggregate,
        &kApproxCountDistinctAggregate,
    };
    return kCatalog;
}

const AggregateDefinition* findPlanAggregate(plan::AggregateFunction function) {
    for (const auto* definition : aggregateCatalog())
        if (definition->planFunction == function) return definition;
    return nullptr;
}

const AggregateDefinition* findSqlAggregate(std::string_view sqlName, bool star) {
    for (const auto* definition : aggregateCatalog())
        if (definition->sqlName == sqlName && definition->star == star) return definition;
    return nullptr;
}

bool isAggregateName(std::string_view sqlName) {
    for (const auto* definition : aggregateCatalog())
        if (definition->sqlName == sqlName) return true;
    return false;
}

namespace aggregates {

bool anyType(AggregateTyping& typing) {
    typing.result = plan::BIGINT;
    typing.nullable = false;
    return true;
}

bool numericSameType(AggregateTyping& typing) {
    if (!isNumeric(typing.argumentType)) {
        typing.error = typing.name + " expects a numeric argument, found " + sqlTypeName(typing.argumentType);
        if (typing.argumentType == plan::BOOLEAN) typing.help = "count TRUE values with " + typing.name + "(CAST(x AS INT))";
        return false;
    }
    typing.result = typing.argumentType;
    return true;
}

bool comparableSameType(AggregateTyping& typing) {
    plan::TypeId type = typing.argumentType;
    if (!isNumeric(type) && type != plan::VARCHAR && type != plan::TIMESTAMP && type != plan::BOOLEAN) {
        typing.error = typing.name + " expects a comparable argument, found " + sqlTypeName(typing.argumentType);
        return false;
    }
    typing.result = type;
    return true;
}

bool anyTypeSameType(AggregateTyping& typing) {
    typing.result = typing.argumentType;
    return true;
}

} // namespace aggregates

} // namespace pipec::runtime
