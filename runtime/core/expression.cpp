#include "runtime/core/expression.h"

#include "runtime/core/civil_time.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

namespace pipec::runtime {

namespace {

using plan::TypeId;

enum class Op {
    Column, Literal,
    Add, Subtract, Multiply, Divide, Modulo, Negate,
    Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual,
    And, Or, Not, IsNull, IsNotNull, IsTrue, IsFalse,
    In, NotIn, Between, NotBetween, Like, NotLike,
    Case, Cast, Coalesce,
    Abs, Lower, Upper, Concat, CharLength, Trim, Substring, Round, Floor, Ceil, Power, Sqrt,
};

Op opFor(const std::string& name) {
    static const std::pair<const char*, Op> kOps[] = {
        {"add", Op::Add}, {"subtract", Op::Subtract}, {"multiply", Op::Multiply}, {"divide", Op::Divide},
        {"modulo", Op::Modulo}, {"mod", Op::Modulo}, {"negate", Op::Negate}, {"equal", Op::Equal},
        {"not_equal", Op::NotEqual}, {"less", Op::Less}, {"less_equal", Op::LessEqual}, {"greater", Op::Greater},
        {"greater_equal", Op::GreaterEqual}, {"and", Op::And}, {"or", Op::Or}, {"not", Op::Not}, {"is_null", Op::IsNull},
        {"is_not_null", Op::IsNotNull}, {"is_true", Op::IsTrue}, {"is_false", Op::IsFalse}, {"in", Op::In},
        {"not_in", Op::NotIn}, {"between", Op::Between}, {"not_between", Op::NotBetween}, {"like", Op::Like},
        {"not_like", Op::NotLike}, {"case", Op::Case}, {"cast", Op::Cast}, {"coalesce", Op::Coalesce}, {"abs", Op::Abs},
        {"lower", Op::Lower}, {"upper", Op::Upper}, {"concat", Op::Concat}, {"char_length", Op::CharLength},
        {"trim", Op::Trim}, {"substring", Op::Substring}, {"round", Op::Round}, {"floor", Op::Floor}, {"ceil", Op::Ceil},
        {"power", Op::Power}, {"sqrt", Op::Sqrt}};
    for (const auto& [text, op] : kOps)
        if (name == text) return op;
    throw std::invalid_argument("unknown function `" + name + "` in plan");
}

bool isFloating(TypeId type) { return type == plan::FLOAT || type == plan::DOUBLE; }
bool isText(TypeId type) { return type == plan::VARCHAR || type == plan::BYTES; }

int64_t wrap(TypeId type, int64_t value) {
    return type == plan::INT ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value))) : value;
}

double roundFloat(TypeId type, double value) { return type == plan::FLOAT ? static_cast<double>(static_cast<float>(value)) : value; }


std::string timestampText(int64_t millis) {
    CivilTime t = civilFromMillis(millis);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}", t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond);
}

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

} // namespace

struct CompiledExpression::Node {
    Op op = Op::Literal;
    TypeId type = plan::TYPE_NULL;
    TypeId operandType = plan::TYPE_NULL;  // the type of args[0] (comparisons, casts)
    int column = -1;
    Value literal;
    std::vector<std::unique_ptr<Node>> args;

    Value evaluate(const Row& row) const;

private:
    Value arithmetic(const Row& row) const;
    Value compare(const Row& row) const;
    Value cast(const Value& value) const;
    int order(const Value& a, const Value& b, TypeId type) const;
};

