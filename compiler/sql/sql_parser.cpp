#include "compiler/sql/sql_parser.h"

#include "compiler/sql/derived_tables.h"

#include "StreamSqlLexer.h"
#include "StreamSqlParser.h"

#include "compiler/common/time_range.h"
#include "compiler/common/utf8.h"

#include <fmt/format.h>

#include <antlr4-runtime.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <map>

namespace pipec::sql {

using pipec_grammar::StreamSqlLexer;
using pipec_grammar::StreamSqlParser;

namespace {

/// ANTLR reports positions in code points; diagnostics and spans use byte offsets into the UTF-8 text.
class OffsetMap {
public:
    explicit OffsetMap(const std::string& text) {
        for (size_t i = 0; i < text.size(); ++i) {
            if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) byteOffsets_.push_back(i);
        }
        byteOffsets_.push_back(text.size());
    }
    size_t byteOffset(size_t codePoint) const {
        return codePoint < byteOffsets_.size() ? byteOffsets_[codePoint] : byteOffsets_.back();
    }

private:
    std::vector<size_t> byteOffsets_;
};

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

/// Turns ANTLR syntax errors into one diagnostic per statement (follow-on errors after recovery are mostly noise).
class SyntaxErrorListener : public antlr4::BaseErrorListener {
public:
    SyntaxErrorListener(const OffsetMap& offsets, const SqlLocator& locate, DiagnosticEngine& diagnostics)
        : offsets_(offsets), locate_(locate), diagnostics_(diagnostics) {}

    void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offendingSymbol, size_t, size_t charPositionInLine,
                     const std::string& message, std::exception_ptr) override {
        if (reported_) return;
        reported_ = true;
        std::string text;
        size_t start = 0, length = 1;
        Diagnostic diagnostic;
        diagnostic.code = ErrorCode("E0301");  // checked against the registry
        if (offendingSymbol) {
            start = offsets_.byteOffset(offendingSymbol->getStartIndex());
            if (offendingSymbol->getType() == antlr4::Token::EOF) {
                diagnostic.message = "syntax error: unexpected end of SQL";
                start = offsets_.byteOffset(offendingSymbol->getStartIndex());
            } else {
                size_t stop = offsets_.byteOffset(offendingSymbol->getStopIndex() + 1);
                length = std::max<size_t>(1, stop - start);
                text = offendingSymbol->getText();
                switch (offendingSymbol->getType()) {
                case StreamSqlLexer::UNTERMINATED_STRING:
                    diagnostic.message = "syntax error: unterminated string literal";
                    length = 1;
                    diagnostic.help = "close the string with a single quote `'`; write `''` for a quote inside it";
                    break;
                case StreamSqlLexer::UNRECOGNIZED:
                    diagnostic.message = fmt::format("syntax error: unexpected character `{}`", text);
                    break;
                case StreamSqlLexer::ORDER:
                    diagnostic.message = "ORDER BY is not supported in a streaming query";
                    diagnostic.help = "window results are emitted in window order; sort downstream if needed";
                    break;
                case StreamSqlLexer::LIMIT:
                    diagnostic.message = "LIMIT is not supported in a streaming query";
                    break;
                case StreamSqlLexer::JOIN:
                    diagnostic.message = "JOIN is not supported yet";
                    diagnostic.help = "a feature query reads one topic; join upstream or materialize each side as a feature";
                    break;
                case StreamSqlLexer::UNION:
                    diagnostic.message = "UNION is not supported yet";
                    break;
                case StreamSqlLexer::OVER:
                    diagnostic.message = "OVER windows are not supported yet";
                    diagnostic.help = "use a group window in GROUP BY: TUMBLE, HOP or SESSION";
                    break;
                case StreamSqlLexer::EXCEPT:
                case StreamSqlLexer::INTERSECT:
                    diagnostic.message = fmt::format("{} is not supported", upper(text));
                    diagnostic.help = "a feature query reads one topic with one SELECT";
                    break;
                case StreamSqlLexer::LATERAL:
                case StreamSqlLexer::UNNEST:
                    diagnostic.message = fmt::format("{} (joining a row with a collection) is not supported", upper(text));
                    diagnostic.help = "repeated fields cannot be read yet; flatten them in the producer";
                    break;
                case StreamSqlLexer::EXISTS:
                    diagnostic.message = "subqueries (EXISTS) are not supported";
                    break;
                case StreamSqlLexer::FETCH:
                case StreamSqlLexer::OFFSET:
                    diagnostic.message = fmt::format("{} is not supported in a streaming query", upper(text));
                    break;
                case StreamSqlLexer::ROLLUP:
                case StreamSqlLexer::CUBE:
                case StreamSqlLexer::GROUPING:
                    diagnostic.message = fmt::format("{} is not supported", upper(text) == "GROUPING" ? "GROUPING SETS" : upper(text));
                    diagnostic.help = "group by one window and a fixed list of keys; write one source per grouping";
                    break;
                case StreamSqlLexer::MATCH_RECOGNIZE:
                    diagnostic.message = "MATCH_RECOGNIZE (pattern matching) is not supported";
                    break;
                default:
                    diagnostic.message = fmt::format("syntax error: unexpected `{}`", text);
                    describeUnsupported(recognizer, offendingSymbol, diagnostic);
                }
            }
            auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
            if (parser && diagnostic.message.rfind("syntax error: unexpected", 0) == 0 &&
                offendingSymbol->getType() != StreamSqlLexer::UNRECOGNIZED) {
                describeExpected(*parser, diagnostic);
            }
        } else {
            // Lexer errors cannot happen: UNRECOGNIZED catches every character. Keep ANTLR's text just in case.
            diagnostic.message = "syntax error: " + message;
            start = charPositionInLine;
        }
        diagnostic.location = locate_(start, length);
        diagnostics_.add(std::move(diagnostic));
    }

