// Every aggregate of the catalog, on its own: folding values in parts and merging the parts gives the result of
// folding them all at once; an invertible aggregate's subtract takes a merged part back out; an accumulator written
// and read back (checkpoints) gives the same result and the same bytes. Plus the checkpoint encoding of the
// aggregates of changelog format 1, the numerical stability of the variances, and the HyperLogLog's accuracy.
#include "runtime/aggregates/aggregate.h"
#include "runtime/operators/window_accumulator.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>

using namespace pipec;
using namespace pipec::runtime;

namespace {

/// The argument type each aggregate is tested with (the first one its type rule accepts).
std::vector<plan::TypeId> argumentTypes(const AggregateDefinition& definition) {
    if (definition.star) return {plan::TYPE_NULL};
    std::vector<plan::TypeId> accepted;
    for (plan::TypeId type : {plan::BIGINT, plan::INT, plan::DOUBLE, plan::VARCHAR}) {
        AggregateTyping typing;
        typing.name = std::string(definition.sqlName);
        typing.argumentType = type;
        if (definition.typeRule(typing)) accepted.push_back(type);
    }
    return accepted;
}

Value randomValue(std::mt19937& random, plan::TypeId type) {
    switch (type) {
    case plan::DOUBLE: return Value::ofDouble(static_cast<double>(static_cast<int>(random() % 2000) - 1000) / 8);
    case plan::VARCHAR: return Value::ofString(std::string(1, static_cast<char>('a' + random() % 26)) + std::to_string(random() % 50));
    default: return Value::ofInt(static_cast<int64_t>(random() % 2000) - 1000);
    }
}

bool sameResult(const Value& a, const Value& b, plan::TypeId type) {
    if (a.isNull || b.isNull) return a.isNull == b.isNull;
    if (type == plan::DOUBLE) return std::abs(a.d - b.d) <= 1e-9 * std::max(1.0, std::abs(b.d));
    return a.i == b.i && a.s == b.s;
}

std::string written(const AggregateKernel& kernel, const Accumulator& accumulator) {
    StateWriter writer;
    kernel.write(writer, accumulator);
    return writer.take();
}

} // namespace

TEST_CASE("every aggregate: parts merged equal the whole, subtract undoes merge, state round-trips") {
    std::mt19937 random(314);
    for (const AggregateDefinition* definition : aggregateCatalog()) {
        for (plan::TypeId type : argumentTypes(*definition)) {
            CAPTURE(definition->sqlName);
            CAPTURE(static_cast<int>(type));
            AggregateTyping typing;
            typing.name = std::string(definition->sqlName);
            typing.argumentType = type;
            REQUIRE(definition->typeRule(typing));
            AggregateSetup setup;
            setup.argumentType = type;
            setup.resultType = typing.result;
            auto kernel = definition->create(setup);
            plan::TypeId resultType = typing.result;
            for (int round = 0; round < 20; ++round) {
                size_t count = random() % 60;
                size_t parts = 1 + random() % 4;
                Accumulator whole;
                std::vector<Accumulator> pieces(parts);
                uint64_t arrival = 0;
                for (size_t k = 0; k < count; ++k) {
                    Value value = randomValue(random, type);
                    // Event times increase with the part, as slices of a window do, with ties inside a part.
                    size_t part = k * parts / std::max<size_t>(count, 1);
                    int64_t time = static_cast<int64_t>(part * 1000 + random() % 3);
                    ++arrival;
                    kernel->update(whole, value, time, arrival);
                    kernel->update(pieces[part], value, time, arrival);
                }
                // Merge the parts in a shuffled order: the result must not depend on it.
                std::vector<size_t> order(parts);
                for (size_t k = 0; k < parts; ++k) order[k] = k;
                std::shuffle(order.begin(), order.end(), random);
                Accumulator merged;
                for (size_t k : order) kernel->merge(merged, pieces[k]);
                CHECK(sameResult(kernel->result(merged), kernel->result(whole), resultType));

                if (kernel->invertible() && parts > 1) {
                    Accumulator rest = merged;
                    kernel->subtract(rest, pieces[order.back()]);
                    Accumulator expected;
                    for (size_t k = 0; k + 1 < parts; ++k) kernel->merge(expected, pieces[order[k]]);
                    CHECK(sameResult(kernel->result(rest), kernel->result(expected), resultType));
                }

                std::string bytes = written(*kernel, merged);
                StateReader reader(bytes);
                Accumulator restored;
                kernel->read(reader, restored);
                CHECK(reader.atEnd());
                CHECK(written(*kernel, restored) == bytes);
                CHECK(sameResult(kernel->result(restored), kernel->result(merged), resultType));

                kernel->reset(merged);
                CHECK(sameResult(kernel->result(merged), kernel->result(Accumulator()), resultType));
            }
        }
    }
}

