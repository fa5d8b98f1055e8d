#include "compiler/plan/query_binder.h"

#include "runtime/core/civil_time.h"  // header-only calendar arithmetic shared with the runtime

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <map>

namespace pipec::logical::binding {

namespace {

/// Parses `YYYY-MM-DD[ HH:MM:SS[.fff]]` as UTC epoch milliseconds.
std::optional<int64_t> parseTimestamp(const std::string& text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    char rest[32] = {0};
    int fields = std::sscanf(text.c_str(), "%4d-%2d-%2d%*[ T]%2d:%2d:%2d%31s", &year, &month, &day, &hour, &minute, &second, rest);
    if (fields != 3 && fields != 6 && fields != 7) return std::nullopt;
    if (fields == 7) {
        std::string fraction = rest;
        if (fraction.empty() || fraction[0] != '.' || fraction.size() > 4 || fraction.size() < 2) return std::nullopt;
        for (size_t i = 1; i < 4; ++i) {
            char c = i < fraction.size() ? fraction[i] : '0';
            if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
            millis = millis * 10 + (c - '0');
        }
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    int64_t days = runtime::daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000 + millis;
}

} // namespace

BoundExpressionPtr Binder::tryBind(const Expression& expression, Scope scope) {
    DiagnosticEngine scratch;
    DiagnosticEngine* saved = diagnostics_;
    diagnostics_ = &scratch;
    auto bound = bindExpression(expression, scope);
    diagnostics_ = saved;
    return scratch.hasErrors() ? nullptr : bound;
}

BoundExpressionPtr Binder::bindExpression(const Expression& expression, Scope scope) {
    if (expression.kind == ExpressionKind::FunctionCall && expression.filter && !isAggregateFunction(upper(expression.name.front()))) {
        auto& d = error("E0432", expression.span, fmt::format("FILTER applies to aggregate functions only; {} is not one", upper(expression.name.front())));
        d.label = "not an aggregate";
        d.help = "put the condition into the argument (CASE WHEN … THEN x END), or into WHERE";
        return nullptr;
    }
    if (WindowBound bound; windowTableColumn(expression, bound)) {
        if (scope.kind == ScopeKind::Aggregate) return windowBoundColumn(bound);
        if (!plan_.aggregated) return nullptr;  // the TVF without a window aggregate is reported once, at FROM
        auto& d = error("E0430", expression.span, fmt::format("`{}` is not available in {}", expression.text, scope.clause));
        d.label = "a column of the window aggregate's rows";
        d.help = "use window_start, window_end and window_time in SELECT and HAVING; filter rows on `_time` in WHERE";
        return nullptr;
    }
    if (scope.kind == ScopeKind::Aggregate) {
        if (expression.kind == ExpressionKind::FunctionCall) {
            std::string name = upper(expression.name.front());
            plan::WindowKind kind;
            WindowBound bound;
            if (isAggregateFunction(name)) return bindAggregate(expression);
            if (windowAuxiliary(name, kind, bound)) return bindWindowAuxiliary(expression, kind, bound);
        }
        if (!containsAggregateOrAuxiliary(expression) && expression.kind != ExpressionKind::Literal) {
            auto bound = tryBind(expression, Scope{ScopeKind::Source, scope.clause});
            if (bound) {
                for (size_t k = 0; k < plan_.groupKeys.size(); ++k) {
                    if (sameExpression(*bound, *plan_.groupKeys[k]))
                        return BoundExpression::makeColumn(static_cast<int>(k), plan_.groupKeyNames[k],
                                                           plan_.groupKeys[k]->type, plan_.groupKeys[k]->nullable);
                }
            }
            if (expression.kind == ExpressionKind::Column) {
                if (!bound) return bindExpression(expression, Scope{ScopeKind::Source, scope.clause});  // reports why
                auto& d = error("E0406", expression.span,
                                fmt::format("column `{}` must appear in GROUP BY or be used in an aggregate function",
                                            expression.text));
                d.label = fmt::format("not grouped in {}", scope.clause);
                d.help = fmt::format("add `{}` to GROUP BY, or aggregate it, e.g. MAX({})", expression.text, expression.text);
                return nullptr;
            }
        }
    }
    switch (expression.kind) {
    case ExpressionKind::Literal: return bindLiteral(expression);
    case ExpressionKind::Column: return bindColumn(expression);
    case ExpressionKind::Unary: return bindUnary(expression, scope);
    case ExpressionKind::Binary: return bindBinary(expression, scope);
    case ExpressionKind::FunctionCall: return bindFunction(expression, scope);
    case ExpressionKind::Case: return bindCase(expression, scope);
    case ExpressionKind::Cast: return bindCast(expression, scope);
    case ExpressionKind::In: return bindIn(expression, scope);
    case ExpressionKind::Between: return bindBetween(expression, scope);
    case ExpressionKind::Like: return bindLike(expression, scope);
    case ExpressionKind::IsNull: return bindIsNull(expression, scope);
    case ExpressionKind::IsBoolean: return bindIsBoolean(expression, scope);
    }
    return nullptr;
}

BoundExpressionPtr Binder::bindLiteral(const Expression& expression) {
    const sql::Literal& literal = expression.literal;
    plan::Literal value;
    switch (literal.kind) {
    case LiteralKind::Null:
        value.set_is_null(true);
        return BoundExpression::makeLiteral(value, plan::TYPE_NULL);
    case LiteralKind::Boolean:
        value.set_bool_value(literal.booleanValue);
        return BoundExpression::makeLiteral(value, plan::BOOLEAN);
    case LiteralKind::Integer: {
        int64_t number = 0;
        auto [end, status] = std::from_chars(literal.text.data(), literal.text.data() + literal.text.size(), number);
        if (status != std::errc() || end != literal.text.data() + literal.text.size()) {
            auto& d = error("E0302", expression.span, fmt::format("integer literal {} is out of range", literal.text));
            d.label = "BIGINT holds -9223372036854775808 to 9223372036854775807";
            return nullptr;
        }
        value.set_int_value(number);
        return BoundExpression::makeLiteral(value, number >= INT32_MIN && number <= INT32_MAX ? plan::INT : plan::BIGINT);
    }
    case LiteralKind::Decimal:
    case LiteralKind::Double:
        value.set_double_value(std::strtod(literal.text.c_str(), nullptr));
        return BoundExpression::makeLiteral(value, plan::DOUBLE);
    case LiteralKind::String:
        value.set_string_value(literal.text);
        return BoundExpression::makeLiteral(value, plan::VARCHAR);
    case LiteralKind::Interval:
        value.set_int_value(literal.intervalMs);
        return BoundExpression::makeLiteral(value, plan::INTERVAL);
    case LiteralKind::Timestamp: {
        auto millis = parseTimestamp(literal.text);
        if (!millis) {
            auto& d = error("E0302", expression.span, fmt::format("invalid timestamp literal '{}'", literal.text));
            d.label = "expected 'YYYY-MM-DD HH:MM:SS[.fff]'";
            return nullptr;
        }
        value.set_int_value(*millis);
        return BoundExpression::makeLiteral(value, plan::TIMESTAMP);
    }
    }
    return nullptr;
}

std::string Binder::resolvedColumnName(const Expression& expression) const {
    std::vector<std::string> parts = expression.name;
    if (parts.size() > 1 && std::find(tableNames_.begin(), tableNames_.end(), parts.front()) != tableNames_.end() &&
        !schema_.find(joinName(parts)))
        parts.erase(parts.begin());
    return joinName(parts);
}

BoundExpressionPtr Binder::bindColumn(const Expression& expression) {
    std::string name = resolvedColumnName(expression);
    const auto& columns = plan_.source.columns;
    for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].source.name() != name) continue;
        // Column 0 is `_time`, which no message field backs unless a time_field does (recorded by its spec key).
        if (i > 0)
            plan_.columnReferences.push_back({name, locate_(expression.span.offset, std::max<size_t>(1, expression.span.length)), {}});
        return BoundExpression::makeColumn(static_cast<int>(i), name, columns[i].source.type(), columns[i].nullable);
    }
    for (const auto& unsupported : schema_.unsupported) {
        if (unsupported.name == name) {
            auto& d = error("E0419", expression.span, fmt::format("field `{}` cannot be used: {}", name, unsupported.reason));
            d.label = "unsupported field";
            return nullptr;
        }
    }
    // A message-typed field: the user must pick one of its leaves.
    std::vector<std::string> children;
    for (const auto& column : columns)
        if (column.source.name().rfind(name + ".", 0) == 0) children.push_back(column.source.name());
    if (!children.empty()) {
        auto& d = error("E0401", expression.span, fmt::format("`{}` is a message, not a column", name));
        d.label = fmt::format("select one of its fields, e.g. `{}`", children.front());
        return nullptr;
    }
    auto& d = error("E0401", expression.span, fmt::format("unknown column `{}` in `{}`", name, schema_.messageName));
    std::vector<std::string> candidates = schema_.columnNames();
    candidates.push_back("_time");
    if (const catalog::Column* column = schema_.findCaseInsensitive(name)) {
        d.label = fmt::format("did you mean `{}`? (names are case-sensitive)", column->name);
    } else if (auto suggestion = closestMatch(name, candidates); !suggestion.empty()) {
        d.label = fmt::format("did you mean `{}`?", suggestion);
    } else {
        d.label = "not a field of the source message";
    }
    return nullptr;
}

