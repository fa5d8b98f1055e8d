#include "compiler/optimize/optimizer.h"

#include <cmath>
#include <limits>

namespace pipec::optimize {

using logical::BoundExpression;
using logical::BoundExpressionPtr;
using logical::BoundKind;

namespace {

bool isIntegerType(plan::TypeId type) {
    return type == plan::INT || type == plan::BIGINT || type == plan::TIMESTAMP || type == plan::INTERVAL;
}

/// Wraps a 64-bit result to the width of `type`, as the runtime does.
int64_t wrap(int64_t value, plan::TypeId type) {
    return type == plan::INT ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value))) : value;
}

BoundExpressionPtr makeInteger(int64_t value, plan::TypeId type) {
    plan::Literal literal;
    literal.set_int_value(wrap(value, type));
    return BoundExpression::makeLiteral(literal, type);
}

BoundExpressionPtr makeDouble(double value, plan::TypeId type) {
    plan::Literal literal;
    literal.set_double_value(type == plan::FLOAT ? static_cast<double>(static_cast<float>(value)) : value);
    return BoundExpression::makeLiteral(literal, type);
}

BoundExpressionPtr makeBoolean(bool value) {
    plan::Literal literal;
    literal.set_bool_value(value);
    return BoundExpression::makeLiteral(literal, plan::BOOLEAN);
}

BoundExpressionPtr makeNull(plan::TypeId type) {
    plan::Literal literal;
    literal.set_is_null(true);
    return BoundExpression::makeLiteral(literal, type);
}

bool isNullLiteral(const BoundExpression& e) { return e.kind == BoundKind::Literal && e.literal.is_null(); }
bool isBooleanLiteral(const BoundExpression& e, bool value) {
    return e.kind == BoundKind::Literal && !e.literal.is_null() && e.literal.value_case() == plan::Literal::kBoolValue &&
           e.literal.bool_value() == value;
}

double asDouble(const plan::Literal& literal) {
    return literal.value_case() == plan::Literal::kDoubleValue ? literal.double_value() : static_cast<double>(literal.int_value());
}