TEST_CASE("truncated aggregate state is refused") {
    std::mt19937 random(5);
    for (const AggregateDefinition* definition : aggregateCatalog()) {
        CAPTURE(definition->sqlName);
        plan::TypeId type = argumentTypes(*definition).front();
        AggregateSetup setup;
        setup.argumentType = type;
        auto kernel = definition->create(setup);
        Accumulator accumulator;
        for (int k = 0; k < 5; ++k) kernel->update(accumulator, randomValue(random, type), k, static_cast<uint64_t>(k + 1));
        std::string bytes = written(*kernel, accumulator);
        for (size_t cut : {size_t{0}, size_t{3}, bytes.size() - 1}) {
            StateReader reader(std::string_view(bytes).substr(0, cut));
            Accumulator restored;
            CHECK_THROWS(kernel->read(reader, restored));
        }
    }
}

TEST_CASE("APPROX_COUNT_DISTINCT refuses sketches with registers out of range") {
    AggregateSetup setup;
    setup.argumentType = plan::BIGINT;
    auto kernel = kApproxCountDistinctAggregate.create(setup);
    auto sketch = [](bool dense, const std::string& registers) {
        StateWriter writer;
        writer.writeI64(1);
        writer.writeBool(dense);
        writer.writeString(registers);
        return writer.take();
    };
    auto entry = [](uint32_t index, uint8_t rank) {
        uint32_t e = (index << 8) | rank;
        return std::string(reinterpret_cast<const char*>(&e), 4);
    };
    auto refused = [&](const std::string& bytes) {
        StateReader reader(bytes);
        Accumulator accumulator;
        try {
            kernel->read(reader, accumulator);
        } catch (const std::runtime_error&) {
            return true;
        }
        return false;
    };
    CHECK_FALSE(refused(sketch(false, entry(3, 2) + entry(9, 1))));
    CHECK(refused(sketch(false, entry(1 << 14, 2))));          // register beyond the sketch
    CHECK(refused(sketch(false, entry(9, 1) + entry(3, 2))));  // not sorted
    CHECK(refused(sketch(false, entry(3, 60))));                // rank beyond 64 − 14 + 1
    CHECK(refused(sketch(true, std::string(100, '\1'))));      // dense of the wrong size
    CHECK(refused(sketch(true, std::string(1 << 14, '\x40'))));
}