BoundExpressionPtr Binder::coerce(const BoundExpressionPtr& expression, plan::TypeId type) {
    if (expression->type == type) return expression;
    if (expression->kind == BoundKind::Literal && expression->literal.is_null()) {
        auto typed = std::make_shared<BoundExpression>(*expression);
        typed->type = type;
        return typed;
    }
    auto cast = BoundExpression::makeCall("cast", type, {expression});
    cast->span = expression->span;
    return cast;
}

std::optional<plan::TypeId> Binder::commonType(plan::TypeId a, plan::TypeId b) {
    if (a == b) return a;
    if (a == plan::TYPE_NULL) return b;
    if (b == plan::TYPE_NULL) return a;
    if (isNumeric(a) && isNumeric(b)) return widerNumeric(a, b);
    return std::nullopt;
}

std::vector<BoundExpressionPtr> Binder::bindArguments(const Expression& expression, Scope scope, bool& ok) {
    std::vector<BoundExpressionPtr> arguments;
    ok = true;
    for (const auto& argument : expression.arguments) {
        auto bound = bindExpression(*argument, scope);
        bound ? (void)(bound->span = argument->span) : (void)(ok = false);
        arguments.push_back(bound);
    }
    return arguments;
}

BoundExpressionPtr Binder::bindUnary(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    auto& operand = arguments[0];
    if (expression.op == "NOT") {
        if (operand->type != plan::BOOLEAN && operand->type != plan::TYPE_NULL) {
            typeMismatch(*expression.arguments[0], fmt::format("NOT needs a BOOLEAN operand, found {}", typeName(operand->type)));
            return nullptr;
        }
        return BoundExpression::makeCall("not", plan::BOOLEAN, {coerce(operand, plan::BOOLEAN)});
    }
    if (!isNumeric(operand->type) && operand->type != plan::INTERVAL && operand->type != plan::TYPE_NULL) {
        typeMismatch(*expression.arguments[0], fmt::format("unary `{}` needs a numeric operand, found {}", expression.op, typeName(operand->type)));
        return nullptr;
    }
    if (expression.op == "+") return operand;
    plan::TypeId type = operand->type == plan::TYPE_NULL ? plan::INT : operand->type;
    return BoundExpression::makeCall("negate", type, {coerce(operand, type)});
}

