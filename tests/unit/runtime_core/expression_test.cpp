#include "runtime/core/expression.h"

#include <doctest/doctest.h>

#include <limits>
#include <optional>

using namespace pipec;
using namespace pipec::runtime;

namespace {

plan::Expr literal(const Value& value, plan::TypeId type) {
    plan::Expr expression;
    expression.set_type(type);
    auto* l = expression.mutable_literal();
    if (value.isNull) l->set_is_null(true);
    else if (type == plan::VARCHAR) l->set_string_value(value.s);
    else if (type == plan::DOUBLE || type == plan::FLOAT) l->set_double_value(value.d);
    else if (type == plan::BOOLEAN) l->set_bool_value(value.i != 0);
    else l->set_int_value(value.i);
    return expression;
}

plan::Expr call(const std::string& function, plan::TypeId type, std::vector<plan::Expr> arguments) {
    plan::Expr expression;
    expression.set_type(type);
    expression.mutable_call()->set_function(function);
    for (auto& argument : arguments) *expression.mutable_call()->add_args() = argument;
    return expression;
}

Value evaluate(const plan::Expr& expression) { return CompiledExpression::compile(expression).evaluate(Row{}); }

const Value kTrue = Value::ofBool(true), kFalse = Value::ofBool(false), kNull = Value::null();

} // namespace

TEST_CASE("three-valued AND/OR/NOT") {
    auto b = [](const Value& v) { return literal(v, plan::BOOLEAN); };
    struct Case {
        Value a, b;
        std::optional<bool> andResult, orResult;
    };
    const Case cases[] = {{kTrue, kNull, std::nullopt, true}, {kFalse, kNull, false, std::nullopt}, {kNull, kNull, std::nullopt, std::nullopt},
                          {kTrue, kFalse, false, true}};
    for (const auto& c : cases) {
        Value a = evaluate(call("and", plan::BOOLEAN, {b(c.a), b(c.b)}));
        Value o = evaluate(call("or", plan::BOOLEAN, {b(c.a), b(c.b)}));
        CHECK(a.isNull == !c.andResult.has_value());
        if (c.andResult) CHECK(a.i == *c.andResult);
        CHECK(o.isNull == !c.orResult.has_value());
        if (c.orResult) CHECK(o.i == *c.orResult);
    }
    CHECK(evaluate(call("not", plan::BOOLEAN, {b(kNull)})).isNull);
    CHECK(evaluate(call("is_null", plan::BOOLEAN, {b(kNull)})).i == 1);
    CHECK(evaluate(call("is_true", plan::BOOLEAN, {b(kNull)})).i == 0);
}

TEST_CASE("comparisons, IN and BETWEEN with NULL") {
    auto i = [](int64_t v) { return literal(Value::ofInt(v), plan::BIGINT); };
    auto n = literal(kNull, plan::BIGINT);
    CHECK(evaluate(call("less", plan::BOOLEAN, {i(1), i(2)})).i == 1);
    CHECK(evaluate(call("equal", plan::BOOLEAN, {i(1), n})).isNull);
    CHECK(evaluate(call("in", plan::BOOLEAN, {i(1), i(2), i(1)})).i == 1);
    CHECK(evaluate(call("in", plan::BOOLEAN, {i(1), i(2), n})).isNull);  // not found, but NULL in the list
    CHECK(evaluate(call("not_in", plan::BOOLEAN, {i(3), i(1), i(2)})).i == 1);
    CHECK(evaluate(call("between", plan::BOOLEAN, {i(2), i(1), i(3)})).i == 1);
    CHECK(evaluate(call("between", plan::BOOLEAN, {i(5), n, i(3)})).i == 0);  // x > high decides regardless of NULL low
    CHECK(evaluate(call("between", plan::BOOLEAN, {i(2), n, i(3)})).isNull);
}

TEST_CASE("arithmetic: truncating division, NULL on division by zero, wrapping INT") {
    auto i = [](int64_t v) { return literal(Value::ofInt(v), plan::INT); };
    CHECK(evaluate(call("divide", plan::INT, {i(-7), i(2)})).i == -3);
    CHECK(evaluate(call("modulo", plan::INT, {i(-7), i(2)})).i == -1);
    CHECK(evaluate(call("divide", plan::INT, {i(1), i(0)})).isNull);
    CHECK(evaluate(call("add", plan::INT, {i(2147483647), i(1)})).i == -2147483648LL);
    auto big = [](int64_t v) { return literal(Value::ofInt(v), plan::BIGINT); };
    CHECK(evaluate(call("divide", plan::BIGINT, {big(INT64_MIN), big(-1)})).i == INT64_MIN);
}

