// Scalar function calls, bound through the function catalog (runtime/core/function_catalog.h): the catalog says
// which names exist, how many arguments they take, how they are typed and what they are called in the plan.
#include "compiler/plan/query_binder.h"
#include "runtime/aggregates/aggregate.h"

#include "runtime/core/function_catalog.h"

#include <fmt/format.h>

#include <algorithm>

namespace pipec::logical::binding {

namespace {

runtime::CallSyntax syntaxOf(sql::CallForm form) {
    switch (form) {
    case sql::CallForm::Arguments: return runtime::CallSyntax::Arguments;
    case sql::CallForm::From: return runtime::CallSyntax::From;
    case sql::CallForm::To: return runtime::CallSyntax::To;
    case sql::CallForm::In: return runtime::CallSyntax::In;
    }
    return runtime::CallSyntax::Arguments;
}

bool named(const runtime::FunctionDefinition& function, const std::string& name) {
    return std::find(function.sqlNames.begin(), function.sqlNames.end(), name) != function.sqlNames.end();
}

std::vector<std::string> knownFunctionNames() {
    std::vector<std::string> names = runtime::sqlFunctionNames();
    for (const auto* aggregate : runtime::aggregateCatalog())
        if (std::find(names.begin(), names.end(), aggregate->sqlName) == names.end()) names.emplace_back(aggregate->sqlName);
    for (const char* name : {"TUMBLE", "HOP", "SESSION", "TUMBLE_START", "TUMBLE_END", "HOP_START", "HOP_END", "SESSION_START", "SESSION_END",
                             "TUMBLE_ROWTIME", "HOP_ROWTIME", "SESSION_ROWTIME"})
        names.push_back(name);
    return names;
}

std::string signatures(const std::vector<const runtime::FunctionDefinition*>& candidates) {
    std::string text;
    for (size_t i = 0; i < candidates.size(); ++i) text += fmt::format("{}`{}`", i == 0 ? "" : " or ", candidates[i]->signature);
    return text;
}

} // namespace

BoundExpressionPtr Binder::bindFunction(const Expression& expression, Scope scope) {
    std::string name = upper(expression.name.front());
    sql::Span nameSpan = expression.nameSpans.empty() ? expression.span : expression.nameSpans.front();
    plan::WindowKind kind;
    bool isEnd;
    if (isAggregateFunction(name)) {
        auto& d = error(scope.kind == ScopeKind::Source && std::string(scope.clause) == "an aggregate argument" ? ErrorCode("E0408") : ErrorCode("E0407"),
                        expression.span, fmt::format("aggregate function {} is not allowed in {}", name, scope.clause));
        d.label = std::string(scope.clause) == "WHERE" ? "use HAVING to filter on aggregates" : "aggregate not allowed here";
        return nullptr;
    }
    if (windowAuxiliary(name, kind, isEnd)) {
        auto& d = error("E0411", expression.span, fmt::format("{} is not allowed in {}", name, scope.clause));
        d.label = plan_.aggregated ? "window functions belong in SELECT or HAVING" : "the query has no group window";
        return nullptr;
    }
    if (groupWindowKind(name) != plan::WINDOW_NONE) {
        auto& d = error("E0412", expression.span, fmt::format("group window {} is only allowed in GROUP BY", name));
        d.help = fmt::format("select {}_START(...) or {}_END(...) to get the window bounds", name, name);
        return nullptr;
    }

    // The catalog entries of this name written in this form; one of them must take this many arguments.
    runtime::CallSyntax syntax = syntaxOf(expression.callForm);
    std::vector<const runtime::FunctionDefinition*> sameName, candidates;
    for (const auto& function : runtime::functionCatalog()) {
        if (!named(function, name)) continue;
        sameName.push_back(&function);
        if (function.syntax == syntax) candidates.push_back(&function);
    }
    if (sameName.empty()) {
        auto& d = error("E0403", nameSpan, fmt::format("unknown function `{}`", expression.name.front()));
        auto suggestion = closestMatch(name, knownFunctionNames());
        d.label = suggestion.empty() ? "not a supported function" : fmt::format("did you mean `{}`?", suggestion);
        return nullptr;
    }
    if (candidates.empty()) {
        auto& d = error("E0404", expression.span, fmt::format("{} is not written this way", name));
        d.label = fmt::format("expected {}", signatures(sameName));
        return nullptr;
    }
    if (expression.star || expression.distinct) {
        error("E0404", expression.span, fmt::format("{} does not take {}", name, expression.star ? "`*`" : "DISTINCT"));
        return nullptr;
    }
    size_t count = expression.arguments.size();
    const runtime::FunctionDefinition* function = nullptr;
    for (const auto* candidate : candidates)
        if (count >= candidate->minArguments && count <= candidate->maxArguments) function = candidate;
    if (!function) {
        size_t minimum = candidates.front()->minArguments, maximum = candidates.front()->maxArguments;
        for (const auto* candidate : candidates) {
            minimum = std::min(minimum, candidate->minArguments);
            maximum = std::max(maximum, candidate->maxArguments);
        }
        auto& d = error("E0404", expression.span, fmt::format("{} takes {} argument{}, got {}", name,
                                                              minimum == maximum ? std::to_string(minimum) : fmt::format("{} to {}", minimum, maximum),
                                                              maximum == 1 ? "" : "s", count));
        d.label = "wrong number of arguments";
        if (syntax != runtime::CallSyntax::Arguments || candidates.size() > 1)
            d.help = fmt::format("write {}", signatures(candidates));
        return nullptr;
    }
    if (!function->deterministic) {
        auto& d = error("E0422", expression.span, fmt::format("{} is not deterministic", function->signature));
        d.label = "it reads the wall clock";
        d.help = "a replay or a restart would compute other features; derive the value from the event time (`_time`) instead";
        return nullptr;
    }

    // Arguments: a time-unit keyword becomes a VARCHAR literal naming the unit; every other argument is bound.
    std::vector<BoundExpressionPtr> arguments(count);
    bool ok = true;
    for (size_t i = 0; i < count; ++i) {
        const Expression& argument = *expression.arguments[i];
        if (static_cast<int>(i) == function->unitArgument) {
            if (argument.kind != ExpressionKind::Column || argument.name.size() != 1 || argument.parenthesized) {
                auto& d = error("E0404", argument.span, fmt::format("{} expects a time unit here", name));
                d.label = "expected a unit keyword such as HOUR or DAY";
                ok = false;
                continue;
            }
            plan::Literal unit;
            unit.set_string_value(upper(argument.name.front()));
            arguments[i] = BoundExpression::makeLiteral(unit, plan::VARCHAR);
            arguments[i]->span = argument.span;
            continue;
        }
        arguments[i] = bindExpression(argument, scope);
        if (arguments[i]) arguments[i]->span = argument.span;
        else ok = false;
    }
    if (!ok) return nullptr;

    runtime::CallTyping typing;
    typing.name = name;
    for (const auto& argument : arguments) {
        typing.argumentTypes.push_back(argument->type);
        typing.constants.push_back(argument->kind == BoundKind::Literal ? &argument->literal : nullptr);
        typing.argumentNullable.push_back(argument->nullable);
    }
    typing.coerceTo.assign(count, plan::TYPE_NULL);
    if (!function->typeRule(typing)) {
        sql::Span at = typing.errorArgument < count ? expression.arguments[typing.errorArgument]->span : expression.span;
        auto& d = error(typing.wrongKind ? ErrorCode("E0404") : ErrorCode("E0405"), at, typing.error);
        d.label = typing.wrongKind ? "invalid argument" : "type mismatch";
        d.help = typing.help;
        return nullptr;
    }
    for (size_t i = 0; i < count; ++i)
        if (typing.coerceTo[i] != plan::TYPE_NULL) arguments[i] = coerce(arguments[i], typing.coerceTo[i]);
    std::string planFunction = typing.planFunction.empty() ? std::string(function->planName) : typing.planFunction;
    auto call = BoundExpression::makeCall(planFunction, typing.result, arguments);
    if (typing.nullable) call->nullable = *typing.nullable;
    else if (function->nulls != runtime::NullHandling::Strict) call->nullable = true;
    return call;
}

} // namespace pipec::logical::binding