void Binder::typeMismatch(const Expression& at, std::string message) {
    auto& d = error("E0405", at.span, std::move(message));
    d.label = "type mismatch";
}

BoundExpressionPtr Binder::bindBinary(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    auto left = arguments[0], right = arguments[1];
    const std::string& op = expression.op;
    if (op == "AND" || op == "OR") {
        for (size_t i = 0; i < 2; ++i) {
            if (arguments[i]->type != plan::BOOLEAN && arguments[i]->type != plan::TYPE_NULL) {
                typeMismatch(*expression.arguments[i], fmt::format("{} needs BOOLEAN operands, found {}", op, typeName(arguments[i]->type)));
                return nullptr;
            }
        }
        return BoundExpression::makeCall(op == "AND" ? "and" : "or", plan::BOOLEAN,
                                         {coerce(left, plan::BOOLEAN), coerce(right, plan::BOOLEAN)});
    }
    if (op == "||") {
        for (size_t i = 0; i < 2; ++i) {
            if (arguments[i]->type != plan::VARCHAR && arguments[i]->type != plan::TYPE_NULL) {
                typeMismatch(*expression.arguments[i], fmt::format("`||` concatenates VARCHAR values, found {}", typeName(arguments[i]->type)));
                return nullptr;
            }
        }
        return BoundExpression::makeCall("concat", plan::VARCHAR, {coerce(left, plan::VARCHAR), coerce(right, plan::VARCHAR)});
    }
    static const std::map<std::string, std::string> kComparisons = {
        {"=", "equal"}, {"<>", "not_equal"}, {"<", "less"}, {"<=", "less_equal"}, {">", "greater"}, {">=", "greater_equal"}};
    if (auto comparison = kComparisons.find(op); comparison != kComparisons.end()) {
        auto type = commonType(left->type, right->type);
        if (!type || *type == plan::INTERVAL) {
            auto& d = error("E0405", expression.span, fmt::format("cannot compare {} with {}", typeName(left->type), typeName(right->type)));
            d.label = "incompatible operand types";
            if ((left->type == plan::VARCHAR && isNumeric(right->type)) || (right->type == plan::VARCHAR && isNumeric(left->type)))
                d.help = "convert one side explicitly, e.g. CAST(x AS BIGINT) or CAST(x AS VARCHAR)";
            return nullptr;
        }
        if (scope.kind == ScopeKind::Source) {
            checkEnumComparison(left, *expression.arguments[1], right);
            checkEnumComparison(right, *expression.arguments[0], left);
        }
        plan::TypeId operandType = *type == plan::TYPE_NULL ? plan::BOOLEAN : *type;
        return BoundExpression::makeCall(comparison->second, plan::BOOLEAN, {coerce(left, operandType), coerce(right, operandType)});
    }
    // Arithmetic; TIMESTAMP ± INTERVAL moves a timestamp.
    if ((op == "+" || op == "-") && left->type == plan::TIMESTAMP && right->type == plan::INTERVAL) {
        auto call = BoundExpression::makeCall(op == "+" ? "add" : "subtract", plan::TIMESTAMP,
                                              {coerce(left, plan::BIGINT), coerce(right, plan::BIGINT)});
        return call;
    }
    for (size_t i = 0; i < 2; ++i) {
        if (!isNumeric(arguments[i]->type) && arguments[i]->type != plan::TYPE_NULL) {
            typeMismatch(*expression.arguments[i], fmt::format("`{}` needs numeric operands, found {}", op, typeName(arguments[i]->type)));
            return nullptr;
        }
    }
    plan::TypeId type = commonType(left->type, right->type).value_or(plan::INT);
    if (type == plan::TYPE_NULL) type = plan::INT;
    if (op == "/" && isInteger(left->type) && isInteger(right->type) && containsAggregate(*expression.arguments[0]) &&
        containsAggregate(*expression.arguments[1]))
        warnIntegerDivision(expression);
    static const std::map<std::string, std::string> kArithmetic = {
        {"+", "add"}, {"-", "subtract"}, {"*", "multiply"}, {"/", "divide"}, {"%", "modulo"}};
    return BoundExpression::makeCall(kArithmetic.at(op), type, {coerce(left, type), coerce(right, type)});
}