    bool reported() const { return reported_; }

private:
    /// Constructs the grammar does not parse at all, recognised by the tokens around the error: a subquery or
    /// derived table `(SELECT …`, a comma join `FROM a, b`.
    static void describeUnsupported(antlr4::Recognizer* recognizer, antlr4::Token* offending, Diagnostic& diagnostic) {
        auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
        if (!parser) return;
        antlr4::TokenStream* tokens = parser->getTokenStream();
        // The stream is filled lazily; the tokens after the error are needed too.
        if (auto* buffered = dynamic_cast<antlr4::BufferedTokenStream*>(tokens)) buffered->fill();
        auto visible = [&](ssize_t index, int step) -> antlr4::Token* {
            for (ssize_t i = index + step; i >= 0 && i < static_cast<ssize_t>(tokens->size()); i += step) {
                antlr4::Token* token = tokens->get(static_cast<size_t>(i));
                if (token->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return token;
            }
            return nullptr;
        };
        ssize_t index = static_cast<ssize_t>(offending->getTokenIndex());
        antlr4::Token* next = visible(index, 1);
        if ((offending->getType() == StreamSqlLexer::LEFT_PAREN && next && next->getType() == StreamSqlLexer::SELECT) ||
            offending->getType() == StreamSqlLexer::SELECT) {
            diagnostic.message = "subqueries are not supported";
            diagnostic.help = "a feature query reads one topic; compute the value in the query, or join upstream";
            return;
        }
        if (offending->getType() == StreamSqlLexer::COMMA) {
            for (ssize_t i = index - 1; i >= 0; --i) {
                size_t type = tokens->get(static_cast<size_t>(i))->getType();
                if (type == StreamSqlLexer::WHERE || type == StreamSqlLexer::GROUP || type == StreamSqlLexer::HAVING ||
                    type == StreamSqlLexer::LEFT_PAREN || type == StreamSqlLexer::SELECT)
                    return;
                if (type == StreamSqlLexer::FROM && next && (next->getType() == StreamSqlLexer::UNNEST || next->getType() == StreamSqlLexer::LATERAL)) {
                    diagnostic.message = fmt::format("{} (joining a row with a collection) is not supported", upper(next->getText()));
                    diagnostic.help = "repeated fields cannot be read yet; flatten them in the producer";
                    return;
                }
                if (type == StreamSqlLexer::FROM) {
                    diagnostic.message = "joins (FROM a, b) are not supported";
                    diagnostic.help = "a feature query reads one topic; join upstream or materialize each side as a feature";
                    return;
                }
            }
        }
    }

    static void describeExpected(antlr4::Parser& parser, Diagnostic& diagnostic) {
        antlr4::misc::IntervalSet expected;
        try {
            expected = parser.getExpectedTokens();
        } catch (...) {
            return;
        }
        std::vector<std::string> names;
        // Keywords that are also names (BOTH, FOR, LEADING, TO, TRAILING) are listed only where no name would do.
        bool nameExpected = expected.contains(static_cast<size_t>(StreamSqlLexer::IDENTIFIER));
        for (size_t token : expected.toList()) {
            if (nameExpected && (token == StreamSqlLexer::BOTH || token == StreamSqlLexer::FOR || token == StreamSqlLexer::LEADING ||
                                 token == StreamSqlLexer::TO || token == StreamSqlLexer::TRAILING))
                continue;
            if (token == antlr4::Token::EOF) {
                names.push_back("end of SQL");
                continue;
            }
            std::string name = parser.getVocabulary().getLiteralName(token);
            if (name.empty()) {
                name = parser.getVocabulary().getSymbolicName(token);
                if (name == "IDENTIFIER") name = "a name";
                else if (name == "STRING") name = "a string";
                else if (name == "INTEGER_VALUE" || name == "DECIMAL_VALUE" || name == "DOUBLE_VALUE") name = "a number";
                else if (name == "BACKQUOTED_IDENTIFIER" || name == "DOUBLE_QUOTED_IDENTIFIER") continue;
                else if (name.empty()) continue;
                else {
                    if (name.size() > 3 && name.compare(name.size() - 3, 3, "_KW") == 0) name.resize(name.size() - 3);
                    name = "`" + name + "`";
                }
            } else {
                name = "`" + name.substr(1, name.size() - 2) + "`";
            }
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
        }
        if (names.empty() || names.size() > 8) return;
        std::string list;
        for (size_t i = 0; i < names.size(); ++i) {
            if (i) list += i + 1 == names.size() ? " or " : ", ";
            list += names[i];
        }
        diagnostic.label = "expected " + list;
    }

    const OffsetMap& offsets_;
    const SqlLocator& locate_;
    DiagnosticEngine& diagnostics_;
    bool reported_ = false;
};

/// Walks the ANTLR parse tree and builds pipec's AST, one method per grammar rule.
class Transformer {
public:
    Transformer(const std::string& text, const OffsetMap& offsets, const SqlLocator& locate, DiagnosticEngine& diagnostics)
        : text_(text), offsets_(offsets), locate_(locate), diagnostics_(diagnostics) {}

