#include "compiler/plan/query_binder.h"

#include <fmt/format.h>

namespace pipec::logical::binding {

AggregateKind aggregateKind(const std::string& name) {
    if (name == "COUNT") return AggregateKind::Count;
    if (name == "SUM") return AggregateKind::Sum;
    if (name == "AVG") return AggregateKind::Avg;
    if (name == "MIN") return AggregateKind::Min;
    if (name == "MAX") return AggregateKind::Max;
    return AggregateKind::None;
}

bool containsAggregateOrAuxiliary(const Expression& expression) {
    if (expression.kind == ExpressionKind::FunctionCall) {
        std::string name = upper(expression.name.front());
        plan::WindowKind kind;
        bool isEnd;
        if (aggregateKind(name) != AggregateKind::None || windowAuxiliary(name, kind, isEnd)) return true;
    }
    for (const auto& argument : expression.arguments)
        if (containsAggregateOrAuxiliary(*argument)) return true;
    return false;
}

BoundExpressionPtr Binder::bindAggregate(const Expression& expression) {
    std::string name = upper(expression.name.front());
    AggregateKind kind = aggregateKind(name);
    AggregateCall call;
    call.text = expression.text;
    call.distinct = expression.distinct;
    if (expression.star) {
        if (kind != AggregateKind::Count) {
            auto& d = error("E0404", expression.span, fmt::format("{}(*) is not allowed; only COUNT(*) takes `*`", name));
            d.label = "expected a column or expression";
            return nullptr;
        }
        call.function = plan::COUNT_STAR;
        call.type = plan::BIGINT;
        call.nullable = false;
    } else {
        if (expression.arguments.size() != 1) {
            auto& d = error("E0404", expression.span, fmt::format("{} takes 1 argument, got {}", name, expression.arguments.size()));
            d.label = "wrong number of arguments";
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
        plan::TypeId type = argument->type;
        switch (kind) {
        case AggregateKind::Count:
            call.function = plan::COUNT;
            call.type = plan::BIGINT;
            call.nullable = false;
            break;
        case AggregateKind::Sum:
        case AggregateKind::Avg:
            if (!isNumeric(type)) {
                typeMismatch(argumentExpression, fmt::format("{} expects a numeric argument, found {}", name, typeName(type)));
                if (type == plan::BOOLEAN) error_last().help = fmt::format("count TRUE values with {}(CAST(x AS INT))", name);
                return nullptr;
            }
            call.function = kind == AggregateKind::Sum ? plan::SUM : plan::AVG;
            call.type = type;
            break;
        case AggregateKind::Min:
        case AggregateKind::Max:
            if (!isNumeric(type) && type != plan::VARCHAR && type != plan::TIMESTAMP && type != plan::BOOLEAN) {
                typeMismatch(argumentExpression, fmt::format("{} expects a comparable argument, found {}", name, typeName(type)));
                return nullptr;
            }
            call.function = kind == AggregateKind::Min ? plan::MIN : plan::MAX;
            call.type = type;
            break;
        case AggregateKind::None: return nullptr;
        }
        if (type == plan::TYPE_NULL || type == plan::INTERVAL) {
            typeMismatch(argumentExpression, fmt::format("{} cannot aggregate a value of type {}", name, typeName(type)));
            return nullptr;
        }
        call.argument = argument;
    }
    // The same aggregate written twice is computed once.
    for (size_t i = 0; i < plan_.aggregates.size(); ++i) {
        const AggregateCall& existing = plan_.aggregates[i];
        bool sameArgument = (!existing.argument && !call.argument) ||
                            (existing.argument && call.argument && sameExpression(*existing.argument, *call.argument));
        if (existing.function == call.function && existing.distinct == call.distinct && sameArgument)
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
    if (expression.kind == ExpressionKind::FunctionCall && aggregateKind(upper(expression.name.front())) != AggregateKind::None)
        return true;
    for (const auto& argument : expression.arguments)
        if (containsAggregate(*argument)) return true;
    return false;
}

} // namespace pipec::logical::binding