void Binder::warnIntegerDivision(const Expression& division) {
    const Expression& numerator = *division.arguments[0];
    const Expression& denominator = *division.arguments[1];
    auto& d = diagnostics_->warning("W0402", locate_(division.span.offset, std::max<size_t>(1, division.span.length)),
                                    fmt::format("integer division of aggregates: `{}` truncates toward zero", division.text));
    d.label = "both sides are integers";
    d.help = fmt::format("to divide as real numbers, write CAST({} AS DOUBLE) / {}", numerator.text, denominator.text);
}

bool Binder::isInteger(plan::TypeId type) { return type == plan::INT || type == plan::BIGINT; }

void Binder::checkEnumComparison(const BoundExpressionPtr& column, const Expression& literalExpression, const BoundExpressionPtr& literal) {
    if (column->kind != BoundKind::Column || literal->kind != BoundKind::Literal || literal->type != plan::VARCHAR) return;
    if (column->column < 0 || column->column >= static_cast<int>(plan_.source.columns.size())) return;
    const auto& names = plan_.source.columns[static_cast<size_t>(column->column)].enumNames;
    if (names.empty()) return;
    const std::string& value = literal->literal.string_value();
    if (std::find(names.begin(), names.end(), value) != names.end()) return;
    auto& d = diagnostics_->error("E0420", locate_(literalExpression.span.offset, literalExpression.span.length),
                                  fmt::format("'{}' is not a value of the enum behind `{}`", value, column->name));
    auto suggestion = closestMatch(value, names);
    d.label = suggestion.empty() ? "this comparison is never true" : fmt::format("did you mean '{}'?", suggestion);
    if (suggestion.empty()) d.notes.push_back(fmt::format("its values are: {}", fmt::join(names, ", ")));
}

