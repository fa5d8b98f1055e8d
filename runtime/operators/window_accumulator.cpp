#include "runtime/operators/window_accumulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>

namespace pipec::runtime {

namespace {

bool isFloating(plan::TypeId type) { return type == plan::FLOAT || type == plan::DOUBLE; }
bool isText(plan::TypeId type) { return type == plan::VARCHAR || type == plan::BYTES; }

int64_t wrapTo(plan::TypeId type, int64_t value) {
    return type == plan::INT ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value))) : value;
}

int64_t wrappingAdd(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }

} // namespace

AggregateFunction::AggregateFunction(const plan::Aggregate& aggregate)
    : function_(aggregate.function()), distinct_(aggregate.distinct()), resultType_(aggregate.result_type()) {
    if (aggregate.has_argument() && function_ != plan::COUNT_STAR) {
        hasArgument_ = true;
        argumentType_ = aggregate.argument().type();
        if (aggregate.argument().kind_case() == plan::Expr::kColumn) argumentColumn_ = aggregate.argument().column();
        else argument_ = CompiledExpression::compile(aggregate.argument());
    }
    storage_ = isText(argumentType_) ? Storage::Text : isFloating(argumentType_) ? Storage::Floating : Storage::Integer;
    // MIN/MAX DISTINCT equal MIN/MAX; only COUNT, SUM and AVG need the distinct set.
    if (function_ == plan::MIN || function_ == plan::MAX) distinct_ = false;
}

void AggregateFunction::reset(Accumulator& accumulator) const {
    accumulator.count = 0;
    accumulator.i = 0;
    accumulator.d = 0;
    accumulator.extra.reset();
}

bool AggregateFunction::better(const Value& candidate, const Accumulator& current) const {
    bool minimum = function_ == plan::MIN;
    switch (storage_) {
    case Storage::Integer: return minimum ? candidate.i < current.i : candidate.i > current.i;
    case Storage::Floating: return minimum ? candidate.d < current.d : candidate.d > current.d;
    case Storage::Text: return minimum ? candidate.s < current.text() : candidate.s > current.text();
    }
    return false;
}

bool AggregateFunction::betterAccumulator(const Accumulator& candidate, const Accumulator& current) const {
    bool minimum = function_ == plan::MIN;
    switch (storage_) {
    case Storage::Integer: return minimum ? candidate.i < current.i : candidate.i > current.i;
    case Storage::Floating: return minimum ? candidate.d < current.d : candidate.d > current.d;
    case Storage::Text: return minimum ? candidate.text() < current.text() : candidate.text() > current.text();
    }
    return false;
}

void AggregateFunction::fold(Accumulator& accumulator, const Value& value) const {
    if (value.isNull) return;
    if (distinct_) {
        std::string key;
        encodeValue(value, argumentType_, key);
        ++accumulator.mutableExtra().distinct[key];
        return;
    }
    switch (function_) {
    case plan::COUNT: ++accumulator.count; break;
    case plan::SUM:
    case plan::AVG:
        ++accumulator.count;
        if (storage_ == Storage::Floating) accumulator.d += value.d;
        else accumulator.i = wrappingAdd(accumulator.i, value.i);
        break;
    case plan::MIN:
    case plan::MAX:
        if (accumulator.count == 0 || better(value, accumulator)) {
            accumulator.i = value.i;
            accumulator.d = value.d;
            if (storage_ == Storage::Text) accumulator.mutableExtra().text = value.s;
        }
        ++accumulator.count;
        break;
    default: break;
    }
}

void AggregateFunction::update(Accumulator& accumulator, const Row& row) const {
    if (function_ == plan::COUNT_STAR) {
        ++accumulator.count;
        return;
    }
    if (argumentColumn_ >= 0) {
        fold(accumulator, row[static_cast<size_t>(argumentColumn_)]);
        return;
    }
    fold(accumulator, argument_.evaluate(row));
}

void AggregateFunction::merge(Accumulator& into, const Accumulator& from) const {
    if (distinct_) {
        if (!from.distinctCount()) return;
        auto& distinct = into.mutableExtra().distinct;
        for (const auto& [key, multiplicity] : from.extra->distinct) distinct[key] += multiplicity;
        return;
    }
    switch (function_) {
    case plan::COUNT_STAR:
    case plan::COUNT: into.count += from.count; break;
    case plan::SUM:
    case plan::AVG:
        into.count += from.count;
        into.i = wrappingAdd(into.i, from.i);
        into.d += from.d;
        break;
    case plan::MIN:
    case plan::MAX:
        if (from.count == 0) break;
        if (into.count == 0 || betterAccumulator(from, into)) {
            into.i = from.i;
            into.d = from.d;
            if (storage_ == Storage::Text) into.mutableExtra().text = from.text();
        }
        into.count += from.count;
        break;
    default: break;
    }
}

bool AggregateFunction::invertible() const {
    if (distinct_) return false;
    switch (function_) {
    case plan::COUNT_STAR:
    case plan::COUNT: return true;
    case plan::SUM:
    case plan::AVG: return storage_ == Storage::Integer;
    default: return false;
    }
}

void AggregateFunction::subtract(Accumulator& into, const Accumulator& part) const {
    into.count -= part.count;
    into.i = static_cast<int64_t>(static_cast<uint64_t>(into.i) - static_cast<uint64_t>(part.i));
}

Value AggregateFunction::result(const Accumulator& accumulator) const {
    if (distinct_) {
        size_t distinctCount = accumulator.distinctCount();
        if (function_ == plan::COUNT) return Value::ofInt(static_cast<int64_t>(distinctCount));
        if (distinctCount == 0) return Value::null();
        int64_t integerSum = 0;
        double floatingSum = 0;
        for (const auto& entry : accumulator.extra->distinct) {
            Value value = decodeValue(entry.first, argumentType_);
            integerSum = wrappingAdd(integerSum, value.i);
            floatingSum += value.d;
        }
        if (storage_ == Storage::Floating)
            return Value::ofDouble(function_ == plan::AVG ? floatingSum / static_cast<double>(distinctCount) : floatingSum);
        int64_t result = function_ == plan::AVG ? integerSum / static_cast<int64_t>(distinctCount) : integerSum;
        return Value::ofInt(wrapTo(resultType_, result));
    }
    switch (function_) {
    case plan::COUNT_STAR:
    case plan::COUNT: return Value::ofInt(accumulator.count);
    case plan::SUM:
        if (accumulator.count == 0) return Value::null();
        if (storage_ == Storage::Floating) {
            double sum = resultType_ == plan::FLOAT ? static_cast<double>(static_cast<float>(accumulator.d)) : accumulator.d;
            return Value::ofDouble(sum);
        }
        return Value::ofInt(wrapTo(resultType_, accumulator.i));
    case plan::AVG:
        if (accumulator.count == 0) return Value::null();
        if (storage_ == Storage::Floating) return Value::ofDouble(accumulator.d / static_cast<double>(accumulator.count));
        // Integer AVG truncates toward zero and keeps the argument's type, as in Flink.
        return Value::ofInt(wrapTo(resultType_, accumulator.i / accumulator.count));
    case plan::MIN:
    case plan::MAX: {
        if (accumulator.count == 0) return Value::null();
        Value value;
        value.isNull = false;
        value.i = accumulator.i;
        value.d = accumulator.d;
        if (storage_ == Storage::Text) value.s = accumulator.text();
        return value;
    }
    default: return Value::null();
    }
}

void AggregateFunction::write(StateWriter& writer, const Accumulator& accumulator) const {
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

void AggregateFunction::read(StateReader& reader, Accumulator& accumulator) const {
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

} // namespace pipec::runtime