TEST_CASE("casts") {
    auto cast = [](const plan::Expr& argument, plan::TypeId to) { return evaluate(call("cast", to, {argument})); };
    CHECK(cast(literal(kTrue, plan::BOOLEAN), plan::INT).i == 1);
    CHECK(cast(literal(Value::ofString(" 42 "), plan::VARCHAR), plan::BIGINT).i == 42);
    CHECK(cast(literal(Value::ofString("4x"), plan::VARCHAR), plan::BIGINT).isNull);
    CHECK(cast(literal(Value::ofDouble(-2.9), plan::DOUBLE), plan::INT).i == -2);
    CHECK(cast(literal(Value::ofDouble(1e300), plan::DOUBLE), plan::BIGINT).isNull);
    CHECK(cast(literal(Value::ofDouble(0.5), plan::DOUBLE), plan::VARCHAR).s == "0.5");
    CHECK(cast(literal(Value::ofInt(1767225620000), plan::TIMESTAMP), plan::VARCHAR).s == "2026-01-01 00:00:20.000");
    CHECK(cast(literal(Value::ofString("2026-01-01 00:00:20.5"), plan::VARCHAR), plan::TIMESTAMP).i == 1767225620500);
    CHECK(cast(literal(Value::ofString("TRUE"), plan::VARCHAR), plan::BOOLEAN).i == 1);
}

TEST_CASE("LIKE, strings and CASE") {
    auto s = [](const std::string& v) { return literal(Value::ofString(v), plan::VARCHAR); };
    CHECK(evaluate(call("like", plan::BOOLEAN, {s("order-17"), s("order-%")})).i == 1);
    CHECK(evaluate(call("like", plan::BOOLEAN, {s("ab"), s("a_")})).i == 1);
    CHECK(evaluate(call("like", plan::BOOLEAN, {s("a%"), s("a\\%")})).i == 1);
    CHECK(evaluate(call("like", plan::BOOLEAN, {s("ab"), s("a\\%")})).i == 0);
    CHECK(evaluate(call("like", plan::BOOLEAN, {s("xaaab"), s("%a%b")})).i == 1);
    CHECK(evaluate(call("substring", plan::VARCHAR, {s("hello"), literal(Value::ofInt(2), plan::BIGINT), literal(Value::ofInt(3), plan::BIGINT)})).s == "ell");
    // Flink's SUBSTRING: position 0 counts as 1, a negative position counts from the end, characters not bytes.
    CHECK(evaluate(call("substring", plan::VARCHAR, {s("hello"), literal(Value::ofInt(0), plan::BIGINT), literal(Value::ofInt(2), plan::BIGINT)})).s == "he");
    CHECK(evaluate(call("substring", plan::VARCHAR, {s("héllo"), literal(Value::ofInt(-4), plan::BIGINT), literal(Value::ofInt(2), plan::BIGINT)})).s == "él");
    CHECK(evaluate(call("substring", plan::VARCHAR, {s("hello"), literal(Value::ofInt(-9), plan::BIGINT)})).s == "");
    CHECK(evaluate(call("substring", plan::VARCHAR, {s("hello"), literal(Value::ofInt(2), plan::BIGINT), literal(Value::ofInt(-1), plan::BIGINT)})).isNull);
    CHECK(evaluate(call("concat", plan::VARCHAR, {s("a"), literal(kNull, plan::VARCHAR)})).isNull);
    CHECK(evaluate(call("upper", plan::VARCHAR, {s("aBc")})).s == "ABC");
    CHECK(evaluate(call("char_length", plan::INT, {s("héllo")})).i == 5);
    auto cond = literal(kFalse, plan::BOOLEAN);
    CHECK(evaluate(call("case", plan::VARCHAR, {cond, s("x"), literal(kNull, plan::VARCHAR)})).isNull);
    CHECK(evaluate(call("coalesce", plan::VARCHAR, {literal(kNull, plan::VARCHAR), s("y")})).s == "y");
}

