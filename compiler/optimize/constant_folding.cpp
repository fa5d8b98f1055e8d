#include "compiler/optimize/optimizer.h"

#include "runtime/core/expression.h"
#include "runtime/core/function_catalog.h"

namespace pipec::optimize {

using logical::BoundExpression;
using logical::BoundExpressionPtr;
using logical::BoundKind;

namespace {

bool isBooleanLiteral(const BoundExpression& e, bool value) {
    return e.kind == BoundKind::Literal && !e.literal.is_null() && e.literal.value_case() == plan::Literal::kBoolValue &&
           e.literal.bool_value() == value;
}

/// The literal holding a runtime value of `type`.
BoundExpressionPtr literalOf(const runtime::Value& value, plan::TypeId type) {
    plan::Literal literal;
    if (value.isNull) {
        literal.set_is_null(true);
    } else {
        switch (type) {
        case plan::BOOLEAN: literal.set_bool_value(value.i != 0); break;
        case plan::FLOAT:
        case plan::DOUBLE: literal.set_double_value(value.d); break;
        case plan::VARCHAR:
        case plan::BYTES: literal.set_string_value(value.s); break;
        default: literal.set_int_value(value.i); break;
        }
    }
    return BoundExpression::makeLiteral(literal, type);
}

/// Evaluates calls whose arguments are all literals with the runtime's own implementation (so a folded constant is
/// exactly what the job would have computed), and simplifies AND/OR with one known side (three-valued logic).
BoundExpressionPtr fold(const BoundExpressionPtr& expression) {
    if (expression->kind != BoundKind::Call) return expression;
    auto folded = std::make_shared<BoundExpression>(*expression);
    for (auto& argument : folded->arguments) argument = fold(argument);
    const auto& arguments = folded->arguments;
    const std::string& function = folded->function;

    if (function == "and" || function == "or") {
        bool absorbing = function == "or";  // TRUE absorbs OR, FALSE absorbs AND
        for (const auto& argument : arguments)
            if (isBooleanLiteral(*argument, absorbing)) return literalOf(runtime::Value::ofBool(absorbing), plan::BOOLEAN);
        std::vector<BoundExpressionPtr> remaining;
        for (const auto& argument : arguments)
            if (!isBooleanLiteral(*argument, !absorbing)) remaining.push_back(argument);
        if (remaining.empty()) return literalOf(runtime::Value::ofBool(!absorbing), plan::BOOLEAN);
        if (remaining.size() == 1) return remaining.front();
        folded->arguments = remaining;
        return folded;
    }
    for (const auto& argument : arguments)
        if (argument->kind != BoundKind::Literal) return folded;
    const runtime::FunctionDefinition* definition = runtime::findPlanFunction(function);
    if (!definition || !definition->deterministic) return folded;
    runtime::CompiledExpression compiled = runtime::CompiledExpression::compile(logical::toPlanExpression(*folded));
    return literalOf(compiled.evaluate(runtime::Row{}), folded->type);
}

} // namespace

void foldConstants(logical::LogicalPlan& plan) {
    for (auto& filter : plan.filters) filter = fold(filter);
    for (auto& key : plan.groupKeys) key = fold(key);
    for (auto& aggregate : plan.aggregates) {
        if (aggregate.argument) aggregate.argument = fold(aggregate.argument);
        if (aggregate.filter) aggregate.filter = fold(aggregate.filter);
    }
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
    // `agg(x) FILTER (WHERE TRUE)` is `agg(x)`.
    for (auto& aggregate : plan.aggregates)
        if (aggregate.filter && isBooleanLiteral(*aggregate.filter, true)) aggregate.filter = nullptr;
}

} // namespace pipec::optimize
