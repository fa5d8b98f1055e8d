#include "compiler/sql/sql_parser.h"

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
                default:
                    diagnostic.message = fmt::format("syntax error: unexpected `{}`", text);
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
    static void describeExpected(antlr4::Parser& parser, Diagnostic& diagnostic) {
        antlr4::misc::IntervalSet expected;
        try {
            expected = parser.getExpectedTokens();
        } catch (...) {
            return;
        }
        std::vector<std::string> names;
        for (size_t token : expected.toList()) {
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
        Query query;
        if (context->setQuantifier()) {
            query.distinct = context->setQuantifier()->DISTINCT() != nullptr;
            query.distinctSpan = spanOf(context->setQuantifier());
        }
        for (auto* item : context->selectItem()) query.selectItems.push_back(transformSelectItem(item));
        auto* table = context->tableReference();
        for (auto* part : table->qualifiedName()->identifier()) query.from.name.push_back(identifierText(part));
        query.from.span = spanOf(table->qualifiedName());
        if (table->alias) query.from.alias = identifierText(table->alias);
        if (context->where) query.where = transformExpression(context->where);
        for (auto* item : context->groupItem()) query.groupBy.push_back(transformExpression(item->expression()));
        if (context->having) query.having = transformExpression(context->having);
        return query;
    }

private:
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
            return expression;
        }
        if (auto* call = dynamic_cast<StreamSqlParser::FunctionCallContext*>(context)) {
            auto expression = make(ExpressionKind::FunctionCall, context);
            expression->name.push_back(identifierText(call->name));
            expression->nameSpans.push_back(spanOf(call->name));
            expression->distinct = call->setQuantifier() && call->setQuantifier()->DISTINCT();
            for (auto* argument : call->expression()) expression->arguments.push_back(transformExpression(argument));
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

    std::unique_ptr<Expression> transformInterval(StreamSqlParser::IntervalLiteralContext* context) {
        auto expression = make(ExpressionKind::Literal, context);
        Literal& literal = expression->literal;
        literal.kind = LiteralKind::Interval;
        literal.text = unquote(context->STRING()->getText(), '\'');
        literal.unit = upper(identifierText(context->unit));
        literal.unitSpan = spanOf(context->unit);
        static const std::vector<std::pair<std::string, int64_t>> kUnits = {
            {"MILLISECOND", 1},        {"MILLISECONDS", 1},      {"SECOND", 1000},         {"SECONDS", 1000},
            {"MINUTE", 60'000},        {"MINUTES", 60'000},      {"HOUR", 3'600'000},      {"HOURS", 3'600'000},
            {"DAY", 86'400'000},       {"DAYS", 86'400'000}};
        int64_t unitMs = 0;
        for (const auto& [name, ms] : kUnits)
            if (name == literal.unit) unitMs = ms;
        if (unitMs == 0) {
            std::vector<std::string> names;
            for (const auto& unit : kUnits) names.push_back(unit.first);
            auto& diagnostic = diagnostics_.error("E0302", locate_(literal.unitSpan.offset, literal.unitSpan.length),
                                                  fmt::format("unknown interval unit `{}`", identifierText(context->unit)));
            std::string suggestion = closestMatch(literal.unit, names);
            diagnostic.label = suggestion.empty() ? "expected SECOND(S), MINUTE(S), HOUR(S), DAY(S) or MILLISECOND(S)"
                                                  : fmt::format("did you mean `{}`?", suggestion);
            return expression;
        }
        // The quoted value is an integer count, optionally signed (Flink also allows the sign outside the quotes).
        std::string digits = literal.text;
        bool negative = context->sign && context->sign->getText() == "-";
        size_t position = 0;
        while (position < digits.size() && std::isspace(static_cast<unsigned char>(digits[position]))) ++position;
        if (position < digits.size() && (digits[position] == '-' || digits[position] == '+')) {
            negative = negative != (digits[position] == '-');
            ++position;
        }
        std::string number = digits.substr(position);
        while (!number.empty() && std::isspace(static_cast<unsigned char>(number.back()))) number.pop_back();
        bool valid = !number.empty() && std::all_of(number.begin(), number.end(), [](unsigned char c) { return std::isdigit(c); });
        Span valueSpan = spanOf(context->STRING()->getSymbol());
        if (!valid) {
            auto& diagnostic = diagnostics_.error("E0302", locate_(valueSpan.offset, valueSpan.length),
                                                  fmt::format("invalid interval value '{}'", literal.text));
            diagnostic.label = "expected a whole number, e.g. INTERVAL '20' SECONDS";
            return expression;
        }
        // Checked: the count and its product with the unit must stay within the engine's time range, else the value
        // would wrap around (a window size of -5833720368634158080 ms) or overflow `time + size` at run time.
        int64_t count = 0;
        int64_t milliseconds = 0;
        auto [end, status] = std::from_chars(number.data(), number.data() + number.size(), count);
        if (status != std::errc() || end != number.data() + number.size() || __builtin_mul_overflow(count, unitMs, &milliseconds) ||
            milliseconds > kMaxDurationMs) {
            auto& diagnostic = diagnostics_.error("E0302", locate_(valueSpan.offset, valueSpan.length),
                                                  fmt::format("interval '{}' {} is out of range", literal.text, literal.unit));
            diagnostic.label = fmt::format("longer than {}", kMaxDurationText);
            diagnostic.help = "intervals, window sizes, slides and gaps are limited to the runtime's event-time range, 2^60 ms";
            return expression;
        }
        literal.intervalMs = negative ? -milliseconds : milliseconds;
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
    return query;
}

} // namespace pipec::sql