    Query transformQuery(StreamSqlParser::QueryContext* context) {
        Query query = transformSelect(context->select());
        for (auto* named : context->namedQuery()) {
            NamedSubquery subquery;
            subquery.name = identifierText(named->name);
            subquery.span = spanOf(named);
            subquery.query = std::make_unique<Query>(transformQuery(named->query()));
            query.with.push_back(std::move(subquery));
        }
        return query;
    }

private:
    Query transformSelect(StreamSqlParser::SelectContext* context) {
        Query query;
        if (context->setQuantifier()) {
            query.distinct = context->setQuantifier()->DISTINCT() != nullptr;
            query.distinctSpan = spanOf(context->setQuantifier());
        }
        for (auto* item : context->selectItem()) query.selectItems.push_back(transformSelectItem(item));
        if (auto* table = dynamic_cast<StreamSqlParser::NamedTableContext*>(context->tableReference())) {
            for (auto* part : table->qualifiedName()->identifier()) query.from.name.push_back(identifierText(part));
            query.from.span = spanOf(table->qualifiedName());
            if (table->alias) query.from.alias = identifierText(table->alias);
        } else if (auto* window = dynamic_cast<StreamSqlParser::WindowTableContext*>(context->tableReference())) {
            transformWindowTable(window, query.from);
        } else {
            auto* derived = static_cast<StreamSqlParser::DerivedTableContext*>(context->tableReference());
            query.fromSubquery = std::make_unique<NamedSubquery>();
            if (derived->alias) query.fromSubquery->name = identifierText(derived->alias);
            query.fromSubquery->span = spanOf(derived);
            query.fromSubquery->query = std::make_unique<Query>(transformQuery(derived->query()));
            query.from.alias = query.fromSubquery->name;
            query.from.span = query.fromSubquery->span;
        }
        if (context->where) query.where = transformExpression(context->where);
        for (auto* item : context->groupItem()) query.groupBy.push_back(transformExpression(item->expression()));
        if (context->having) query.having = transformExpression(context->having);
        return query;
    }

    void transformWindowTable(StreamSqlParser::WindowTableContext* context, TableReference& from) {
        auto window = std::make_shared<WindowTableFunction>();
        window->name = identifierText(context->function);
        window->nameSpan = spanOf(context->function);
        window->span = spanOf(context);
        from.span = window->span;
        if (context->alias) from.alias = identifierText(context->alias);
        for (auto* argumentContext : context->windowArgument()) {
            WindowArgument argument;
            if (argumentContext->parameter) {
                argument.parameter = upper(identifierText(argumentContext->parameter));
                argument.parameterSpan = spanOf(argumentContext->parameter);
            }
            auto* value = argumentContext->windowArgumentValue();
            argument.span = spanOf(value);
            if (auto* table = dynamic_cast<StreamSqlParser::TableArgumentContext*>(value)) {
                argument.kind = WindowArgument::Kind::Table;
                for (auto* part : table->qualifiedName()->identifier()) argument.table.push_back(identifierText(part));
                if (from.name.empty()) {
                    from.name = argument.table;
                    from.span = spanOf(table->qualifiedName());
                }
            } else if (auto* descriptor = dynamic_cast<StreamSqlParser::DescriptorArgumentContext*>(value)) {
                argument.kind = WindowArgument::Kind::Descriptor;
                auto column = std::make_shared<Expression>();
                column->kind = ExpressionKind::Column;
                column->span = spanOf(descriptor->qualifiedName());
                for (auto* part : descriptor->qualifiedName()->identifier()) {
                    column->name.push_back(identifierText(part));
                    column->nameSpans.push_back(spanOf(part));
                }
                column->text = normalizedText(column->span);
                argument.value = std::move(column);
            } else {
                argument.value = transformExpression(static_cast<StreamSqlParser::ValueArgumentContext*>(value)->expression());
            }
            window->arguments.push_back(std::move(argument));
        }
        from.window = std::move(window);
    }

    Span spanOf(antlr4::ParserRuleContext* context) const {
        size_t start = offsets_.byteOffset(context->getStart()->getStartIndex());
        antlr4::Token* stopToken = context->getStop();
        size_t stop = stopToken && stopToken->getStopIndex() != std::numeric_limits<size_t>::max() &&
                              stopToken->getStopIndex() + 1 >= context->getStart()->getStartIndex()
                          ? offsets_.byteOffset(stopToken->getStopIndex() + 1)
                          : start;
        return Span{start, stop > start ? stop - start : 0};
    }

    Span spanOf(antlr4::Token* token) const {
        size_t start = offsets_.byteOffset(token->getStartIndex());
        size_t stop = offsets_.byteOffset(token->getStopIndex() + 1);
        return Span{start, stop > start ? stop - start : 0};
    }

    /// Source text of a span with runs of whitespace collapsed, for readable names in plans and messages.
    std::string normalizedText(Span span) const {
        std::string result;
        bool space = false;
        bool inString = false;
        for (size_t i = span.offset; i < span.offset + span.length && i < text_.size(); ++i) {
            char c = text_[i];
            if (c == '\'') inString = !inString;
            if (!inString && std::isspace(static_cast<unsigned char>(c))) {
                space = true;
                continue;
            }
            if (space && !result.empty()) result += ' ';
            space = false;
            result += c;
        }
        return result;
    }

    static std::string unquote(const std::string& text, char quote) {
        std::string result;
        for (size_t i = 1; i + 1 < text.size(); ++i) {
            result += text[i];
            if (text[i] == quote && i + 2 < text.size() && text[i + 1] == quote) ++i;
        }
        return result;
    }

    std::string identifierText(StreamSqlParser::IdentifierContext* context) const {
        if (auto* quoted = dynamic_cast<StreamSqlParser::BackQuotedIdentifierContext*>(context))
            return unquote(quoted->getText(), '`');
        if (auto* quoted = dynamic_cast<StreamSqlParser::DoubleQuotedIdentifierContext*>(context))
            return unquote(quoted->getText(), '"');
        return context->getText();
    }

