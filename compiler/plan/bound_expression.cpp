#include "compiler/plan/bound_expression.h"

#include "runtime/core/function_catalog.h"

#include <fmt/format.h>

#include <cmath>

namespace pipec::logical {

BoundExpressionPtr BoundExpression::makeColumn(int column, std::string name, plan::TypeId type, bool nullable) {
    auto expression = std::make_shared<BoundExpression>();
    expression->kind = BoundKind::Column;
    expression->column = column;
    expression->name = std::move(name);
    expression->type = type;
    expression->nullable = nullable;
    return expression;
}

BoundExpressionPtr BoundExpression::makeLiteral(plan::Literal literal, plan::TypeId type) {
    auto expression = std::make_shared<BoundExpression>();
    expression->kind = BoundKind::Literal;
    expression->nullable = literal.is_null();
    expression->literal = std::move(literal);
    expression->type = type;
    return expression;
}

BoundExpressionPtr BoundExpression::makeCall(std::string function, plan::TypeId type, std::vector<BoundExpressionPtr> arguments) {
    auto expression = std::make_shared<BoundExpression>();
    expression->kind = BoundKind::Call;
    expression->function = std::move(function);
    expression->type = type;
    expression->nullable = false;
    for (const auto& argument : arguments) expression->nullable = expression->nullable || argument->nullable;
    expression->arguments = std::move(arguments);
    return expression;
}

std::string typeName(plan::TypeId type) { return runtime::sqlTypeName(type); }

bool isNumeric(plan::TypeId type) { return runtime::isNumericType(type); }

plan::TypeId widerNumeric(plan::TypeId a, plan::TypeId b) { return runtime::widerNumericType(a, b); }

namespace {

std::string printLiteral(const plan::Literal& literal, plan::TypeId type) {
    if (literal.is_null()) return "NULL";
    switch (literal.value_case()) {
    case plan::Literal::kBoolValue: return literal.bool_value() ? "TRUE" : "FALSE";
    case plan::Literal::kIntValue:
        if (type == plan::INTERVAL) return fmt::format("INTERVAL {}ms", literal.int_value());
        if (type == plan::TIMESTAMP) return fmt::format("TIMESTAMP {}ms", literal.int_value());
        return std::to_string(literal.int_value());
    case plan::Literal::kDoubleValue: {
        std::string text = fmt::format("{}", literal.double_value());
        if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
        return text;
    }
    case plan::Literal::kStringValue: {
        std::string text = "'";
        for (char c : literal.string_value()) {
            text += c;
            if (c == '\'') text += '\'';
        }
        return text + "'";
    }
    default: return "NULL";
    }
}

} // namespace

std::string printExpression(const BoundExpression& expression) {
    switch (expression.kind) {
    case BoundKind::Column: return fmt::format("${}:{}", expression.column, expression.name);
    case BoundKind::Literal: return printLiteral(expression.literal, expression.type);
    case BoundKind::Call: break;
    }
    const auto& arguments = expression.arguments;
    const runtime::FunctionDefinition* function = runtime::findPlanFunction(expression.function);
    if (function && !function->infix.empty() && arguments.size() == 2)
        return fmt::format("({} {} {})", printExpression(*arguments[0]), function->infix, printExpression(*arguments[1]));
    if (expression.function == "cast")
        return fmt::format("CAST({} AS {})", printExpression(*arguments[0]), typeName(expression.type));
    std::string text = expression.function + "(";
    for (size_t i = 0; i < arguments.size(); ++i) text += (i ? ", " : "") + printExpression(*arguments[i]);
    return text + ")";
}

bool sameExpression(const BoundExpression& a, const BoundExpression& b) {
    if (a.kind != b.kind || a.type != b.type) return false;
    switch (a.kind) {
    case BoundKind::Column: return a.column == b.column;
    case BoundKind::Literal: return a.literal.SerializeAsString() == b.literal.SerializeAsString();
    case BoundKind::Call:
        if (a.function != b.function || a.arguments.size() != b.arguments.size()) return false;
        for (size_t i = 0; i < a.arguments.size(); ++i)
            if (!sameExpression(*a.arguments[i], *b.arguments[i])) return false;
        return true;
    }
    return false;
}

void visitColumns(const BoundExpression& expression, const std::function<void(int)>& visit) {
    if (expression.kind == BoundKind::Column) visit(expression.column);
    for (const auto& argument : expression.arguments) visitColumns(*argument, visit);
}

void remapColumns(BoundExpression& expression, const std::vector<int>& mapping) {
    if (expression.kind == BoundKind::Column) expression.column = mapping.at(static_cast<size_t>(expression.column));
    for (auto& argument : expression.arguments) remapColumns(*argument, mapping);
}

plan::Expr toPlanExpression(const BoundExpression& expression) {
    plan::Expr result;
    result.set_type(expression.type);
    switch (expression.kind) {
    case BoundKind::Column: result.set_column(expression.column); break;
    case BoundKind::Literal: *result.mutable_literal() = expression.literal; break;
    case BoundKind::Call: {
        auto* call = result.mutable_call();
        call->set_function(expression.function);
        for (const auto& argument : expression.arguments) *call->add_args() = toPlanExpression(*argument);
        break;
    }
    }
    return result;
}

} // namespace pipec::logical