BoundExpressionPtr Binder::bindCase(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    size_t first = expression.caseHasOperand ? 1 : 0;
    size_t end = arguments.size() - (expression.caseHasElse ? 1 : 0);
    std::vector<BoundExpressionPtr> conditions, results;
    for (size_t i = first; i + 1 < end + 1 && i < end; i += 2) {
        auto condition = arguments[i];
        if (expression.caseHasOperand) {
            auto type = commonType(arguments[0]->type, condition->type);
            if (!type) {
                typeMismatch(*expression.arguments[i], fmt::format("WHEN value of type {} cannot be compared with the CASE operand of type {}",
                                                                  typeName(condition->type), typeName(arguments[0]->type)));
                return nullptr;
            }
            plan::TypeId operandType = *type == plan::TYPE_NULL ? plan::BOOLEAN : *type;
            condition = BoundExpression::makeCall("equal", plan::BOOLEAN, {coerce(arguments[0], operandType), coerce(condition, operandType)});
        } else if (condition->type != plan::BOOLEAN && condition->type != plan::TYPE_NULL) {
            typeMismatch(*expression.arguments[i], fmt::format("WHEN condition must be BOOLEAN, found {}", typeName(condition->type)));
            return nullptr;
        }
        conditions.push_back(coerce(condition, plan::BOOLEAN));
        results.push_back(arguments[i + 1]);
    }
    if (expression.caseHasElse) results.push_back(arguments.back());
    plan::TypeId type = plan::TYPE_NULL;
    for (size_t i = 0; i < results.size(); ++i) {
        auto common = commonType(type, results[i]->type);
        if (!common) {
            const Expression& at = *expression.arguments[i < conditions.size() ? first + 2 * i + 1 : expression.arguments.size() - 1];
            typeMismatch(at, fmt::format("CASE results must have compatible types: {} and {}", typeName(type), typeName(results[i]->type)));
            return nullptr;
        }
        type = *common;
    }
    std::vector<BoundExpressionPtr> callArguments;
    for (size_t i = 0; i < conditions.size(); ++i) {
        callArguments.push_back(conditions[i]);
        callArguments.push_back(coerce(results[i], type));
    }
    plan::Literal nullLiteral;
    nullLiteral.set_is_null(true);
    callArguments.push_back(expression.caseHasElse ? coerce(results.back(), type) : BoundExpression::makeLiteral(nullLiteral, type));
    auto call = BoundExpression::makeCall("case", type, callArguments);
    call->nullable = !expression.caseHasElse;
    for (const auto& result : results) call->nullable = call->nullable || result->nullable;
    return call;
}

std::optional<plan::TypeId> Binder::castTarget(const sql::DataType& type) {
    static const std::map<std::string, plan::TypeId> kTypes = {
        {"BOOLEAN", plan::BOOLEAN}, {"BOOL", plan::BOOLEAN},    {"TINYINT", plan::INT},  {"SMALLINT", plan::INT},
        {"INT", plan::INT},         {"INTEGER", plan::INT},     {"BIGINT", plan::BIGINT}, {"FLOAT", plan::FLOAT},
        {"REAL", plan::FLOAT},      {"DOUBLE", plan::DOUBLE},   {"VARCHAR", plan::VARCHAR}, {"STRING", plan::VARCHAR},
        {"CHAR", plan::VARCHAR},    {"BYTES", plan::BYTES},     {"VARBINARY", plan::BYTES}, {"TIMESTAMP", plan::TIMESTAMP},
        {"DECIMAL", plan::DOUBLE}};
    auto it = kTypes.find(type.name);
    if (it == kTypes.end()) {
        std::vector<std::string> names;
        for (const auto& entry : kTypes) names.push_back(entry.first);
        auto& d = error("E0415", type.span, fmt::format("unknown type `{}`", type.name));
        auto suggestion = closestMatch(type.name, names);
        d.label = suggestion.empty() ? "not a supported type" : fmt::format("did you mean `{}`?", suggestion);
        return std::nullopt;
    }
    return it->second;
}

bool Binder::castAllowed(plan::TypeId from, plan::TypeId to) {
    if (from == to || from == plan::TYPE_NULL) return true;
    if (to == plan::VARCHAR) return from != plan::INTERVAL;
    if (isNumeric(to)) return isNumeric(from) || from == plan::BOOLEAN || from == plan::VARCHAR || (to == plan::BIGINT && from == plan::TIMESTAMP);
    if (to == plan::BOOLEAN) return isNumeric(from) || from == plan::VARCHAR;
    if (to == plan::TIMESTAMP) return from == plan::BIGINT || from == plan::INT || from == plan::VARCHAR;
    if (to == plan::BYTES) return from == plan::VARCHAR;
    return false;
}