TEST_CASE("COUNT, SUM, AVG, MIN and MAX keep changelog format 1's accumulator encoding") {
    // count, i, d (little-endian 8 bytes each), the text as a length-prefixed string, then the DISTINCT entries.
    auto format1 = [](int64_t count, int64_t i, double d, const std::string& text) {
        StateWriter writer;
        writer.writeI64(count);
        writer.writeI64(i);
        writer.writeF64(d);
        writer.writeString(text);
        writer.writeU64(0);
        return writer.take();
    };
    auto run = [](plan::AggregateFunction function, plan::TypeId type, const std::vector<Value>& values) {
        plan::Aggregate aggregate;
        aggregate.set_function(function);
        aggregate.set_result_type(function == plan::COUNT || function == plan::COUNT_STAR ? plan::BIGINT : type);
        if (function != plan::COUNT_STAR) {
            aggregate.mutable_argument()->set_type(type);
            aggregate.mutable_argument()->set_column(1);
        }
        AggregateFunction call(aggregate);
        Accumulator accumulator;
        for (const auto& value : values) call.update(accumulator, Row{Value::ofInt(0), value}, 0);
        StateWriter writer;
        call.write(writer, accumulator);
        return writer.take();
    };
    std::vector<Value> integers = {Value::ofInt(5), Value::null(), Value::ofInt(-2), Value::ofInt(9)};
    CHECK(run(plan::COUNT_STAR, plan::BIGINT, integers) == format1(4, 0, 0, ""));
    CHECK(run(plan::COUNT, plan::BIGINT, integers) == format1(3, 0, 0, ""));
    CHECK(run(plan::SUM, plan::BIGINT, integers) == format1(3, 12, 0, ""));
    CHECK(run(plan::AVG, plan::BIGINT, integers) == format1(3, 12, 0, ""));
    CHECK(run(plan::MIN, plan::BIGINT, integers) == format1(3, -2, 0, ""));
    CHECK(run(plan::MAX, plan::BIGINT, integers) == format1(3, 9, 0, ""));
    std::vector<Value> doubles = {Value::ofDouble(1.5), Value::ofDouble(-0.25)};
    CHECK(run(plan::SUM, plan::DOUBLE, doubles) == format1(2, 0, 1.25, ""));
    CHECK(run(plan::MAX, plan::DOUBLE, doubles) == format1(2, 0, 1.5, ""));
    std::vector<Value> texts = {Value::ofString("pear"), Value::ofString("apple")};
    CHECK(run(plan::MIN, plan::VARCHAR, texts) == format1(2, 0, 0, "apple"));
}

TEST_CASE("floating-point variances are numerically stable across merges") {
    // Around 1e9 the textbook Σx² − (Σx)²/n loses every digit; Welford and Chan's merge keep them.
    AggregateSetup setup;
    setup.argumentType = plan::DOUBLE;
    setup.resultType = plan::DOUBLE;
    auto variance = kVarPopAggregate.create(setup);
    auto sample = kStddevSampAggregate.create(setup);
    Accumulator left, right, leftSample, rightSample;
    const double values[] = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
    for (int k = 0; k < 4; ++k) {
        Accumulator& target = k < 2 ? left : right;
        Accumulator& targetSample = k < 2 ? leftSample : rightSample;
        variance->update(target, Value::ofDouble(values[k]), k, static_cast<uint64_t>(k + 1));
        sample->update(targetSample, Value::ofDouble(values[k]), k, static_cast<uint64_t>(k + 1));
    }
    variance->merge(left, right);
    sample->merge(leftSample, rightSample);
    CHECK(variance->result(left).d == doctest::Approx(22.5).epsilon(1e-12));
    CHECK(sample->result(leftSample).d == doctest::Approx(std::sqrt(30.0)).epsilon(1e-12));
    // One value: the population variance is 0, the sample forms are NULL (as in Flink).
    Accumulator one, oneSample;
    variance->update(one, Value::ofDouble(3), 0, 1);
    sample->update(oneSample, Value::ofDouble(3), 0, 1);
    CHECK(variance->result(one).d == 0);
    CHECK(sample->result(oneSample).isNull);
    CHECK(variance->result(Accumulator()).isNull);
}

