#include "compiler/plan/query_binder.h"

#include "runtime/aggregates/aggregate.h"

#include <fmt/format.h>

namespace pipec::logical::binding {

bool isAggregateFunction(const std::string& name) { return runtime::isAggregateName(name); }

bool containsAggregateOrAuxiliary(const Expression& expression) {
    if (expression.kind == ExpressionKind::FunctionCall) {
        std::string name = upper(expression.name.front());
        plan::WindowKind kind;
        bool isEnd;
        if (isAggregateFunction(name) || windowAuxiliary(name, kind, isEnd)) return true;
    }
    for (const auto& argument : expression.arguments)
        if (containsAggregateOrAuxiliary(*argument)) return true;
    return false;
}

namespace {

std::string argumentCount(const runtime::AggregateDefinition& definition) {
    if (definition.minArguments == definition.maxArguments)
        return fmt::format("{} argument{}", definition.minArguments, definition.minArguments == 1 ? "" : "s");
    return fmt::format("{} to {} arguments", definition.minArguments, definition.maxArguments);
}

} // namespace

BoundExpressionPtr Binder::bindAggregate(const Expression& expression) {
    std::string name = upper(expression.name.front());
    const runtime::AggregateDefinition* definition = runtime::findSqlAggregate(name, expression.star);
    AggregateCall call;
    call.text = expression.text;
    call.distinct = expression.distinct;
    if (!definition) {
        if (expression.star) {
            auto& d = error("E0404", expression.span, fmt::format("{}(*) is not allowed; only COUNT(*) takes `*`", name));
            d.label = "expected a column or expression";
        } else {
            auto& d = error("E0404", expression.span, fmt::format("{} takes an argument", name));
            d.label = "wrong number of arguments";
        }
        return nullptr;
    }
    call.function = definition->planFunction;
    runtime::AggregateTyping typing;
    typing.name = name;
    if (!expression.star) {
        size_t count = expression.arguments.size();
        if (count < definition->minArguments || count > definition->maxArguments) {
            auto& d = error("E0404", expression.span,
                            definition->minArguments == definition->maxArguments && definition->minArguments == 1
                                ? fmt::format("{} takes 1 argument, got {}", name, count)
                                : fmt::format("{} takes {}, got {}", name, argumentCount(*definition), count));
            d.label = "wrong number of arguments";
            d.help = fmt::format("write `{}`", definition->signature);
            return nullptr;
        }
        const Expression& argumentExpression = *expression.arguments[0];
        if (containsAggregateOrAuxiliary(argumentExpression)) {
            auto& d = error("E0408", argumentExpression.span, "aggregate functions cannot be nested");
            d.label = fmt::format("inside {}", name);
            return nullptr;
        }
        auto argument = bindExpression(argumentExpression, Scope{ScopeKind::Source, "an aggregate argument"});
        if (!argument) return nullptr;
        typing.argumentType = argument->type;
        // Arguments after the first are constants (LISTAGG's separator).
        for (size_t k = 1; k < count; ++k) {
            const Expression& parameter = *expression.arguments[k];
            auto bound = bindExpression(parameter, Scope{ScopeKind::Source, "an aggregate argument"});
            if (!bound) return nullptr;
            if (bound->kind != BoundKind::Literal || bound->literal.is_null()) {
                auto& d = error("E0404", parameter.span, fmt::format("argument {} of {} must be a literal", k + 1, name));
                d.label = "not a constant";
                d.help = fmt::format("write `{}`", definition->signature);
                return nullptr;
            }
            typing.parameterTypes.push_back(bound->type);
            call.parameters.push_back(bound->literal);
        }
        if (typing.argumentType == plan::TYPE_NULL || typing.argumentType == plan::INTERVAL) {
            typeMismatch(argumentExpression, fmt::format("{} cannot aggregate a value of type {}", name, typeName(typing.argumentType)));
            return nullptr;
        }
        if (!definition->typeRule(typing)) {
            typeMismatch(typing.parameterTypes.empty() || typing.error.find("separator") == std::string::npos ? argumentExpression
                                                                                                                : *expression.arguments[1],
                         typing.error);
            if (!typing.help.empty()) error_last().help = typing.help;
            return nullptr;
        }
        call.argument = argument;
    } else {
        definition->typeRule(typing);
    }
    call.type = typing.result;
    call.nullable = typing.nullable;
    if (expression.distinct) {
        if (definition->distinct == runtime::DistinctUse::Refused) {
            auto& d = error("E0433", expression.span, fmt::format("{} does not take DISTINCT", name));
            d.label = "DISTINCT not allowed here";
            d.help = fmt::format("write `{}`", definition->signature);
            return nullptr;
        }
        // MIN(DISTINCT x) is MIN(x): not kept, so both spellings share one accumulator.
        if (definition->distinct == runtime::DistinctUse::Redundant) call.distinct = false;
    }
    if (expression.filter && !definition->filter) {
        auto& d = error("E0432", expression.filter->span, fmt::format("{} does not take a FILTER clause", name));
        d.label = "FILTER not allowed here";
        return nullptr;
    }
    if (expression.filter) {
        const Expression& condition = *expression.filter;
        if (containsAggregateOrAuxiliary(condition)) {
            auto& d = error("E0408", condition.span, "aggregate functions cannot be nested");
            d.label = fmt::format("inside the FILTER of {}", name);
            return nullptr;
        }
        auto filter = bindExpression(condition, Scope{ScopeKind::Source, "a FILTER condition"});
        if (!filter) return nullptr;
        if (filter->type != plan::BOOLEAN) {
            typeMismatch(condition, fmt::format("FILTER (WHERE …) needs a BOOLEAN condition, found {}", typeName(filter->type)));
            return nullptr;
        }
        call.filter = filter;
    }
    // The same aggregate written twice is computed once.
    auto same = [](const BoundExpressionPtr& a, const BoundExpressionPtr& b) { return (!a && !b) || (a && b && sameExpression(*a, *b)); };
    for (size_t i = 0; i < plan_.aggregates.size(); ++i) {
        const AggregateCall& existing = plan_.aggregates[i];
        bool sameParameters = existing.parameters.size() == call.parameters.size();
        for (size_t k = 0; sameParameters && k < call.parameters.size(); ++k)
            sameParameters = existing.parameters[k].SerializeAsString() == call.parameters[k].SerializeAsString();
        if (existing.function == call.function && existing.distinct == call.distinct && same(existing.argument, call.argument) &&
            same(existing.filter, call.filter) && sameParameters)
            return aggregateReference(i);
    }
    plan_.aggregates.push_back(std::move(call));
    return aggregateReference(plan_.aggregates.size() - 1);
}

Diagnostic& Binder::error_last() { return const_cast<Diagnostic&>(diagnostics_->all().back()); }

BoundExpressionPtr Binder::aggregateReference(size_t index) {
    const AggregateCall& call = plan_.aggregates[index];
    // Aggregates are appended after binding the group keys, so their row positions are stable.
    return BoundExpression::makeColumn(static_cast<int>(plan_.groupKeys.size() + index), call.text, call.type, call.nullable);
}

bool Binder::containsAggregate(const Expression& expression) {
    if (expression.kind == ExpressionKind::FunctionCall && isAggregateFunction(upper(expression.name.front()))) return true;
    for (const auto& argument : expression.arguments)
        if (containsAggregate(*argument)) return true;
    return false;
}

} // namespace pipec::logical::binding