BoundExpressionPtr Binder::bindCast(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    auto target = castTarget(expression.castType);
    if (!ok || !target) return nullptr;
    if (!castAllowed(arguments[0]->type, *target)) {
        auto& d = error("E0414", expression.span, fmt::format("cannot cast {} to {}", typeName(arguments[0]->type), typeName(*target)));
        d.label = "unsupported conversion";
        return nullptr;
    }
    if (arguments[0]->type == *target) return arguments[0];
    auto call = BoundExpression::makeCall("cast", *target, {arguments[0]});
    // A cast from VARCHAR may fail and yields NULL then.
    call->nullable = arguments[0]->nullable || arguments[0]->type == plan::VARCHAR;
    return call;
}

BoundExpressionPtr Binder::bindIn(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    plan::TypeId type = arguments[0]->type;
    for (size_t i = 1; i < arguments.size(); ++i) {
        auto common = commonType(type, arguments[i]->type);
        if (!common) {
            typeMismatch(*expression.arguments[i], fmt::format("IN list value of type {} cannot be compared with {}",
                                                               typeName(arguments[i]->type), typeName(arguments[0]->type)));
            return nullptr;
        }
        type = *common;
        if (scope.kind == ScopeKind::Source) checkEnumComparison(arguments[0], *expression.arguments[i], arguments[i]);
    }
    if (type == plan::TYPE_NULL) type = plan::BOOLEAN;
    std::vector<BoundExpressionPtr> coerced;
    for (auto& argument : arguments) coerced.push_back(coerce(argument, type));
    return BoundExpression::makeCall(expression.negated ? "not_in" : "in", plan::BOOLEAN, coerced);
}

BoundExpressionPtr Binder::bindBetween(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    plan::TypeId type = arguments[0]->type;
    for (size_t i = 1; i < 3; ++i) {
        auto common = commonType(type, arguments[i]->type);
        if (!common || *common == plan::INTERVAL) {
            typeMismatch(*expression.arguments[i], fmt::format("BETWEEN bound of type {} cannot be compared with {}",
                                                               typeName(arguments[i]->type), typeName(arguments[0]->type)));
            return nullptr;
        }
        type = *common;
    }
    if (type == plan::TYPE_NULL) type = plan::INT;
    return BoundExpression::makeCall(expression.negated ? "not_between" : "between", plan::BOOLEAN,
                                     {coerce(arguments[0], type), coerce(arguments[1], type), coerce(arguments[2], type)});
}

BoundExpressionPtr Binder::bindLike(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    for (size_t i = 0; i < arguments.size(); ++i) {
        if (arguments[i]->type != plan::VARCHAR && arguments[i]->type != plan::TYPE_NULL) {
            typeMismatch(*expression.arguments[i], fmt::format("LIKE needs VARCHAR operands, found {}", typeName(arguments[i]->type)));
            return nullptr;
        }
    }
    std::vector<BoundExpressionPtr> coerced;
    for (auto& argument : arguments) coerced.push_back(coerce(argument, plan::VARCHAR));
    return BoundExpression::makeCall(expression.negated ? "not_like" : "like", plan::BOOLEAN, coerced);
}

BoundExpressionPtr Binder::bindIsNull(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    auto call = BoundExpression::makeCall(expression.negated ? "is_not_null" : "is_null", plan::BOOLEAN, arguments);
    call->nullable = false;
    return call;
}

BoundExpressionPtr Binder::bindIsBoolean(const Expression& expression, Scope scope) {
    bool ok;
    auto arguments = bindArguments(expression, scope, ok);
    if (!ok) return nullptr;
    if (arguments[0]->type != plan::BOOLEAN && arguments[0]->type != plan::TYPE_NULL) {
        typeMismatch(*expression.arguments[0], fmt::format("IS {} needs a BOOLEAN operand, found {}",
                                                           expression.booleanTarget ? "TRUE" : "FALSE", typeName(arguments[0]->type)));
        return nullptr;
    }
    auto call = BoundExpression::makeCall(expression.booleanTarget ? "is_true" : "is_false", plan::BOOLEAN,
                                          {coerce(arguments[0], plan::BOOLEAN)});
    call->nullable = false;
    if (expression.negated) {
        call = BoundExpression::makeCall("not", plan::BOOLEAN, {call});
        call->nullable = false;
    }
    return call;
}

} // namespace pipec::logical::binding