/// Folds arithmetic, comparisons, logic and numeric casts over literals; leaves everything else to the runtime.
BoundExpressionPtr fold(const BoundExpressionPtr& expression) {
    if (expression->kind != BoundKind::Call) return expression;
    auto folded = std::make_shared<BoundExpression>(*expression);
    for (auto& argument : folded->arguments) argument = fold(argument);
    const auto& arguments = folded->arguments;
    const std::string& function = folded->function;

    // Logic with one known side (SQL three-valued logic).
    if (function == "and" || function == "or") {
        bool absorbing = function == "or";  // TRUE absorbs OR, FALSE absorbs AND
        for (const auto& argument : arguments)
            if (isBooleanLiteral(*argument, absorbing)) return makeBoolean(absorbing);
        std::vector<BoundExpressionPtr> remaining;
        for (const auto& argument : arguments)
            if (!isBooleanLiteral(*argument, !absorbing)) remaining.push_back(argument);
        if (remaining.empty()) return makeBoolean(!absorbing);
        if (remaining.size() == 1) return remaining.front();
        folded->arguments = remaining;
        return folded;
    }
    for (const auto& argument : arguments)
        if (argument->kind != BoundKind::Literal) return folded;
    if (function == "is_null") return makeBoolean(isNullLiteral(*arguments[0]));
    if (function == "is_not_null") return makeBoolean(!isNullLiteral(*arguments[0]));
    for (const auto& argument : arguments)
        if (isNullLiteral(*argument)) {
            static const char* kNullPropagating[] = {"add", "subtract", "multiply", "divide", "modulo", "negate", "equal",
                                                     "not_equal", "less", "less_equal", "greater", "greater_equal", "not", "cast"};
            for (const char* name : kNullPropagating)
                if (function == name) return makeNull(folded->type);
            return folded;
        }
    const plan::Literal& a = arguments[0]->literal;
    plan::TypeId operandType = arguments[0]->type;
    if (function == "not") return makeBoolean(!a.bool_value());
    if (function == "negate") {
        if (isIntegerType(operandType)) return makeInteger(static_cast<int64_t>(0ULL - static_cast<uint64_t>(a.int_value())), folded->type);
        return makeDouble(-a.double_value(), folded->type);
    }
    if (function == "cast") {
        plan::TypeId target = folded->type;
        if (operandType == plan::BOOLEAN && isIntegerType(target)) return makeInteger(a.bool_value() ? 1 : 0, target);
        if (isIntegerType(operandType) && isIntegerType(target) && target != plan::TIMESTAMP) return makeInteger(a.int_value(), target);
        if ((operandType == plan::INT || operandType == plan::BIGINT) && (target == plan::DOUBLE || target == plan::FLOAT))
            return makeDouble(static_cast<double>(a.int_value()), target);
        if ((operandType == plan::DOUBLE || operandType == plan::FLOAT) && (target == plan::DOUBLE || target == plan::FLOAT))
            return makeDouble(a.double_value(), target);
        return folded;
    }
    if (arguments.size() != 2) return folded;
    const plan::Literal& b = arguments[1]->literal;
    bool integers = isIntegerType(operandType) && isIntegerType(arguments[1]->type);
    bool numbers = integers || (logical::isNumeric(operandType) && logical::isNumeric(arguments[1]->type));
    if (numbers) {
        static const char* kComparisons[] = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"};
        for (int i = 0; i < 6; ++i) {
            if (function != kComparisons[i]) continue;
            int order = integers ? (a.int_value() < b.int_value() ? -1 : a.int_value() > b.int_value())
                                 : (asDouble(a) < asDouble(b) ? -1 : asDouble(a) > asDouble(b));
            bool results[] = {order == 0, order != 0, order < 0, order <= 0, order > 0, order >= 0};
            return makeBoolean(results[i]);
        }
        if (integers) {
            uint64_t x = static_cast<uint64_t>(a.int_value()), y = static_cast<uint64_t>(b.int_value());
            if (function == "add") return makeInteger(static_cast<int64_t>(x + y), folded->type);
            if (function == "subtract") return makeInteger(static_cast<int64_t>(x - y), folded->type);
            if (function == "multiply") return makeInteger(static_cast<int64_t>(x * y), folded->type);
            // Division by zero and INT64_MIN / -1 are left to the runtime, which defines them.
            if ((function == "divide" || function == "modulo") && b.int_value() != 0 &&
                !(b.int_value() == -1 && a.int_value() == std::numeric_limits<int64_t>::min())) {
                return makeInteger(function == "divide" ? a.int_value() / b.int_value() : a.int_value() % b.int_value(), folded->type);
            }
            return folded;
        }
        if (function == "add") return makeDouble(asDouble(a) + asDouble(b), folded->type);
        if (function == "subtract") return makeDouble(asDouble(a) - asDouble(b), folded->type);
        if (function == "multiply") return makeDouble(asDouble(a) * asDouble(b), folded->type);
        if (function == "divide" && asDouble(b) != 0) return makeDouble(asDouble(a) / asDouble(b), folded->type);
    }
    return folded;
}

} // namespace

void foldConstants(logical::LogicalPlan& plan) {
    for (auto& filter : plan.filters) filter = fold(filter);
    for (auto& key : plan.groupKeys) key = fold(key);
    for (auto& aggregate : plan.aggregates)
        if (aggregate.argument) aggregate.argument = fold(aggregate.argument);
    if (plan.having) plan.having = fold(plan.having);
    for (auto& output : plan.outputs) output.expression = fold(output.expression);
}

void simplifyFilters(logical::LogicalPlan& plan) {
    std::vector<BoundExpressionPtr> kept;
    for (const auto& filter : plan.filters) {
        if (isBooleanLiteral(*filter, true)) continue;
        bool duplicate = false;
        for (const auto& existing : kept) duplicate = duplicate || logical::sameExpression(*existing, *filter);
        if (!duplicate) kept.push_back(filter);
    }
    plan.filters = std::move(kept);
    if (plan.having && isBooleanLiteral(*plan.having, true)) plan.having = nullptr;
}

} // namespace pipec::optimize