TEST_CASE("integer variances follow Flink's integer formula") {
    AggregateSetup setup;
    setup.argumentType = plan::INT;
    setup.resultType = plan::INT;
    auto variance = kVarSampAggregate.create(setup);
    auto deviation = kStddevPopAggregate.create(setup);
    Accumulator a, b;
    for (int64_t v : {1, 2, 4}) {
        variance->update(a, Value::ofInt(v), 0, 1);
        deviation->update(b, Value::ofInt(v), 0, 1);
    }
    // Σx = 7, Σx² = 21, n = 3: VAR_SAMP = (21 − 49/3) / 2 = (21 − 16) / 2 = 2; STDDEV_POP = ⌊√((21 − 16) / 3)⌋ = ⌊√1⌋ = 1.
    CHECK(variance->result(a).i == 2);
    CHECK(deviation->result(b).i == 1);
}

TEST_CASE("APPROX_COUNT_DISTINCT: merged sketches estimate within the HyperLogLog error") {
    AggregateSetup setup;
    setup.argumentType = plan::BIGINT;
    auto kernel = kApproxCountDistinctAggregate.create(setup);
    for (int64_t distinct : {0, 1, 10, 1000, 30000, 200000}) {
        CAPTURE(distinct);
        // Four slices with overlapping values (each value in two slices), merged like a HOP window.
        std::vector<Accumulator> slices(4);
        for (int64_t v = 0; v < distinct; ++v) {
            kernel->update(slices[static_cast<size_t>(v % 4)], Value::ofInt(v * 7919), 0, 1);
            kernel->update(slices[static_cast<size_t>((v + 1) % 4)], Value::ofInt(v * 7919), 0, 1);
        }
        Accumulator window;
        for (const auto& slice : slices) kernel->merge(window, slice);
        int64_t estimate = kernel->result(window).i;
        if (distinct <= 10) CHECK(estimate == distinct);  // linear counting: exact without register collisions
        else CHECK(std::abs(static_cast<double>(estimate - distinct)) <= 0.03 * static_cast<double>(distinct));  // > 3.5 σ
        // A sketch written and read back estimates the same.
        StateWriter writer;
        kernel->write(writer, window);
        StateReader reader(writer.bytes());
        Accumulator restored;
        kernel->read(reader, restored);
        CHECK(kernel->result(restored).i == estimate);
    }
}

TEST_CASE("FIRST_VALUE, LAST_VALUE and LISTAGG order by event time, then arrival, whatever the merge order") {
    AggregateSetup setup;
    setup.argumentType = plan::VARCHAR;
    setup.resultType = plan::VARCHAR;
    auto first = kFirstValueAggregate.create(setup);
    auto last = kLastValueAggregate.create(setup);
    AggregateSetup listSetup = setup;
    listSetup.parameters.emplace_back();
    listSetup.parameters.back().set_string_value(" | ");
    auto list = kListaggAggregate.create(listSetup);
    // Arrivals: x (time 5), y (time 3), z (time 5), w (time 3). Order: y, w, x, z.
    struct Item {
        const char* text;
        int64_t time;
    } rows[] = {{"x", 5}, {"y", 3}, {"z", 5}, {"w", 3}};
    Accumulator a1, a2, f1, f2, l1, l2;
    for (uint64_t k = 0; k < 4; ++k) {
        Value value = Value::ofString(rows[k].text);
        first->update(k % 2 ? f2 : f1, value, rows[k].time, k + 1);
        last->update(k % 2 ? l2 : l1, value, rows[k].time, k + 1);
        list->update(k % 2 ? a2 : a1, value, rows[k].time, k + 1);
    }
    Accumulator f21 = f2, l21 = l2, a21 = a2;
    first->merge(f21, f1);
    last->merge(l21, l1);
    list->merge(a21, a1);
    first->merge(f1, f2);
    last->merge(l1, l2);
    list->merge(a1, a2);
    CHECK(first->result(f1).s == "y");
    CHECK(first->result(f21).s == "y");
    CHECK(last->result(l1).s == "z");
    CHECK(last->result(l21).s == "z");
    CHECK(list->result(a1).s == "y | w | x | z");
    CHECK(list->result(a21).s == "y | w | x | z");
    CHECK(list->result(Accumulator()).isNull);
}
