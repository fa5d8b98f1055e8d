#include "compiler/sql/ast.h"

#include <fmt/format.h>

namespace pipec::sql {

namespace {

const char* kindName(ExpressionKind kind) {
    switch (kind) {
    case ExpressionKind::Literal: return "Literal";
    case ExpressionKind::Column: return "Column";
    case ExpressionKind::Unary: return "Unary";
    case ExpressionKind::Binary: return "Binary";
    case ExpressionKind::FunctionCall: return "Call";
    case ExpressionKind::Case: return "Case";
    case ExpressionKind::Cast: return "Cast";
    case ExpressionKind::In: return "In";
    case ExpressionKind::Between: return "Between";
    case ExpressionKind::Like: return "Like";
    case ExpressionKind::IsNull: return "IsNull";
    case ExpressionKind::IsBoolean: return "IsBoolean";
    }
    return "?";
}

const char* literalKindName(LiteralKind kind) {
    switch (kind) {
    case LiteralKind::Null: return "NULL";
    case LiteralKind::Boolean: return "BOOLEAN";
    case LiteralKind::Integer: return "INTEGER";
    case LiteralKind::Decimal: return "DECIMAL";
    case LiteralKind::Double: return "DOUBLE";
    case LiteralKind::String: return "STRING";
    case LiteralKind::Interval: return "INTERVAL";
    case LiteralKind::Timestamp: return "TIMESTAMP";
    }
    return "?";
}

std::string joinName(const std::vector<std::string>& parts) {
    std::string result;
    for (size_t i = 0; i < parts.size(); ++i) result += (i ? "." : "") + parts[i];
    return result;
}

void printExpression(const Expression& expression, int depth, std::string& out) {
    std::string indent(static_cast<size_t>(depth) * 2, ' ');
    std::string detail;
    switch (expression.kind) {
    case ExpressionKind::Literal:
        detail = fmt::format(" {} '{}'", literalKindName(expression.literal.kind), expression.literal.text);
        if (expression.literal.kind == LiteralKind::Interval)
            detail += fmt::format(" {} = {}ms", expression.literal.unit, expression.literal.intervalMs);
        break;
    case ExpressionKind::Column: detail = " " + joinName(expression.name); break;
    case ExpressionKind::Unary:
    case ExpressionKind::Binary: detail = " " + expression.op; break;
    case ExpressionKind::FunctionCall:
        detail = " " + joinName(expression.name);
        if (expression.distinct) detail += " DISTINCT";
        if (expression.star) detail += " (*)";
        break;
    case ExpressionKind::Cast: detail = " AS " + expression.castType.name; break;
    case ExpressionKind::IsBoolean: detail = expression.booleanTarget ? " TRUE" : " FALSE"; break;
    default: break;
    }
    if (expression.negated) detail += " NOT";
    out += fmt::format("{}{}{} @{}+{}\n", indent, kindName(expression.kind), detail, expression.span.offset, expression.span.length);
    for (const auto& argument : expression.arguments) printExpression(*argument, depth + 1, out);
    if (expression.filter) {
        out += fmt::format("{}  Filter\n", indent);
        printExpression(*expression.filter, depth + 2, out);
    }
}

} // namespace

std::string printAst(const Query& query) {
    std::string out = query.distinct ? "Query DISTINCT\n" : "Query\n";
    out += "  Select\n";
    for (const auto& item : query.selectItems) {
        if (item.star) {
            out += "    Star\n";
            continue;
        }
        out += item.alias.empty() ? "    Item\n" : fmt::format("    Item AS {}\n", item.alias);
        printExpression(*item.expression, 3, out);
    }
    out += fmt::format("  From {}{}\n", joinName(query.from.name), query.from.alias.empty() ? "" : " AS " + query.from.alias);
    if (query.from.window) {
        out += fmt::format("    WindowTable {}\n", query.from.window->name);
        for (const auto& argument : query.from.window->arguments) {
            std::string name = argument.parameter.empty() ? "" : argument.parameter + " => ";
            switch (argument.kind) {
            case WindowArgument::Kind::Table: out += fmt::format("      {}TABLE {}\n", name, joinName(argument.table)); break;
            case WindowArgument::Kind::Descriptor: out += fmt::format("      {}DESCRIPTOR({})\n", name, argument.value->text); break;
            case WindowArgument::Kind::Value:
                out += fmt::format("      {}Value\n", name);
                printExpression(*argument.value, 4, out);
                break;
            }
        }
    }
    if (query.where) {
        out += "  Where\n";
        printExpression(*query.where, 2, out);
    }
    if (!query.groupBy.empty()) {
        out += "  GroupBy\n";
        for (const auto& item : query.groupBy) printExpression(*item, 2, out);
    }
    if (query.having) {
        out += "  Having\n";
        printExpression(*query.having, 2, out);
    }
    return out;
}

} // namespace pipec::sql