TEST_CASE("catalog functions: Flink's edge cases") {
    auto s = [](const std::string& v) { return literal(Value::ofString(v), plan::VARCHAR); };
    auto d = [](double v) { return literal(Value::ofDouble(v), plan::DOUBLE); };
    auto i = [](int64_t v, plan::TypeId type = plan::BIGINT) { return literal(Value::ofInt(v), type); };
    auto ts = [](int64_t v) { return literal(Value::ofInt(v), plan::TIMESTAMP); };
    // ROUND rounds the shortest decimal form half away from zero (BigDecimal.valueOf(x).setScale(n, HALF_UP)).
    CHECK(evaluate(call("round", plan::DOUBLE, {d(2.675), i(2, plan::INT)})).d == 2.68);
    CHECK(evaluate(call("round", plan::DOUBLE, {d(-0.5)})).d == -1.0);
    CHECK(evaluate(call("round", plan::DOUBLE, {d(1234.5), i(-2, plan::INT)})).d == 1200.0);
    CHECK(evaluate(call("round", plan::DOUBLE, {d(0.004), i(2, plan::INT)})).d == 0.0);
    CHECK(evaluate(call("round", plan::BIGINT, {i(-150), i(-2, plan::INT)})).i == -200);
    CHECK(evaluate(call("round", plan::INT, {i(149, plan::INT), i(-2, plan::INT)})).i == 100);
    // IF treats a NULL condition as FALSE; NULLIF(a, NULL) is a.
    CHECK(evaluate(call("if", plan::VARCHAR, {literal(kNull, plan::BOOLEAN), s("a"), s("b")})).s == "b");
    CHECK(evaluate(call("nullif", plan::VARCHAR, {s("a"), literal(kNull, plan::VARCHAR)})).s == "a");
    // Strings.
    CHECK(evaluate(call("trim", plan::VARCHAR, {s("TRAILING"), s("xy"), s("xxaxyyx")})).s == "xxa");
    CHECK(evaluate(call("position", plan::INT, {s("l"), s("héllo")})).i == 3);
    CHECK(evaluate(call("position", plan::INT, {s(""), s("abc")})).i == 1);
    CHECK(evaluate(call("split_index", plan::VARCHAR, {s("a,,b"), s(","), i(1)})).s == "");
    CHECK(evaluate(call("split_index", plan::VARCHAR, {s("a,,b"), s(","), i(3)})).isNull);
    CHECK(evaluate(call("split_index", plan::VARCHAR, {s("a,b"), s(","), i(-1)})).isNull);
    CHECK(evaluate(call("regexp_extract", plan::VARCHAR, {s("foothebar"), s("foo(.*?)(bar)"), i(2)})).s == "bar");
    CHECK(evaluate(call("regexp_extract", plan::VARCHAR, {s("foothebar"), s("foo(.*?)(bar)")})).s == "foothebar");
    CHECK(evaluate(call("regexp_extract", plan::VARCHAR, {s("foothebar"), s("foo(.*?)(bar)"), i(3)})).isNull);
    CHECK(evaluate(call("regexp", plan::BOOLEAN, {s("abc"), s("(")})).isNull);
    // Time, in UTC. 2024-02-29T23:59:59.999Z is 1709251199999; 2024-01-31T10:00:00Z is 1706695200000.
    CHECK(evaluate(call("timestampadd", plan::TIMESTAMP, {s("MONTH"), i(1), ts(1706695200000)})).i == 1709200800000);  // Feb 29
    CHECK(evaluate(call("timestampadd", plan::TIMESTAMP, {s("YEAR"), i(1), ts(1709251199999)})).i == 1740787199999);   // 2025-02-28
    // Jan 31 -> Feb 29 is one month: the clamped month end counts, as in Calcite's subtractMonths.
    CHECK(evaluate(call("timestampdiff", plan::INT, {s("MONTH"), ts(1706695200000), ts(1709200800000)})).i == 1);
    CHECK(evaluate(call("timestampdiff", plan::INT, {s("MONTH"), ts(1706695200000), ts(1709200799999)})).i == 0);
    CHECK(evaluate(call("timestampdiff", plan::INT, {s("DAY"), ts(1709251199999), ts(1706695200000)})).i == -29);
    CHECK(evaluate(call("floor_time", plan::TIMESTAMP, {ts(-1), s("DAY")})).i == -86'400'000);
    CHECK(evaluate(call("ceil_time", plan::TIMESTAMP, {ts(0), s("YEAR")})).i == 0);
    CHECK(evaluate(call("extract", plan::BIGINT, {s("WEEK"), ts(1735603200000)})).i == 1);  // 2024-12-31 is in ISO week 1 of 2025
    CHECK(evaluate(call("date_format", plan::VARCHAR, {ts(1709251199999), s("yy/M/d h:mm a 'at' EEEE")})).s == "24/2/29 11:59 PM at Thursday");
    CHECK(evaluate(call("to_timestamp", plan::TIMESTAMP, {s("20240229 2359"), s("yyyyMMdd HHmm")})).i == 1709251140000);
    CHECK(evaluate(call("to_timestamp", plan::TIMESTAMP, {s("2023-02-29 00:00:00"), s("yyyy-MM-dd HH:mm:ss")})).isNull);
    CHECK(evaluate(call("unix_timestamp", plan::BIGINT, {s("1970-01-01 00:00:01.999")})).i == 1);
    CHECK(evaluate(call("to_timestamp_ltz", plan::TIMESTAMP, {d(1.5), i(0, plan::INT)})).i == 1500);
}