    SelectItem transformSelectItem(StreamSqlParser::SelectItemContext* context) {
        SelectItem item;
        item.span = spanOf(context);
        if (dynamic_cast<StreamSqlParser::SelectAllContext*>(context)) {
            item.star = true;
            return item;
        }
        auto* expression = static_cast<StreamSqlParser::SelectExpressionContext*>(context);
        item.expression = transformExpression(expression->expression());
        if (expression->alias) {
            item.alias = identifierText(expression->alias);
            item.aliasSpan = spanOf(expression->alias);
        }
        return item;
    }

    std::unique_ptr<Expression> make(ExpressionKind kind, antlr4::ParserRuleContext* context) {
        auto expression = std::make_unique<Expression>();
        expression->kind = kind;
        expression->span = spanOf(context);
        expression->text = normalizedText(expression->span);
        return expression;
    }

    std::unique_ptr<Expression> transformExpression(StreamSqlParser::ExpressionContext* context) {
        return transformBoolean(context->booleanExpression());
    }

    std::unique_ptr<Expression> transformBoolean(StreamSqlParser::BooleanExpressionContext* context) {
        if (auto* notContext = dynamic_cast<StreamSqlParser::LogicalNotContext*>(context)) {
            auto expression = make(ExpressionKind::Unary, context);
            expression->op = "NOT";
            expression->arguments.push_back(transformBoolean(notContext->booleanExpression()));
            return expression;
        }
        if (auto* binary = dynamic_cast<StreamSqlParser::LogicalBinaryContext*>(context)) {
            auto expression = make(ExpressionKind::Binary, context);
            expression->op = upper(binary->op->getText());
            expression->arguments.push_back(transformBoolean(binary->left));
            expression->arguments.push_back(transformBoolean(binary->right));
            return expression;
        }
        auto* predicated = static_cast<StreamSqlParser::PredicatedExpressionContext*>(context)->predicated();
        auto value = transformValue(predicated->valueExpression());
        auto* predicate = predicated->predicate();
        if (!predicate) return value;
        std::unique_ptr<Expression> expression;
        if (auto* between = dynamic_cast<StreamSqlParser::BetweenPredicateContext*>(predicate)) {
            expression = make(ExpressionKind::Between, predicated);
            expression->negated = between->NOT() != nullptr;
            expression->arguments.push_back(std::move(value));
            expression->arguments.push_back(transformValue(between->lower));
            expression->arguments.push_back(transformValue(between->upper));
        } else if (auto* in = dynamic_cast<StreamSqlParser::InPredicateContext*>(predicate)) {
            expression = make(ExpressionKind::In, predicated);
            expression->negated = in->NOT() != nullptr;
            expression->arguments.push_back(std::move(value));
            for (auto* item : in->expression()) expression->arguments.push_back(transformExpression(item));
        } else if (auto* like = dynamic_cast<StreamSqlParser::LikePredicateContext*>(predicate)) {
            expression = make(ExpressionKind::Like, predicated);
            expression->negated = like->NOT() != nullptr;
            expression->arguments.push_back(std::move(value));
            expression->arguments.push_back(transformValue(like->pattern));
            if (like->escape) expression->arguments.push_back(transformValue(like->escape));
        } else if (auto* isNull = dynamic_cast<StreamSqlParser::NullPredicateContext*>(predicate)) {
            expression = make(ExpressionKind::IsNull, predicated);
            expression->negated = isNull->NOT() != nullptr;
            expression->arguments.push_back(std::move(value));
        } else {
            auto* isBoolean = static_cast<StreamSqlParser::BooleanPredicateContext*>(predicate);
            expression = make(ExpressionKind::IsBoolean, predicated);
            expression->negated = isBoolean->NOT() != nullptr;
            expression->booleanTarget = isBoolean->booleanValue()->TRUE_KW() != nullptr;
            expression->arguments.push_back(std::move(value));
        }
        return expression;
    }

    std::unique_ptr<Expression> transformValue(StreamSqlParser::ValueExpressionContext* context) {
        if (auto* primary = dynamic_cast<StreamSqlParser::ValueDefaultContext*>(context))
            return transformPrimary(primary->primaryExpression());
        if (auto* unary = dynamic_cast<StreamSqlParser::ArithmeticUnaryContext*>(context)) {
            auto operand = transformValue(unary->valueExpression());
            // Fold a sign into a numeric literal so that -9223372036854775808 is representable.
            if (operand->kind == ExpressionKind::Literal && !operand->parenthesized &&
                (operand->literal.kind == LiteralKind::Integer || operand->literal.kind == LiteralKind::Decimal ||
                 operand->literal.kind == LiteralKind::Double)) {
                if (unary->op->getText() == "-") operand->literal.text = "-" + operand->literal.text;
                operand->span = spanOf(context);
                operand->text = normalizedText(operand->span);
                return operand;
            }
            auto expression = make(ExpressionKind::Unary, context);
            expression->op = unary->op->getText();
            expression->arguments.push_back(std::move(operand));
            return expression;
        }
        if (auto* binary = dynamic_cast<StreamSqlParser::ArithmeticBinaryContext*>(context)) {
            auto expression = make(ExpressionKind::Binary, context);
            expression->op = binary->op->getText();
            expression->arguments.push_back(transformValue(binary->left));
            expression->arguments.push_back(transformValue(binary->right));
            return expression;
        }
        auto* comparison = static_cast<StreamSqlParser::ComparisonContext*>(context);
        auto expression = make(ExpressionKind::Binary, context);
        expression->op = comparison->comparisonOperator()->getText();
        if (expression->op == "!=") expression->op = "<>";
        expression->arguments.push_back(transformValue(comparison->left));
        expression->arguments.push_back(transformValue(comparison->right));
        return expression;
    }

