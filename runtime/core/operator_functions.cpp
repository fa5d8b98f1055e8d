// Operators, predicates and conditional functions: arithmetic, comparison, three-valued logic, IN, BETWEEN, LIKE,
// CASE, CAST, COALESCE, IF and NULLIF.
#include "runtime/core/function_implementations.h"

#include "runtime/core/civil_time.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace pipec::runtime::functions {

namespace {

bool isText(plan::TypeId type) { return type == plan::VARCHAR || type == plan::BYTES; }

int64_t wrap(plan::TypeId type, int64_t value) {
    return type == plan::INT ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value))) : value;
}

double roundFloat(plan::TypeId type, double value) {
    return type == plan::FLOAT ? static_cast<double>(static_cast<float>(value)) : value;
}

std::string timestampText(int64_t millis) {
    CivilTime t = civilFromMillis(millis);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}", t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond);
}

std::string trimmed(std::string_view text) {
    size_t begin = 0, end = text.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    return std::string(text.substr(begin, end - begin));
}

/// SQL LIKE: `%` any run, `_` one character, `escape` makes the next character literal. Iterative with backtracking.
bool likeMatch(std::string_view text, std::string_view pattern, char escape) {
    size_t t = 0, p = 0, starP = std::string_view::npos, starT = 0;
    while (t < text.size()) {
        if (p < pattern.size()) {
            char c = pattern[p];
            if (c == escape && p + 1 < pattern.size()) {
                if (pattern[p + 1] == text[t]) {
                    p += 2;
                    ++t;
                    continue;
                }
            } else if (c == '%') {
                starP = p++;
                starT = t;
                continue;
            } else if (c == '_' || c == text[t]) {
                ++p;
                ++t;
                continue;
            }
        }
        if (starP == std::string_view::npos) return false;
        p = starP + 1;
        t = ++starT;
    }
    while (p < pattern.size() && pattern[p] == '%') ++p;
    return p == pattern.size();
}

Value castValue(const Value& value, plan::TypeId from, plan::TypeId to) {
    if (from == to) return value;
    switch (to) {
    case plan::BOOLEAN:
        if (isFloatingType(from)) return Value::ofBool(value.d != 0);
        if (isText(from)) {
            std::string text = trimmed(value.s);
            std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (text == "true") return Value::ofBool(true);
            if (text == "false") return Value::ofBool(false);
            return Value::null();
        }
        return Value::ofBool(value.i != 0);
    case plan::INT:
    case plan::BIGINT: {
        if (isFloatingType(from)) {
            double truncated = std::trunc(value.d);
            if (std::isnan(truncated) || truncated < -9.2233720368547758e18 || truncated >= 9.2233720368547758e18) return Value::null();
            return Value::ofInt(wrap(to, static_cast<int64_t>(truncated)));
        }
        if (isText(from)) {
            std::string text = trimmed(value.s);
            int64_t number = 0;
            auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), number);
            if (status != std::errc() || end != text.data() + text.size() || text.empty()) return Value::null();
            if (to == plan::INT && (number < INT32_MIN || number > INT32_MAX)) return Value::null();
            return Value::ofInt(number);
        }
        return Value::ofInt(wrap(to, value.i));
    }
    case plan::FLOAT:
    case plan::DOUBLE:
        if (isFloatingType(from)) return Value::ofDouble(roundFloat(to, value.d));
        if (isText(from)) {
            std::string text = trimmed(value.s);
            char* end = nullptr;
            double number = std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size()) return Value::null();
            return Value::ofDouble(roundFloat(to, number));
        }
        return Value::ofDouble(roundFloat(to, static_cast<double>(value.i)));
    case plan::VARCHAR:
    case plan::BYTES:
        switch (from) {
        case plan::BOOLEAN: return Value::ofString(value.i ? "TRUE" : "FALSE");
        case plan::FLOAT:
        case plan::DOUBLE: return Value::ofString(fmt::format("{}", value.d));
        case plan::TIMESTAMP: return Value::ofString(timestampText(value.i));
        case plan::VARCHAR:
        case plan::BYTES: return Value::ofString(value.s);
        default: return Value::ofString(std::to_string(value.i));
        }
    case plan::TIMESTAMP:
        if (isText(from)) {
            auto millis = parseTimestampText(trimmed(value.s));
            return millis ? Value::ofInt(*millis) : Value::null();
        }
        return Value::ofInt(value.i);
    default: return Value::null();
    }
}

} // namespace