namespace {

std::unique_ptr<CompiledExpression::Node> build(const plan::Expr& expression) {
    auto node = std::make_unique<CompiledExpression::Node>();
    node->type = expression.type();
    switch (expression.kind_case()) {
    case plan::Expr::kColumn:
        node->op = Op::Column;
        node->column = expression.column();
        if (node->column < 0) throw std::invalid_argument("negative column index in plan");
        break;
    case plan::Expr::kLiteral: {
        node->op = Op::Literal;
        const auto& literal = expression.literal();
        if (!literal.is_null()) {
            switch (literal.value_case()) {
            case plan::Literal::kBoolValue: node->literal = Value::ofBool(literal.bool_value()); break;
            case plan::Literal::kIntValue: node->literal = Value::ofInt(literal.int_value()); break;
            case plan::Literal::kDoubleValue: node->literal = Value::ofDouble(literal.double_value()); break;
            case plan::Literal::kStringValue: node->literal = Value::ofString(literal.string_value()); break;
            default: break;
            }
        }
        break;
    }
    case plan::Expr::kCall:
        node->op = opFor(expression.call().function());
        for (const auto& argument : expression.call().args()) node->args.push_back(build(argument));
        if (!node->args.empty()) node->operandType = node->args[0]->type;
        break;
    default: throw std::invalid_argument("empty expression in plan");
    }
    return node;
}

} // namespace

int CompiledExpression::Node::order(const Value& a, const Value& b, TypeId type) const {
    if (isFloating(type)) return a.d < b.d ? -1 : a.d > b.d ? 1 : 0;
    if (isText(type)) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
}

Value CompiledExpression::Node::arithmetic(const Row& row) const {
    Value a = args[0]->evaluate(row);
    if (a.isNull) return Value::null();
    Value b = args[1]->evaluate(row);
    if (b.isNull) return Value::null();
    if (isFloating(type)) {
        double x = a.d, y = b.d, result = 0;
        switch (op) {
        case Op::Add: result = x + y; break;
        case Op::Subtract: result = x - y; break;
        case Op::Multiply: result = x * y; break;
        case Op::Divide:
            if (y == 0) return Value::null();
            result = x / y;
            break;
        case Op::Modulo:
            if (y == 0) return Value::null();
            result = std::fmod(x, y);
            break;
        default: break;
        }
        return Value::ofDouble(roundFloat(type, result));
    }
    uint64_t x = static_cast<uint64_t>(a.i), y = static_cast<uint64_t>(b.i);
    int64_t result = 0;
    switch (op) {
    case Op::Add: result = static_cast<int64_t>(x + y); break;
    case Op::Subtract: result = static_cast<int64_t>(x - y); break;
    case Op::Multiply: result = static_cast<int64_t>(x * y); break;
    case Op::Divide:
    case Op::Modulo:
        // Division by zero is NULL; INT64_MIN / -1 wraps (to INT64_MIN, remainder 0) instead of trapping.
        if (b.i == 0) return Value::null();
        if (b.i == -1) result = op == Op::Divide ? static_cast<int64_t>(0 - x) : 0;
        else result = op == Op::Divide ? a.i / b.i : a.i % b.i;
        break;
    default: break;
    }
    return Value::ofInt(wrap(type, result));
}

Value CompiledExpression::Node::compare(const Row& row) const {
    Value a = args[0]->evaluate(row);
    if (a.isNull) return Value::null();
    Value b = args[1]->evaluate(row);
    if (b.isNull) return Value::null();
    int c = order(a, b, operandType);
    switch (op) {
    case Op::Equal: return Value::ofBool(c == 0);
    case Op::NotEqual: return Value::ofBool(c != 0);
    case Op::Less: return Value::ofBool(c < 0);
    case Op::LessEqual: return Value::ofBool(c <= 0);
    case Op::Greater: return Value::ofBool(c > 0);
    default: return Value::ofBool(c >= 0);
    }
}