    std::unique_ptr<Expression> transformPrimary(StreamSqlParser::PrimaryExpressionContext* context) {
        if (dynamic_cast<StreamSqlParser::NullLiteralContext*>(context)) {
            auto expression = make(ExpressionKind::Literal, context);
            expression->literal.kind = LiteralKind::Null;
            expression->literal.text = "NULL";
            return expression;
        }
        if (auto* interval = dynamic_cast<StreamSqlParser::IntervalLiteralContext*>(context)) return transformInterval(interval);
        if (auto* timestamp = dynamic_cast<StreamSqlParser::TimestampLiteralContext*>(context)) {
            auto expression = make(ExpressionKind::Literal, context);
            expression->literal.kind = LiteralKind::Timestamp;
            expression->literal.text = unquote(timestamp->STRING()->getText(), '\'');
            return expression;
        }
        if (auto* number = dynamic_cast<StreamSqlParser::NumericLiteralContext*>(context)) {
            auto expression = make(ExpressionKind::Literal, context);
            auto* value = number->number();
            expression->literal.text = value->getText();
            if (dynamic_cast<StreamSqlParser::IntegerLiteralContext*>(value)) expression->literal.kind = LiteralKind::Integer;
            else if (dynamic_cast<StreamSqlParser::DecimalLiteralContext*>(value)) expression->literal.kind = LiteralKind::Decimal;
            else expression->literal.kind = LiteralKind::Double;
            return expression;
        }
        if (auto* boolean = dynamic_cast<StreamSqlParser::BooleanLiteralContext*>(context)) {
            auto expression = make(ExpressionKind::Literal, context);
            expression->literal.kind = LiteralKind::Boolean;
            expression->literal.booleanValue = boolean->booleanValue()->TRUE_KW() != nullptr;
            expression->literal.text = expression->literal.booleanValue ? "TRUE" : "FALSE";
            return expression;
        }
        if (auto* string = dynamic_cast<StreamSqlParser::StringLiteralContext*>(context)) {
            auto expression = make(ExpressionKind::Literal, context);
            expression->literal.kind = LiteralKind::String;
            expression->literal.text = unquote(string->STRING()->getText(), '\'');
            return expression;
        }
        if (auto* caseContext = dynamic_cast<StreamSqlParser::CaseExpressionContext*>(context)) {
            auto expression = make(ExpressionKind::Case, context);
            if (caseContext->operand) {
                expression->caseHasOperand = true;
                expression->arguments.push_back(transformExpression(caseContext->operand));
            }
            for (auto* when : caseContext->whenClause()) {
                expression->arguments.push_back(transformExpression(when->condition));
                expression->arguments.push_back(transformExpression(when->result));
            }
            if (caseContext->elseExpression) {
                expression->caseHasElse = true;
                expression->arguments.push_back(transformExpression(caseContext->elseExpression));
            }
            return expression;
        }
        if (auto* cast = dynamic_cast<StreamSqlParser::CastContext*>(context)) {
            auto expression = make(ExpressionKind::Cast, context);
            expression->arguments.push_back(transformExpression(cast->expression()));
            auto* type = cast->dataType();
            expression->castType.span = spanOf(type);
            if (type->identifier()) {
                expression->castType.name = upper(identifierText(type->identifier()));
                if (type->INTERVAL()) expression->castType.name = "INTERVAL " + expression->castType.name;
            } else {
                expression->castType.name = "TIMESTAMP";
            }
            for (auto* parameter : type->INTEGER_VALUE()) {
                try {
                    expression->castType.parameters.push_back(std::stoll(parameter->getText()));
                } catch (...) {
                    expression->castType.parameters.push_back(-1);
                }
            }
            return expression;
        }
        if (auto* star = dynamic_cast<StreamSqlParser::StarFunctionCallContext*>(context)) {
            auto expression = make(ExpressionKind::FunctionCall, context);
            expression->name.push_back(identifierText(star->name));
            expression->nameSpans.push_back(spanOf(star->name));
            expression->star = true;
            if (star->filterClause()) expression->filter = transformExpression(star->filterClause()->condition);
            return expression;
        }
        if (auto* call = dynamic_cast<StreamSqlParser::TrimFunctionCallContext*>(context)) {
            // TRIM(side [characters] FROM s) → TRIM('side', characters, s), characters defaulting to a space.
            auto expression = keywordCall(context, call->name, CallForm::From, {"TRIM"}, "BOTH/LEADING/TRAILING … FROM");
            expression->arguments.push_back(stringArgument(upper(call->trimSide->getText()), spanOf(call->trimSide)));
            expression->arguments.push_back(call->characters ? transformValue(call->characters) : stringArgument(" ", spanOf(call->trimSide)));
            expression->arguments.push_back(transformExpression(call->operand));
            return expression;
        }
        if (auto* call = dynamic_cast<StreamSqlParser::FromFunctionCallContext*>(context)) {
            std::string name = upper(identifierText(call->name));
            auto expression = keywordCall(context, call->name, CallForm::From, {"EXTRACT", "SUBSTRING", "TRIM"}, "`FROM`");
            if (call->third && name != "SUBSTRING") {
                auto& diagnostic = diagnostics_.error("E0301", locate_(spanOf(call->FOR()->getSymbol()).offset, 3),
                                                      fmt::format("syntax error: {} does not take `FOR`", name));
                diagnostic.label = "only SUBSTRING(s FROM start FOR length) does";
            }
            if (name == "TRIM") expression->arguments.push_back(stringArgument("BOTH", spanOf(call->name)));
            expression->arguments.push_back(transformValue(call->first));
            expression->arguments.push_back(transformExpression(call->second));
            if (call->third) expression->arguments.push_back(transformExpression(call->third));
            return expression;
        }
        if (auto* call = dynamic_cast<StreamSqlParser::ToFunctionCallContext*>(context)) {
            auto expression = keywordCall(context, call->name, CallForm::To, {"FLOOR", "CEIL", "CEILING"}, "`TO`");
            expression->arguments.push_back(transformExpression(call->operand));
            auto unit = std::make_unique<Expression>();
            unit->kind = ExpressionKind::Column;
            unit->span = spanOf(call->unit);
            unit->text = identifierText(call->unit);
            unit->name.push_back(unit->text);
            unit->nameSpans.push_back(unit->span);
            expression->arguments.push_back(std::move(unit));
            return expression;
        }
        if (auto* call = dynamic_cast<StreamSqlParser::InFunctionCallContext*>(context)) {
            auto expression = keywordCall(context, call->name, CallForm::In, {"POSITION"}, "`IN`");
            expression->arguments.push_back(transformValue(call->first));
            expression->arguments.push_back(transformValue(call->second));
            return expression;
        }
        if (auto* call = dynamic_cast<StreamSqlParser::FunctionCallContext*>(context)) {
            auto expression = make(ExpressionKind::FunctionCall, context);
            expression->name.push_back(identifierText(call->name));
            expression->nameSpans.push_back(spanOf(call->name));
            expression->distinct = call->setQuantifier() && call->setQuantifier()->DISTINCT();
            for (auto* argument : call->expression()) expression->arguments.push_back(transformExpression(argument));
            if (call->filterClause()) expression->filter = transformExpression(call->filterClause()->condition);
            return expression;
        }
        if (auto* column = dynamic_cast<StreamSqlParser::ColumnReferenceContext*>(context)) {
            auto expression = make(ExpressionKind::Column, context);
            for (auto* part : column->qualifiedName()->identifier()) {
                expression->name.push_back(identifierText(part));
                expression->nameSpans.push_back(spanOf(part));
            }
            return expression;
        }
        auto* parenthesized = static_cast<StreamSqlParser::ParenthesizedExpressionContext*>(context);
        auto inner = transformExpression(parenthesized->expression());
        inner->parenthesized = true;
        return inner;
    }