std::optional<int64_t> parseTimestampText(std::string_view text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    std::string copy(text);
    char fraction[8] = {0};
    int fields = std::sscanf(copy.c_str(), "%4d-%2d-%2d%*[ T]%2d:%2d:%2d.%3[0-9]", &year, &month, &day, &hour, &minute, &second, fraction);
    if (fields != 3 && fields != 6 && fields != 7) return std::nullopt;
    if (fields == 7) {
        std::string digits = fraction;
        while (digits.size() < 3) digits += '0';
        millis = std::stoi(digits);
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    return ((daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 24 + hour) * 60 + minute) * 60'000 +
           second * 1000 + millis;
}

int compareValues(const Value& a, const Value& b, plan::TypeId type) {
    if (isFloatingType(type)) return a.d < b.d ? -1 : a.d > b.d ? 1 : 0;
    if (isText(type)) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
}

template <ArithmeticOp op>
Value arithmetic(const CallFrame& call) {
    const Value& a = call.value(0);
    const Value& b = call.value(1);
    plan::TypeId type = call.type();
    if (isFloatingType(type)) {
        double x = a.d, y = b.d, result = 0;
        switch (op) {
        case ArithmeticOp::Add: result = x + y; break;
        case ArithmeticOp::Subtract: result = x - y; break;
        case ArithmeticOp::Multiply: result = x * y; break;
        case ArithmeticOp::Divide:
            if (y == 0) return Value::null();
            result = x / y;
            break;
        case ArithmeticOp::Modulo:
            if (y == 0) return Value::null();
            result = std::fmod(x, y);
            break;
        }
        return Value::ofDouble(roundFloat(type, result));
    }
    uint64_t x = static_cast<uint64_t>(a.i), y = static_cast<uint64_t>(b.i);
    int64_t result = 0;
    switch (op) {
    case ArithmeticOp::Add: result = static_cast<int64_t>(x + y); break;
    case ArithmeticOp::Subtract: result = static_cast<int64_t>(x - y); break;
    case ArithmeticOp::Multiply: result = static_cast<int64_t>(x * y); break;
    case ArithmeticOp::Divide:
    case ArithmeticOp::Modulo:
        // Division by zero is NULL; INT64_MIN / -1 wraps (to INT64_MIN, remainder 0) instead of trapping.
        if (b.i == 0) return Value::null();
        if (b.i == -1) result = op == ArithmeticOp::Divide ? static_cast<int64_t>(0 - x) : 0;
        else result = op == ArithmeticOp::Divide ? a.i / b.i : a.i % b.i;
        break;
    }
    return Value::ofInt(wrap(type, result));
}

template Value arithmetic<ArithmeticOp::Add>(const CallFrame&);
template Value arithmetic<ArithmeticOp::Subtract>(const CallFrame&);
template Value arithmetic<ArithmeticOp::Multiply>(const CallFrame&);
template Value arithmetic<ArithmeticOp::Divide>(const CallFrame&);
template Value arithmetic<ArithmeticOp::Modulo>(const CallFrame&);

Value negate(const CallFrame& call) {
    const Value& a = call.value(0);
    if (isFloatingType(call.type())) return Value::ofDouble(-a.d);
    return Value::ofInt(wrap(call.type(), static_cast<int64_t>(0 - static_cast<uint64_t>(a.i))));
}

template <ComparisonOp op>
Value comparison(const CallFrame& call) {
    int c = compareValues(call.value(0), call.value(1), call.argumentType(0));
    switch (op) {
    case ComparisonOp::Equal: return Value::ofBool(c == 0);
    case ComparisonOp::NotEqual: return Value::ofBool(c != 0);
    case ComparisonOp::Less: return Value::ofBool(c < 0);
    case ComparisonOp::LessEqual: return Value::ofBool(c <= 0);
    case ComparisonOp::Greater: return Value::ofBool(c > 0);
    case ComparisonOp::GreaterEqual: return Value::ofBool(c >= 0);
    }
    return Value::null();
}

template Value comparison<ComparisonOp::Equal>(const CallFrame&);
template Value comparison<ComparisonOp::NotEqual>(const CallFrame&);
template Value comparison<ComparisonOp::Less>(const CallFrame&);
template Value comparison<ComparisonOp::LessEqual>(const CallFrame&);
template Value comparison<ComparisonOp::Greater>(const CallFrame&);
template Value comparison<ComparisonOp::GreaterEqual>(const CallFrame&);

Value logicalAnd(const CallFrame& call) {
    // FALSE wins over NULL; NULL over TRUE.
    bool sawNull = false;
    for (size_t i = 0; i < call.size(); ++i) {
        Value v = call.evaluate(i);
        if (v.isNull) sawNull = true;
        else if (!v.i) return Value::ofBool(false);
    }
    return sawNull ? Value::null() : Value::ofBool(true);
}

Value logicalOr(const CallFrame& call) {
    bool sawNull = false;
    for (size_t i = 0; i < call.size(); ++i) {
        Value v = call.evaluate(i);
        if (v.isNull) sawNull = true;
        else if (v.i) return Value::ofBool(true);
    }
    return sawNull ? Value::null() : Value::ofBool(false);
}

Value logicalNot(const CallFrame& call) { return Value::ofBool(!call.value(0).i); }
Value isNull(const CallFrame& call) { return Value::ofBool(call.evaluate(0).isNull); }
Value isNotNull(const CallFrame& call) { return Value::ofBool(!call.evaluate(0).isNull); }

Value isTrue(const CallFrame& call) {
    Value a = call.evaluate(0);
    return Value::ofBool(!a.isNull && a.i);
}

Value isFalse(const CallFrame& call) {
    Value a = call.evaluate(0);
    return Value::ofBool(!a.isNull && !a.i);
}

namespace {

Value inList(const CallFrame& call, bool negated) {
    Value a = call.evaluate(0);
    if (a.isNull) return Value::null();
    bool sawNull = false;
    for (size_t k = 1; k < call.size(); ++k) {
        Value candidate = call.evaluate(k);
        if (candidate.isNull) sawNull = true;
        else if (compareValues(a, candidate, call.argumentType(0)) == 0) return Value::ofBool(!negated);
    }
    return sawNull ? Value::null() : Value::ofBool(negated);
}

Value betweenBounds(const CallFrame& call, bool negated) {
    Value a = call.evaluate(0), low = call.evaluate(1), high = call.evaluate(2);
    plan::TypeId type = call.argumentType(0);
    // x BETWEEN l AND h is x >= l AND x <= h, with three-valued logic.
    std::optional<bool> lowOk, highOk;
    if (!a.isNull && !low.isNull) lowOk = compareValues(a, low, type) >= 0;
    if (!a.isNull && !high.isNull) highOk = compareValues(a, high, type) <= 0;
    std::optional<bool> result;
    if ((lowOk && !*lowOk) || (highOk && !*highOk)) result = false;
    else if (lowOk && highOk) result = true;
    if (!result) return Value::null();
    return Value::ofBool(negated ? !*result : *result);
}

Value likePattern(const CallFrame& call, bool negated) {
    char escape = '\\';
    if (call.size() > 2) escape = call.value(2).s.empty() ? '\0' : call.value(2).s[0];
    bool matched = likeMatch(call.value(0).s, call.value(1).s, escape);
    return Value::ofBool(negated ? !matched : matched);
}

} // namespace

Value in(const CallFrame& call) { return inList(call, false); }
Value notIn(const CallFrame& call) { return inList(call, true); }
Value between(const CallFrame& call) { return betweenBounds(call, false); }
Value notBetween(const CallFrame& call) { return betweenBounds(call, true); }
Value like(const CallFrame& call) { return likePattern(call, false); }
Value notLike(const CallFrame& call) { return likePattern(call, true); }

Value caseWhen(const CallFrame& call) {
    size_t pairs = (call.size() - 1) / 2;
    for (size_t k = 0; k < pairs; ++k) {
        Value condition = call.evaluate(2 * k);
        if (!condition.isNull && condition.i) return call.evaluate(2 * k + 1);
    }
    return call.evaluate(call.size() - 1);
}

Value cast(const CallFrame& call) { return castValue(call.value(0), call.argumentType(0), call.type()); }

Value coalesce(const CallFrame& call) {
    for (size_t i = 0; i < call.size(); ++i) {
        Value v = call.evaluate(i);
        if (!v.isNull) return v;
    }
    return Value::null();
}

Value ifThenElse(const CallFrame& call) {
    // IF(condition, a, b): a when the condition is TRUE; b when it is FALSE or NULL (Flink's IF).
    Value condition = call.evaluate(0);
    return !condition.isNull && condition.i ? call.evaluate(1) : call.evaluate(2);
}

Value nullIf(const CallFrame& call) {
    Value a = call.evaluate(0);
    if (a.isNull) return a;
    Value b = call.evaluate(1);
    if (!b.isNull && compareValues(a, b, call.argumentType(0)) == 0) return Value::null();
    return a;
}

namespace {

/// The common type of arguments [first, size), casting each to it; `what` names the function in the error.
bool unifyArguments(CallTyping& typing, size_t first, std::string_view what) {
    plan::TypeId type = plan::TYPE_NULL;
    for (size_t i = first; i < typing.argumentTypes.size(); ++i) {
        plan::TypeId next;
        if (!commonType(type, typing.argumentTypes[i], next) || next == plan::INTERVAL) {
            typing.error = fmt::format("{} arguments must have compatible types: {} and {}", what, sqlTypeName(type),
                                       sqlTypeName(typing.argumentTypes[i]));
            typing.errorArgument = i;
            return false;
        }
        type = next;
    }
    for (size_t i = first; i < typing.argumentTypes.size(); ++i) typing.coerceTo[i] = type;
    typing.result = type;
    return true;
}

} // namespace

bool typeCoalesce(CallTyping& typing) {
    typing.nullable = std::all_of(typing.argumentNullable.begin(), typing.argumentNullable.end(), [](bool nullable) { return nullable; });
    return unifyArguments(typing, 0, "COALESCE");
}

bool typeIf(CallTyping& typing) {
    if (typing.argumentTypes[0] != plan::BOOLEAN && typing.argumentTypes[0] != plan::TYPE_NULL) {
        typing.error = fmt::format("IF's condition must be BOOLEAN, found {}", sqlTypeName(typing.argumentTypes[0]));
        typing.errorArgument = 0;
        return false;
    }
    typing.coerceTo[0] = plan::BOOLEAN;
    typing.nullable = typing.argumentNullable[1] || typing.argumentNullable[2];
    return unifyArguments(typing, 1, "IF");
}

bool typeNullIf(CallTyping& typing) { return unifyArguments(typing, 0, "NULLIF"); }

bool typeIntegerModulo(CallTyping& typing) {
    for (size_t i = 0; i < 2; ++i)
        if (!requireArgument(typing, i, isIntegerType, plan::TYPE_NULL, "integer")) return false;
    plan::TypeId type = plan::INT;
    commonType(typing.argumentTypes[0], typing.argumentTypes[1], type);
    if (type == plan::TYPE_NULL) type = plan::INT;
    typing.coerceTo = {type, type};
    typing.result = type;
    return true;
}

} // namespace pipec::runtime::functions