Value CompiledExpression::Node::cast(const Value& value) const {
    if (value.isNull) return Value::null();
    TypeId from = operandType, to = type;
    if (from == to) return value;
    switch (to) {
    case plan::BOOLEAN:
        if (isFloating(from)) return Value::ofBool(value.d != 0);
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
        if (isFloating(from)) {
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
        if (isFloating(from)) return Value::ofDouble(roundFloat(to, value.d));
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

Value CompiledExpression::Node::evaluate(const Row& row) const {
    switch (op) {
    case Op::Column: return column < static_cast<int>(row.size()) ? row[static_cast<size_t>(column)] : Value::null();
    case Op::Literal: return literal;
    case Op::Add:
    case Op::Subtract:
    case Op::Multiply:
    case Op::Divide:
    case Op::Modulo: return arithmetic(row);
    case Op::Negate: {
        Value a = args[0]->evaluate(row);
        if (a.isNull) return a;
        if (isFloating(type)) return Value::ofDouble(-a.d);
        return Value::ofInt(wrap(type, static_cast<int64_t>(0 - static_cast<uint64_t>(a.i))));
    }
    case Op::Equal:
    case Op::NotEqual:
    case Op::Less:
    case Op::LessEqual:
    case Op::Greater:
    case Op::GreaterEqual: return compare(row);
    case Op::And: {
        // FALSE wins over NULL; NULL over TRUE.
        bool sawNull = false;
        for (const auto& argument : args) {
            Value v = argument->evaluate(row);
            if (v.isNull) sawNull = true;
            else if (!v.i) return Value::ofBool(false);
        }
        return sawNull ? Value::null() : Value::ofBool(true);
    }
    case Op::Or: {
        bool sawNull = false;
        for (const auto& argument : args) {
            Value v = argument->evaluate(row);
            if (v.isNull) sawNull = true;
            else if (v.i) return Value::ofBool(true);
        }
        return sawNull ? Value::null() : Value::ofBool(false);
    }
    case Op::Not: {
        Value a = args[0]->evaluate(row);
        return a.isNull ? a : Value::ofBool(!a.i);
    }
    case Op::IsNull: return Value::ofBool(args[0]->evaluate(row).isNull);
    case Op::IsNotNull: return Value::ofBool(!args[0]->evaluate(row).isNull);
    case Op::IsTrue: {
        Value a = args[0]->evaluate(row);
        return Value::ofBool(!a.isNull && a.i);
    }
    case Op::IsFalse: {
        Value a = args[0]->evaluate(row);
        return Value::ofBool(!a.isNull && !a.i);
    }
    case Op::In:
    case Op::NotIn: {
        Value a = args[0]->evaluate(row);
        if (a.isNull) return Value::null();
        bool sawNull = false;
        for (size_t k = 1; k < args.size(); ++k) {
            Value candidate = args[k]->evaluate(row);
            if (candidate.isNull) sawNull = true;
            else if (order(a, candidate, operandType) == 0) return Value::ofBool(op == Op::In);
        }
        return sawNull ? Value::null() : Value::ofBool(op == Op::NotIn);
    }
    case Op::Between:
    case Op::NotBetween: {
        Value a = args[0]->evaluate(row), low = args[1]->evaluate(row), high = args[2]->evaluate(row);
        // x BETWEEN l AND h is x >= l AND x <= h, with three-valued logic.
        std::optional<bool> lowOk, highOk;
        if (!a.isNull && !low.isNull) lowOk = order(a, low, operandType) >= 0;
        if (!a.isNull && !high.isNull) highOk = order(a, high, operandType) <= 0;
        std::optional<bool> result;
        if ((lowOk && !*lowOk) || (highOk && !*highOk)) result = false;
        else if (lowOk && highOk) result = true;
        if (!result) return Value::null();
        return Value::ofBool(op == Op::Between ? *result : !*result);
    }
    case Op::Like:
    case Op::NotLike: {
        Value text = args[0]->evaluate(row), pattern = args[1]->evaluate(row);
        if (text.isNull || pattern.isNull) return Value::null();
        char escape = '\\';
        if (args.size() > 2) {
            Value e = args[2]->evaluate(row);
            if (e.isNull) return Value::null();
            escape = e.s.empty() ? '\0' : e.s[0];
        }
        bool matched = likeMatch(text.s, pattern.s, escape);
        return Value::ofBool(op == Op::Like ? matched : !matched);
    }
    case Op::Case: {
        size_t pairs = (args.size() - 1) / 2;
        for (size_t k = 0; k < pairs; ++k) {
            Value condition = args[2 * k]->evaluate(row);
            if (!condition.isNull && condition.i) return args[2 * k + 1]->evaluate(row);
        }
        return args.back()->evaluate(row);
    }
    case Op::Cast: return cast(args[0]->evaluate(row));
    case Op::Coalesce:
        for (const auto& argument : args) {
            Value v = argument->evaluate(row);
            if (!v.isNull) return v;
        }
        return Value::null();
    case Op::Abs: {
        Value a = args[0]->evaluate(row);
        if (a.isNull) return a;
        if (isFloating(type)) return Value::ofDouble(std::fabs(a.d));
        return Value::ofInt(wrap(type, a.i < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(a.i)) : a.i));
    }
    case Op::Lower:
    case Op::Upper: {
        Value a = args[0]->evaluate(row);
        if (a.isNull) return a;
        for (char& c : a.s) c = static_cast<char>(op == Op::Lower ? std::tolower(static_cast<unsigned char>(c)) : std::toupper(static_cast<unsigned char>(c)));
        return a;
    }
    case Op::Concat: {
        std::string result;
        for (const auto& argument : args) {
            Value v = argument->evaluate(row);
            if (v.isNull) return Value::null();
            result += v.s;
        }
        return Value::ofString(std::move(result));
    }
    case Op::CharLength: {
        Value a = args[0]->evaluate(row);
        if (a.isNull) return a;
        int64_t length = 0;
        for (unsigned char c : a.s) length += (c & 0xC0) != 0x80;  // code points, not bytes
        return Value::ofInt(length);
    }
    case Op::Trim: {
        Value a = args[0]->evaluate(row);
        if (a.isNull) return a;
        size_t begin = a.s.find_first_not_of(' ');
        if (begin == std::string::npos) return Value::ofString("");
        size_t end = a.s.find_last_not_of(' ');
        return Value::ofString(a.s.substr(begin, end - begin + 1));
    }
    case Op::Substring: {
        Value a = args[0]->evaluate(row), start = args[1]->evaluate(row);
        if (a.isNull || start.isNull) return Value::null();
        // SQL: 1-based; characters before position 1 count against the length.
        int64_t from = start.i, length = INT64_MAX;
        if (args.size() > 2) {
            Value l = args[2]->evaluate(row);
            if (l.isNull) return Value::null();
            if (l.i < 0) return Value::null();
            length = l.i;
        }
        int64_t end = length == INT64_MAX ? INT64_MAX : (from > INT64_MAX - length ? INT64_MAX : from + length);
        int64_t begin = std::max<int64_t>(from, 1);
        int64_t size = static_cast<int64_t>(a.s.size());
        if (end <= begin || begin > size) return Value::ofString("");
        end = std::min(end, size + 1);
        return Value::ofString(a.s.substr(static_cast<size_t>(begin - 1), static_cast<size_t>(end - begin)));
    }
    case Op::Round:
    case Op::Floor:
    case Op::Ceil: {
        Value a = args[0]->evaluate(row);
        if (a.isNull || !isFloating(type)) return a;
        double result = op == Op::Round ? std::round(a.d) : op == Op::Floor ? std::floor(a.d) : std::ceil(a.d);
        return Value::ofDouble(result);
    }
    case Op::Power:
    case Op::Sqrt: {
        Value a = args[0]->evaluate(row);
        if (a.isNull) return a;
        if (op == Op::Sqrt) return a.d < 0 ? Value::null() : Value::ofDouble(std::sqrt(a.d));
        Value b = args[1]->evaluate(row);
        if (b.isNull) return b;
        double result = std::pow(a.d, b.d);
        return std::isnan(result) ? Value::null() : Value::ofDouble(result);
    }
    }
    return Value::null();
}

CompiledExpression CompiledExpression::compile(const plan::Expr& expression) {
    CompiledExpression compiled;
    compiled.root_ = build(expression);
    return compiled;
}

Value CompiledExpression::evaluate(const Row& row) const { return root_ ? root_->evaluate(row) : Value::null(); }

bool CompiledExpression::evaluatePredicate(const Row& row) const {
    Value value = evaluate(row);
    return !value.isNull && value.i != 0;
}

plan::TypeId CompiledExpression::type() const { return root_ ? root_->type : plan::TYPE_NULL; }

CompiledExpression::CompiledExpression() = default;
CompiledExpression::~CompiledExpression() = default;
CompiledExpression::CompiledExpression(CompiledExpression&&) noexcept = default;
CompiledExpression& CompiledExpression::operator=(CompiledExpression&&) noexcept = default;

} // namespace pipec::runtime