    /// A call in a keyword form (`EXTRACT(HOUR FROM ts)`); reports a syntax error when `name` is not one of the
    /// functions written that way.
    std::unique_ptr<Expression> keywordCall(antlr4::ParserRuleContext* context, StreamSqlParser::IdentifierContext* nameContext, CallForm form,
                                            std::initializer_list<std::string_view> names, std::string_view keyword) {
        auto expression = make(ExpressionKind::FunctionCall, context);
        expression->name.push_back(identifierText(nameContext));
        expression->nameSpans.push_back(spanOf(nameContext));
        expression->callForm = form;
        std::string name = upper(expression->name.front());
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            Span span = spanOf(nameContext);
            auto& diagnostic = diagnostics_.error("E0301", locate_(span.offset, std::max<size_t>(1, span.length)),
                                                  fmt::format("syntax error: {} is not written with {}", expression->name.front(), keyword));
            std::string list;
            for (auto candidate : names) list += (list.empty() ? "" : ", ") + std::string(candidate);
            diagnostic.label = fmt::format("{} is only for {}", keyword, list);
        }
        return expression;
    }

    static std::unique_ptr<Expression> stringArgument(std::string value, Span span) {
        auto expression = std::make_unique<Expression>();
        expression->kind = ExpressionKind::Literal;
        expression->span = span;
        expression->literal.kind = LiteralKind::String;
        expression->literal.text = value;
        expression->text = "'" + value + "'";
        return expression;
    }

    /// One interval field unit in milliseconds (singular or plural name), 0 when unknown; -1 for YEAR and MONTH.
    static int64_t intervalUnitMillis(const std::string& unit) {
        static const std::vector<std::pair<std::string, int64_t>> kUnits = {
            {"MILLISECOND", 1}, {"SECOND", 1000}, {"MINUTE", 60'000}, {"HOUR", 3'600'000}, {"DAY", 86'400'000},
            {"MONTH", -1},      {"YEAR", -1}};
        for (const auto& [name, ms] : kUnits)
            if (unit == name || unit == name + "S") return ms;
        return 0;
    }

    /// Parses the quoted value of an interval with qualifier `unit` [TO `toUnit`] (Flink's/Calcite's formats:
    /// '20' SECOND, '1.5' SECOND, '1:30' MINUTE TO SECOND, '2 12' DAY TO HOUR, '1 02:03:04.5' DAY TO SECOND), in
    /// milliseconds. Sets `problem` and returns nullopt when the value does not fit the qualifier.
    static std::optional<int64_t> parseIntervalValue(std::string value, int64_t unitMs, int64_t toUnitMs, bool& negative,
                                                     std::string& problem) {
        size_t position = 0;
        while (position < value.size() && std::isspace(static_cast<unsigned char>(value[position]))) ++position;
        if (position < value.size() && (value[position] == '-' || value[position] == '+')) {
            negative = negative != (value[position] == '-');
            ++position;
        }
        value = value.substr(position);
        while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
        // The fields, most significant first, each with its unit; the separators between them follow the qualifier:
        // a space after days, a colon between hours, minutes and seconds.
        static const int64_t kChain[] = {86'400'000, 3'600'000, 60'000, 1000};
        std::vector<int64_t> units;
        if (toUnitMs == 0) {
            units.push_back(unitMs);
        } else {
            bool inside = false;
            for (int64_t unit : kChain) {
                if (unit == unitMs) inside = true;
                if (inside) units.push_back(unit);
                if (unit == toUnitMs) break;
            }
        }
        int64_t total = 0;
        size_t at = 0;
        for (size_t field = 0; field < units.size(); ++field) {
            if (field > 0) {
                char separator = units[field - 1] == 86'400'000 ? ' ' : ':';
                if (at >= value.size() || value[at] != separator) {
                    problem = "expected the format of its qualifier";
                    return std::nullopt;
                }
                ++at;
            }
            size_t start = at;
            while (at < value.size() && std::isdigit(static_cast<unsigned char>(value[at]))) ++at;
            if (at == start || at - start > 18) {
                problem = at != start                          ? "out of range"
                          : toUnitMs != 0                        ? "expected the format of its qualifier"
                          : unitMs == 1000                       ? "expected a number, e.g. INTERVAL '20' SECONDS or INTERVAL '0.5' SECOND"
                                                                 : "expected a whole number, e.g. INTERVAL '20' SECONDS";
                return std::nullopt;
            }
            int64_t number = std::stoll(value.substr(start, at - start));
            int64_t unit = units[field];
            if (field > 0) {
                int64_t limit = unit == 3'600'000 ? 24 : 60;
                if (number >= limit) {
                    problem = fmt::format("{} is out of range for this field (at most {})", number, limit - 1);
                    return std::nullopt;
                }
            }
            int64_t milliseconds = 0;
            if (__builtin_mul_overflow(number, unit, &milliseconds) || __builtin_add_overflow(total, milliseconds, &total)) {
                problem = "out of range";
                return std::nullopt;
            }
            if (field + 1 == units.size() && at < value.size() && value[at] == '.') {
                // A fraction of a second, to the millisecond.
                if (unit != 1000) {
                    problem = "only seconds take a fraction";
                    return std::nullopt;
                }
                size_t fractionStart = ++at;
                while (at < value.size() && std::isdigit(static_cast<unsigned char>(value[at]))) ++at;
                std::string digits = value.substr(fractionStart, at - fractionStart);
                if (digits.empty()) {
                    problem = "expected digits after the decimal point";
                    return std::nullopt;
                }
                if (digits.size() > 3 && digits.find_first_not_of('0', 3) != std::string::npos) {
                    problem = "intervals are precise to the millisecond";
                    return std::nullopt;
                }
                digits.resize(3, '0');
                total += std::stoll(digits.substr(0, 3));
            }
        }
        if (at != value.size()) {
            problem = toUnitMs != 0    ? "expected the format of its qualifier"
                      : unitMs == 1000 ? "expected a number, e.g. INTERVAL '20' SECONDS or INTERVAL '0.5' SECOND"
                      : value.find('.') != std::string::npos ? "only seconds take a fraction, e.g. INTERVAL '90' SECOND"
                                                             : "expected a whole number, e.g. INTERVAL '20' SECONDS";
            return std::nullopt;
        }
        return total;
    }

    std::unique_ptr<Expression> transformInterval(StreamSqlParser::IntervalLiteralContext* context) {
        auto expression = make(ExpressionKind::Literal, context);
        Literal& literal = expression->literal;
        literal.kind = LiteralKind::Interval;
        literal.text = unquote(context->STRING()->getText(), '\'');
        literal.unit = upper(identifierText(context->unit));
        literal.unitSpan = spanOf(context->unit);
        std::string toUnit = context->toUnit ? upper(identifierText(context->toUnit)) : "";
        Span qualifierSpan = literal.unitSpan;
        if (context->toUnit) {
            Span end = spanOf(context->toUnit);
            qualifierSpan.length = end.offset + end.length - qualifierSpan.offset;
            literal.unit += " TO " + toUnit;
        }
        int64_t unitMs = intervalUnitMillis(upper(identifierText(context->unit)));
        int64_t toUnitMs = context->toUnit ? intervalUnitMillis(toUnit) : 0;
        if (unitMs == 0 || (context->toUnit && toUnitMs == 0)) {
            Span bad = unitMs == 0 ? literal.unitSpan : spanOf(context->toUnit);
            std::string written = unitMs == 0 ? identifierText(context->unit) : identifierText(context->toUnit);
            auto& diagnostic = diagnostics_.error("E0302", locate_(bad.offset, bad.length), fmt::format("unknown interval unit `{}`", written));
            std::string suggestion = closestMatch(upper(written), {"MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"});
            diagnostic.label = suggestion.empty() ? "expected SECOND(S), MINUTE(S), HOUR(S), DAY(S) or MILLISECOND(S)"
                                                  : fmt::format("did you mean `{}`?", suggestion);
            return expression;
        }
        if (unitMs < 0 || toUnitMs < 0) {
            auto& diagnostic = diagnostics_.error("E0302", locate_(qualifierSpan.offset, qualifierSpan.length),
                                                  "year-month intervals are not supported");
            diagnostic.label = "months and years have no fixed length in milliseconds";
            diagnostic.help = "use days (INTERVAL '30' DAY), or TIMESTAMPADD(MONTH, n, ts) to move a timestamp by calendar months";
            return expression;
        }
        if (context->toUnit && (toUnitMs >= unitMs || unitMs == 1 || toUnitMs == 1)) {
            auto& diagnostic = diagnostics_.error("E0302", locate_(qualifierSpan.offset, qualifierSpan.length),
                                                  fmt::format("invalid interval qualifier {}", literal.unit));
            diagnostic.label = "expected DAY TO HOUR, DAY TO MINUTE, DAY TO SECOND, HOUR TO MINUTE, HOUR TO SECOND or MINUTE TO SECOND";
            return expression;
        }
        bool negative = context->sign && context->sign->getText() == "-";
        std::string problem;
        auto milliseconds = parseIntervalValue(literal.text, unitMs, toUnitMs, negative, problem);
        Span valueSpan = spanOf(context->STRING()->getSymbol());
        if (!milliseconds && problem != "out of range") {
            auto& diagnostic = diagnostics_.error("E0302", locate_(valueSpan.offset, valueSpan.length),
                                                  context->toUnit ? fmt::format("invalid interval value '{}' for {}", literal.text, literal.unit)
                                                                  : fmt::format("invalid interval value '{}'", literal.text));
            diagnostic.label = problem;
            static const std::map<std::string, std::string> kExamples = {
                {"DAY TO HOUR", "'1 12' DAY TO HOUR"},       {"DAY TO MINUTE", "'1 12:30' DAY TO MINUTE"},
                {"DAY TO SECOND", "'1 12:30:05.5' DAY TO SECOND"}, {"HOUR TO MINUTE", "'1:30' HOUR TO MINUTE"},
                {"HOUR TO SECOND", "'1:30:05' HOUR TO SECOND"}, {"MINUTE TO SECOND", "'1:30' MINUTE TO SECOND"}};
            std::string qualifier = literal.unit;
            for (const auto& [name, example] : kExamples)
                if (qualifier.find(name.substr(0, name.find(' '))) == 0 && qualifier.find(name.substr(name.rfind(' ') + 1)) != std::string::npos)
                    diagnostic.help = fmt::format("e.g. INTERVAL {}", example);
            return expression;
        }
        // Checked: the value must stay within the engine's time range, else it would wrap around (a window size of
        // -5833720368634158080 ms) or overflow `time + size` at run time.
        if (!milliseconds || *milliseconds > kMaxDurationMs) {
            auto& diagnostic = diagnostics_.error("E0302", locate_(valueSpan.offset, valueSpan.length),
                                                  fmt::format("interval '{}' {} is out of range", literal.text, literal.unit));
            diagnostic.label = fmt::format("longer than {}", kMaxDurationText);
            diagnostic.help = "intervals, window sizes, slides and gaps are limited to the runtime's event-time range, 2^60 ms";
            return expression;
        }
        literal.intervalMs = negative ? -*milliseconds : *milliseconds;
        return expression;
    }

    const std::string& text_;
    const OffsetMap& offsets_;
    const SqlLocator& locate_;
    DiagnosticEngine& diagnostics_;
};

} // namespace

std::optional<Query> parseQuery(const std::string& text, const SqlLocator& locate, DiagnosticEngine& diagnostics) {
    // ANTLR decodes UTF-8 and throws on invalid sequences: reject them with a location first.
    if (size_t bad = firstInvalidUtf8(text); bad != std::string::npos) {
        auto& diagnostic = diagnostics.error("E0304", locate(bad, 1), "SQL text is not valid UTF-8");
        diagnostic.label = fmt::format("invalid byte 0x{:02x}", static_cast<unsigned char>(text[bad]));
        return std::nullopt;
    }
    // The parser and the transformer recurse per nesting level; bound the depth so hostile input cannot
    // overflow the stack. Real queries nest a handful of levels.
    constexpr int kMaxNesting = 128;
    int depth = 0;
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\'') inString = !inString;
        if (inString) continue;
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (depth > kMaxNesting) {
            auto& diagnostic = diagnostics.error("E0303", locate(i, 1),
                                                 fmt::format("expression nested too deeply (more than {} levels)", kMaxNesting));
            diagnostic.label = "nesting limit reached here";
            return std::nullopt;
        }
    }
    OffsetMap offsets(text);
    antlr4::ANTLRInputStream input(text);
    StreamSqlLexer lexer(&input);
    lexer.removeErrorListeners();
    antlr4::CommonTokenStream tokens(&lexer);
    StreamSqlParser parser(&tokens);
    SyntaxErrorListener listener(offsets, locate, diagnostics);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    // SLL prediction first (fast); on failure retry with full LL for exact error positions.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    StreamSqlParser::StatementContext* statement = nullptr;
    try {
        statement = parser.statement();
    } catch (const antlr4::ParseCancellationException&) {
        tokens.seek(0);
        parser.reset();
        parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
        parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
        statement = parser.statement();
    }
    if (listener.reported() || !statement || !statement->query()) {
        // SQL strings may span lines, so a missing closing quote shows up later as a confusing error: point at it.
        if (listener.reported() && !diagnostics.all().empty()) {
            for (antlr4::Token* token : tokens.getTokens()) {
                if (token->getType() != StreamSqlLexer::STRING) continue;
                size_t start = offsets.byteOffset(token->getStartIndex());
                size_t stop = offsets.byteOffset(token->getStopIndex());
                SourceLocation location = locate(start, 1);
                if (locate(stop, 1).line == location.line) continue;
                const_cast<Diagnostic&>(diagnostics.all().back())
                    .notes.push_back(fmt::format("the string literal at {}:{} spans several lines; is a closing quote missing?",
                                                 location.line, location.column));
                break;
            }
        }
        return std::nullopt;
    }
    size_t errorsBefore = diagnostics.errorCount();
    Transformer transformer(text, offsets, locate, diagnostics);
    Query query = transformer.transformQuery(statement->query());
    if (diagnostics.errorCount() != errorsBefore) return std::nullopt;
    inlineSubqueries(query, locate, diagnostics);
    if (diagnostics.errorCount() != errorsBefore) return std::nullopt;
    return query;
}

} // namespace pipec::sql
