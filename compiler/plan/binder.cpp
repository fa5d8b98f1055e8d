#include "compiler/plan/binder.h"

#include "runtime/core/civil_time.h"  // header-only calendar arithmetic shared with the runtime

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <map>
#include <set>

namespace pipec::logical {

namespace {

using sql::Expression;
using sql::ExpressionKind;
using sql::LiteralKind;

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

std::string joinName(const std::vector<std::string>& parts) {
    std::string result;
    for (size_t i = 0; i < parts.size(); ++i) result += (i ? "." : "") + parts[i];
    return result;
}

/// Where an expression is bound: over the source row (WHERE, GROUP BY, aggregate arguments, stateless SELECT),
/// or over the aggregate row (SELECT and HAVING of an aggregating query).
enum class ScopeKind { Source, Aggregate };

struct Scope {
    ScopeKind kind;
    const char* clause;        // for messages: "WHERE", "GROUP BY", "SELECT", "HAVING", "an aggregate argument"
};

enum class AggregateKind { None, Count, Sum, Avg, Min, Max };

AggregateKind aggregateKind(const std::string& name) {
    if (name == "COUNT") return AggregateKind::Count;
    if (name == "SUM") return AggregateKind::Sum;
    if (name == "AVG") return AggregateKind::Avg;
    if (name == "MIN") return AggregateKind::Min;
    if (name == "MAX") return AggregateKind::Max;
    return AggregateKind::None;
}

plan::WindowKind groupWindowKind(const std::string& name) {
    if (name == "TUMBLE") return plan::TUMBLE;
    if (name == "HOP") return plan::HOP;
    if (name == "SESSION") return plan::SESSION;
    return plan::WINDOW_NONE;
}

const char* windowName(plan::WindowKind kind) {
    switch (kind) {
    case plan::TUMBLE: return "TUMBLE";
    case plan::HOP: return "HOP";
    case plan::SESSION: return "SESSION";
    default: return "NONE";
    }
}

/// `HOP_START` → (HOP, start); `TUMBLE_END` → (TUMBLE, end).
bool windowAuxiliary(const std::string& name, plan::WindowKind& kind, bool& isEnd) {
    for (plan::WindowKind candidate : {plan::TUMBLE, plan::HOP, plan::SESSION}) {
        std::string prefix = windowName(candidate);
        if (name == prefix + "_START" || name == prefix + "_END") {
            kind = candidate;
            isEnd = name == prefix + "_END";
            return true;
        }
    }
    return false;
}

/// Scalar functions: name → (min args, max args). Their typing lives in bindScalarFunction.
const std::map<std::string, std::pair<size_t, size_t>>& scalarFunctions() {
    static const std::map<std::string, std::pair<size_t, size_t>> kFunctions = {
        {"ABS", {1, 1}},       {"LOWER", {1, 1}},     {"UPPER", {1, 1}},  {"CONCAT", {1, 64}},
        {"CHAR_LENGTH", {1, 1}}, {"CHARACTER_LENGTH", {1, 1}}, {"TRIM", {1, 1}}, {"SUBSTRING", {2, 3}},
        {"ROUND", {1, 1}},     {"FLOOR", {1, 1}},     {"CEIL", {1, 1}},   {"CEILING", {1, 1}},
        {"MOD", {2, 2}},       {"POWER", {2, 2}},     {"SQRT", {1, 1}},   {"COALESCE", {1, 64}}};
    return kFunctions;
}

std::vector<std::string> knownFunctionNames() {
    std::vector<std::string> names;
    for (const auto& entry : scalarFunctions()) names.push_back(entry.first);
    for (const char* name : {"COUNT", "SUM", "AVG", "MIN", "MAX", "TUMBLE", "HOP", "SESSION", "TUMBLE_START",
                             "TUMBLE_END", "HOP_START", "HOP_END", "SESSION_START", "SESSION_END"})
        names.push_back(name);
    return names;
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

/// HOP windows per row allowed (size / slide): a 1 day window sliding every 100 ms is 864,000.
constexpr int64_t kMaxWindowsPerRow = 1'000'000;

constexpr int kWindowStartPlaceholder = 1 << 20;
constexpr int kWindowEndPlaceholder = kWindowStartPlaceholder + 1;

void replaceWindowPlaceholders(BoundExpression& expression, int start, int end) {
    if (expression.kind == BoundKind::Column) {
        if (expression.column == kWindowStartPlaceholder) expression.column = start;
        if (expression.column == kWindowEndPlaceholder) expression.column = end;
    }
    for (auto& argument : expression.arguments) replaceWindowPlaceholders(*argument, start, end);
}

class Binder {
public:
    Binder(const spec::Source& source, const catalog::MessageSchema& schema, const sql::SqlLocator& locate,
           DiagnosticEngine& diagnostics)
        : spec_(source), schema_(schema), locate_(locate), diagnostics_(&diagnostics) {}

    std::optional<LogicalPlan> bind(const sql::Query& query) {
        size_t errorsBefore = diagnostics_->errorCount();
        plan_.jobName = spec_.name.value;
        bindSource();
        bindFrom(query.from);
        if (query.distinct) {
            auto& d = error("E0418", query.distinctSpan, "SELECT DISTINCT is not supported");
            d.help = "group by the columns instead: GROUP BY <window>, <columns>";
        }
        if (query.where) bindWhere(*query.where);
        bool hasAggregates = std::any_of(query.selectItems.begin(), query.selectItems.end(), [](const sql::SelectItem& item) {
            return item.expression && containsAggregateOrAuxiliary(*item.expression);
        });
        plan_.aggregated = !query.groupBy.empty() || hasAggregates || query.having;
        if (plan_.aggregated) bindGroupBy(query);
        bindSelect(query);
        if (query.having) bindHaving(*query.having);
        if (diagnostics_->errorCount() != errorsBefore) return std::nullopt;
        for (auto& output : plan_.outputs)
            replaceWindowPlaceholders(*output.expression, plan_.windowStartColumn(), plan_.windowEndColumn());
        if (plan_.having) replaceWindowPlaceholders(*plan_.having, plan_.windowStartColumn(), plan_.windowEndColumn());
        return std::move(plan_);
    }

private:
    Diagnostic& error(ErrorCode code, sql::Span span, std::string message) {
        return diagnostics_->error(code, locate_(span.offset, std::max<size_t>(1, span.length)), std::move(message));
    }

    // ---- source and FROM -------------------------------------------------------------------------------------

    void bindSource() {
        const spec::KafkaSource& kafka = spec_.kafkaSources.front();
        LogicalSource& source = plan_.source;
        source.cluster = kafka.cluster.value;
        source.topic = kafka.topic.value;
        source.messageName = schema_.messageName;
        source.format = kafka.format.value.empty() ? "protobuf" : kafka.format.value;
        source.watermarkDelayMs = kafka.watermarkDelayMs.value;
        source.descriptors = schema_.descriptorSet;

        SourceColumn time;
        time.source.set_name("_time");
        time.source.set_type(plan::TIMESTAMP);
        time.nullable = false;
        source.columns.push_back(time);
        for (const auto& column : schema_.columns) {
            SourceColumn sourceColumn;
            sourceColumn.source = column.source;
            sourceColumn.source.set_name(column.name);
            sourceColumn.source.set_type(column.type);
            sourceColumn.nullable = column.nullable;
            for (const auto& name : column.source.enum_names()) sourceColumn.enumNames.push_back(name);
            source.columns.push_back(std::move(sourceColumn));
        }
        if (kafka.timeField) {
            const auto& field = *kafka.timeField;
            source.timeField = field.value;
            const catalog::Column* column = schema_.find(field.value);
            if (!column) {
                auto& d = diagnostics_->error("E0206", field.location,
                                              fmt::format("time_field `{}` is not a field of `{}`", field.value, schema_.messageName));
                if (auto suggestion = closestMatch(field.value, schema_.columnNames()); !suggestion.empty())
                    d.label = fmt::format("did you mean `{}`?", suggestion);
                return;
            }
            if (column->type != plan::TIMESTAMP && column->type != plan::BIGINT) {
                auto& d = diagnostics_->error("E0207", field.location,
                                              fmt::format("time_field `{}` has type {}; the event time must be epoch "
                                                          "milliseconds (int64) or google.protobuf.Timestamp",
                                                          field.value, typeName(column->type)));
                d.label = "not a time";
                return;
            }
            for (size_t i = 1; i < source.columns.size(); ++i)
                if (source.columns[i].source.name() == field.value) source.timeColumn = static_cast<int>(i);
        }
        source.exchangeDisabled = kafka.exchange.value == "none";
        if (kafka.keyField) bindKeyField(*kafka.keyField);
    }

    /// `key_field` must name a column of the message (a scalar leaf field), as the SQL would read it.
    void bindKeyField(const spec::Located<std::string>& field) {
        if (schema_.find(field.value)) {
            plan_.source.keyField = field.value;
            return;
        }
        auto& d = diagnostics_->error("E0208", field.location,
                                      fmt::format("key_field `{}` is not a field of `{}`", field.value, schema_.messageName));
        for (const auto& unsupported : schema_.unsupported) {
            if (unsupported.name != field.value) continue;
            d.label = fmt::format("this field cannot be a key: {}", unsupported.reason);
            return;
        }
        std::vector<std::string> children;
        for (const auto& name : schema_.columnNames())
            if (name.rfind(field.value + ".", 0) == 0) children.push_back(name);
        if (!field.value.empty() && !children.empty()) {
            d.message = fmt::format("key_field `{}` is a message, not a field", field.value);
            d.label = fmt::format("name one of its fields, e.g. `{}`", children.front());
        } else if (const catalog::Column* column = schema_.findCaseInsensitive(field.value)) {
            d.label = fmt::format("did you mean `{}`? (names are case-sensitive)", column->name);
        } else if (auto suggestion = closestMatch(field.value, schema_.columnNames()); !suggestion.empty()) {
            d.label = fmt::format("did you mean `{}`?", suggestion);
        } else {
            d.label = "not a field of the source message";
        }
        d.help = "name the payload field the topic's records are keyed by (nested fields as `a.b`), or remove `key_field`";
    }

    void bindFrom(const sql::TableReference& from) {
        std::string name = joinName(from.name);
        tableNames_.push_back(plan_.source.topic);
        if (!from.alias.empty()) tableNames_.push_back(from.alias);
        if (name != plan_.source.topic) {
            auto& d = error("E0402", from.span, fmt::format("unknown table `{}`", name));
            d.label = fmt::format("the source topic is `{}`", plan_.source.topic);
            d.help = fmt::format("FROM must name the kafka source's topic: FROM {}", plan_.source.topic);
        }
    }

    // ---- clauses ---------------------------------------------------------------------------------------------

    void bindWhere(const Expression& where) {
        auto bound = bindExpression(where, Scope{ScopeKind::Source, "WHERE"});
        if (!bound) return;
        if (!requireBoolean(*bound, where, "WHERE")) return;
        splitConjuncts(bound, plan_.filters);
    }

    static void splitConjuncts(const BoundExpressionPtr& expression, std::vector<BoundExpressionPtr>& out) {
        if (expression->kind == BoundKind::Call && expression->function == "and") {
            for (const auto& argument : expression->arguments) splitConjuncts(argument, out);
            return;
        }
        out.push_back(expression);
    }

    bool requireBoolean(const BoundExpression& bound, const Expression& expression, const char* clause) {
        if (bound.type == plan::BOOLEAN || bound.type == plan::TYPE_NULL) return true;
        auto& d = error("E0405", expression.span, fmt::format("{} condition must be BOOLEAN, found {}", clause, typeName(bound.type)));
        d.label = "not a condition";
        return false;
    }

    void bindGroupBy(const sql::Query& query) {
        for (const auto& item : query.groupBy) {
            if (item->kind == ExpressionKind::FunctionCall && groupWindowKind(upper(item->name.front())) != plan::WINDOW_NONE) {
                bindGroupWindow(*item);
                continue;
            }
            auto bound = bindExpression(*item, Scope{ScopeKind::Source, "GROUP BY"});
            if (!bound) continue;
            if (bound->type == plan::TYPE_NULL || bound->type == plan::INTERVAL) {
                error("E0405", item->span, fmt::format("cannot group by a value of type {}", typeName(bound->type)));
                continue;
            }
            plan_.groupKeys.push_back(bound);
            plan_.groupKeyNames.push_back(item->kind == ExpressionKind::Column ? item->name.back() : item->text);
        }
        if (plan_.window.kind == plan::WINDOW_NONE && !windowError_) {
            sql::Span span = query.groupBy.empty() ? query.selectItems.front().span : query.groupBy.front()->span;
            auto& d = error("E0416", span,
                            query.groupBy.empty() ? "aggregation without a group window is not supported"
                                                  : "GROUP BY without a group window is not supported");
            d.label = "an unbounded streaming aggregation would never emit final results";
            d.help = "add a group window, e.g. GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), <keys>";
        }
    }

    std::optional<int64_t> intervalArgument(const Expression& argument, const char* what) {
        if (argument.kind != ExpressionKind::Literal || argument.literal.kind != LiteralKind::Interval) {
            auto& d = error("E0417", argument.span, fmt::format("the window {} must be an interval literal", what));
            d.label = "expected e.g. INTERVAL '20' SECONDS";
            return std::nullopt;
        }
        if (argument.literal.intervalMs <= 0) {
            auto& d = error("E0417", argument.span, fmt::format("the window {} must be positive", what));
            d.label = fmt::format("this is {} ms", argument.literal.intervalMs);
            return std::nullopt;
        }
        return argument.literal.intervalMs;
    }

    /// The time argument of a group window or auxiliary function must be the event-time attribute.
    bool checkTimeAttribute(const Expression& argument, const std::string& function) {
        if (argument.kind == ExpressionKind::Column) {
            std::string name = resolvedColumnName(argument);
            if (name == "_time" || (!plan_.source.timeField.empty() && name == plan_.source.timeField)) return true;
        }
        auto& d = error("E0410", argument.span, fmt::format("{} must be applied to the event-time attribute", function));
        d.label = "not the event time";
        d.help = plan_.source.timeField.empty()
                     ? "use `_time` (the envelope's creation time), or set `time_field` on the kafka source"
                     : fmt::format("use `_time` or `{}` (the source's time_field)", plan_.source.timeField);
        return false;
    }

    void bindGroupWindow(const Expression& call) {
        std::string name = upper(call.name.front());
        plan::WindowKind kind = groupWindowKind(name);
        if (plan_.window.kind != plan::WINDOW_NONE) {
            auto& d = error("E0409", call.span, "only one group window is allowed in GROUP BY");
            d.label = fmt::format("a second window; the first is {}", windowName(plan_.window.kind));
            windowError_ = true;
            return;
        }
        size_t expected = kind == plan::HOP ? 3 : 2;
        if (call.arguments.size() != expected || call.star || call.distinct) {
            auto& d = error("E0404", call.span, fmt::format("{} takes {} arguments, got {}", name, expected, call.arguments.size()));
            d.label = kind == plan::HOP ? "expected HOP(time, slide, size)"
                                        : fmt::format("expected {}(time, {})", name, kind == plan::SESSION ? "gap" : "size");
            windowError_ = true;
            return;
        }
        bool ok = checkTimeAttribute(*call.arguments[0], name);
        WindowSpec window;
        window.kind = kind;
        window.span = call.span;
        window.timeSpan = call.arguments[0]->span;
        window.sizeSpan = call.arguments.back()->span;
        if (kind == plan::HOP) window.slideSpan = call.arguments[1]->span;
        if (kind == plan::TUMBLE) {
            auto size = intervalArgument(*call.arguments[1], "size");
            ok = ok && size;
            if (size) window.sizeMs = *size;
        } else if (kind == plan::HOP) {
            auto slide = intervalArgument(*call.arguments[1], "slide");
            auto size = intervalArgument(*call.arguments[2], "size");
            ok = ok && slide && size;
            if (slide) window.slideMs = *slide;
            if (size) window.sizeMs = *size;
        } else {
            auto gap = intervalArgument(*call.arguments[1], "gap");
            ok = ok && gap;
            if (gap) window.gapMs = *gap;
        }
        if (ok && kind == plan::HOP && window.sizeMs / window.slideMs > kMaxWindowsPerRow) {
            // Each row belongs to size / slide windows, each emitted once per key: beyond this the job spends its time
            // emitting rows (a fuzzed HOP of 2^63 ms was still writing after 300 million rows from two events).
            auto& d = error("E0421", call.span, fmt::format("HOP puts every row into {} windows (size / slide)", window.sizeMs / window.slideMs));
            d.label = fmt::format("at most {} windows per row are supported", kMaxWindowsPerRow);
            d.help = "use a longer slide, or check that the arguments are HOP(time, slide, size)";
            ok = false;
        }
        if (!ok) {
            windowError_ = true;
            return;
        }
        plan_.window = window;
    }

    void bindSelect(const sql::Query& query) {
        Scope scope{plan_.aggregated ? ScopeKind::Aggregate : ScopeKind::Source, "SELECT"};
        std::map<std::string, sql::Span> names;
        int position = 0;
        for (const auto& item : query.selectItems) {
            if (item.star) {
                if (plan_.aggregated) {
                    auto& d = error("E0406", item.span, "SELECT * is not allowed in an aggregating query");
                    d.help = "list the grouped columns and aggregates explicitly";
                    continue;
                }
                for (size_t i = 1; i < plan_.source.columns.size(); ++i) {
                    const auto& column = plan_.source.columns[i];
                    OutputColumn output;
                    output.name = column.source.name();
                    output.expression = BoundExpression::makeColumn(static_cast<int>(i), column.source.name(),
                                                                    column.source.type(), column.nullable);
                    output.span = item.span;
                    addOutput(std::move(output), names);
                }
                ++position;
                continue;
            }
            size_t firstReference = plan_.columnReferences.size();
            auto bound = bindExpression(*item.expression, scope);
            int index = position++;
            if (!bound) continue;
            if (bound->type == plan::INTERVAL) {
                error("E0405", item.expression->span, "an INTERVAL cannot be selected as a column");
                continue;
            }
            OutputColumn output;
            output.span = item.alias.empty() ? item.span : item.aliasSpan;
            if (!item.alias.empty()) output.name = item.alias;
            else if (item.expression->kind == ExpressionKind::Column) output.name = item.expression->name.back();
            else output.name = fmt::format("EXPR${}", index);
            output.expression = bound;
            // The columns this item named are read for the output it becomes.
            for (size_t i = firstReference; i < plan_.columnReferences.size(); ++i) plan_.columnReferences[i].output = output.name;
            output.isKey = plan_.aggregated && bound->kind == BoundKind::Column &&
                           bound->column < static_cast<int>(plan_.groupKeys.size());
            addOutput(std::move(output), names);
        }
    }

    void addOutput(OutputColumn output, std::map<std::string, sql::Span>& names) {
        auto [it, inserted] = names.emplace(output.name, output.span);
        if (!inserted) {
            auto& d = error("E0413", output.span, fmt::format("duplicate output column name `{}`", output.name));
            d.label = "give this column a different alias";
            d.notes.push_back(fmt::format("`{}` is first defined at {}", output.name, describe(it->second)));
            return;
        }
        plan_.outputs.push_back(std::move(output));
    }

    std::string describe(sql::Span span) const {
        SourceLocation location = locate_(span.offset, span.length);
        return fmt::format("{}:{}", location.line, location.column);
    }

    void bindHaving(const Expression& having) {
        auto bound = bindExpression(having, Scope{ScopeKind::Aggregate, "HAVING"});
        if (!bound) return;
        if (!requireBoolean(*bound, having, "HAVING")) return;
        plan_.having = bound;
    }

    // ---- expressions -----------------------------------------------------------------------------------------

    /// Binds silently (no diagnostics), for trying whether an expression equals a GROUP BY key.
    BoundExpressionPtr tryBind(const Expression& expression, Scope scope) {
        DiagnosticEngine scratch;
        DiagnosticEngine* saved = diagnostics_;
        diagnostics_ = &scratch;
        auto bound = bindExpression(expression, scope);
        diagnostics_ = saved;
        return scratch.hasErrors() ? nullptr : bound;
    }

    BoundExpressionPtr bindExpression(const Expression& expression, Scope scope) {
        if (scope.kind == ScopeKind::Aggregate) {
            if (expression.kind == ExpressionKind::FunctionCall) {
                std::string name = upper(expression.name.front());
                plan::WindowKind kind;
                bool isEnd;
                if (aggregateKind(name) != AggregateKind::None) return bindAggregate(expression);
                if (windowAuxiliary(name, kind, isEnd)) return bindWindowAuxiliary(expression, kind, isEnd);
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

    BoundExpressionPtr bindLiteral(const Expression& expression) {
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

    /// The column name with a leading table name or alias removed (`t.a.b` → `a.b`).
    std::string resolvedColumnName(const Expression& expression) const {
        std::vector<std::string> parts = expression.name;
        if (parts.size() > 1 && std::find(tableNames_.begin(), tableNames_.end(), parts.front()) != tableNames_.end() &&
            !schema_.find(joinName(parts)))
            parts.erase(parts.begin());
        return joinName(parts);
    }

    BoundExpressionPtr bindColumn(const Expression& expression) {
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

    /// Casts `expression` to `type` when needed (implicit widening); a NULL literal just takes the type.
    static BoundExpressionPtr coerce(const BoundExpressionPtr& expression, plan::TypeId type) {
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

    /// The type two operands are compared or combined in, or TYPE_NULL when they are incompatible.
    static std::optional<plan::TypeId> commonType(plan::TypeId a, plan::TypeId b) {
        if (a == b) return a;
        if (a == plan::TYPE_NULL) return b;
        if (b == plan::TYPE_NULL) return a;
        if (isNumeric(a) && isNumeric(b)) return widerNumeric(a, b);
        return std::nullopt;
    }

    std::vector<BoundExpressionPtr> bindArguments(const Expression& expression, Scope scope, bool& ok) {
        std::vector<BoundExpressionPtr> arguments;
        ok = true;
        for (const auto& argument : expression.arguments) {
            auto bound = bindExpression(*argument, scope);
            bound ? (void)(bound->span = argument->span) : (void)(ok = false);
            arguments.push_back(bound);
        }
        return arguments;
    }

    BoundExpressionPtr bindUnary(const Expression& expression, Scope scope) {
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

    void typeMismatch(const Expression& at, std::string message) {
        auto& d = error("E0405", at.span, std::move(message));
        d.label = "type mismatch";
    }

    BoundExpressionPtr bindBinary(const Expression& expression, Scope scope) {
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

    /// `SUM(cancelled) / COUNT(*)` divides integers and truncates: a rate of 1/6 comes out as 0. Division by a constant
    /// (`SUM(ms) / 1000`) is a deliberate unit conversion and not reported; a ratio of two aggregates is.
    void warnIntegerDivision(const Expression& division) {
        const Expression& numerator = *division.arguments[0];
        const Expression& denominator = *division.arguments[1];
        auto& d = diagnostics_->warning("W0402", locate_(division.span.offset, std::max<size_t>(1, division.span.length)),
                                        fmt::format("integer division of aggregates: `{}` truncates toward zero", division.text));
        d.label = "both sides are integers";
        d.help = fmt::format("to divide as real numbers, write CAST({} AS DOUBLE) / {}", numerator.text, denominator.text);
    }

    static bool isInteger(plan::TypeId type) { return type == plan::INT || type == plan::BIGINT; }

    static bool containsAggregate(const Expression& expression) {
        if (expression.kind == ExpressionKind::FunctionCall && aggregateKind(upper(expression.name.front())) != AggregateKind::None)
            return true;
        for (const auto& argument : expression.arguments)
            if (containsAggregate(*argument)) return true;
        return false;
    }

    /// `event_type = 'ORDER_DELIVRED'` can never be true: an error (a typo would silently filter out every row),
    /// with the closest value of the enum.
    void checkEnumComparison(const BoundExpressionPtr& column, const Expression& literalExpression, const BoundExpressionPtr& literal) {
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

    BoundExpressionPtr bindFunction(const Expression& expression, Scope scope) {
        std::string name = upper(expression.name.front());
        sql::Span nameSpan = expression.nameSpans.empty() ? expression.span : expression.nameSpans.front();
        plan::WindowKind kind;
        bool isEnd;
        if (aggregateKind(name) != AggregateKind::None) {
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
        auto entry = scalarFunctions().find(name);
        if (entry == scalarFunctions().end()) {
            auto& d = error("E0403", nameSpan, fmt::format("unknown function `{}`", expression.name.front()));
            auto suggestion = closestMatch(name, knownFunctionNames());
            d.label = suggestion.empty() ? "not a supported function" : fmt::format("did you mean `{}`?", suggestion);
            return nullptr;
        }
        if (expression.star || expression.distinct) {
            error("E0404", expression.span, fmt::format("{} does not take {}", name, expression.star ? "`*`" : "DISTINCT"));
            return nullptr;
        }
        auto [minimum, maximum] = entry->second;
        if (expression.arguments.size() < minimum || expression.arguments.size() > maximum) {
            auto& d = error("E0404", expression.span, fmt::format("{} takes {} argument{}, got {}", name,
                                                                  minimum == maximum ? std::to_string(minimum) : fmt::format("{} to {}", minimum, maximum),
                                                                  maximum == 1 ? "" : "s", expression.arguments.size()));
            d.label = "wrong number of arguments";
            return nullptr;
        }
        bool ok;
        auto arguments = bindArguments(expression, scope, ok);
        if (!ok) return nullptr;
        auto requireType = [&](size_t i, auto predicate, const char* what) {
            if (arguments[i]->type == plan::TYPE_NULL || predicate(arguments[i]->type)) return true;
            typeMismatch(*expression.arguments[i], fmt::format("{} expects {} arguments, found {}", name, what, typeName(arguments[i]->type)));
            return false;
        };
        auto numeric = [](plan::TypeId t) { return isNumeric(t); };
        auto varchar = [](plan::TypeId t) { return t == plan::VARCHAR; };
        auto integer = [](plan::TypeId t) { return t == plan::INT || t == plan::BIGINT; };
        if (name == "ABS" || name == "FLOOR" || name == "CEIL" || name == "CEILING" || name == "ROUND") {
            if (!requireType(0, numeric, "numeric")) return nullptr;
            plan::TypeId type = arguments[0]->type == plan::TYPE_NULL ? plan::INT : arguments[0]->type;
            std::string function = name == "CEILING" ? "ceil" : fmt::format("{}", name == "ABS" ? "abs" : name == "FLOOR" ? "floor" : name == "CEIL" ? "ceil" : "round");
            return BoundExpression::makeCall(function, type, {coerce(arguments[0], type)});
        }
        if (name == "SQRT" || name == "POWER") {
            for (size_t i = 0; i < arguments.size(); ++i)
                if (!requireType(i, numeric, "numeric")) return nullptr;
            std::vector<BoundExpressionPtr> coerced;
            for (auto& argument : arguments) coerced.push_back(coerce(argument, plan::DOUBLE));
            return BoundExpression::makeCall(name == "SQRT" ? "sqrt" : "power", plan::DOUBLE, coerced);
        }
        if (name == "MOD") {
            for (size_t i = 0; i < 2; ++i)
                if (!requireType(i, integer, "integer")) return nullptr;
            plan::TypeId type = commonType(arguments[0]->type, arguments[1]->type).value_or(plan::BIGINT);
            if (type == plan::TYPE_NULL) type = plan::INT;
            return BoundExpression::makeCall("modulo", type, {coerce(arguments[0], type), coerce(arguments[1], type)});
        }
        if (name == "LOWER" || name == "UPPER" || name == "TRIM") {
            if (!requireType(0, varchar, "VARCHAR")) return nullptr;
            return BoundExpression::makeCall(upperToFunction(name), plan::VARCHAR, {coerce(arguments[0], plan::VARCHAR)});
        }
        if (name == "CHAR_LENGTH" || name == "CHARACTER_LENGTH") {
            if (!requireType(0, varchar, "VARCHAR")) return nullptr;
            return BoundExpression::makeCall("char_length", plan::INT, {coerce(arguments[0], plan::VARCHAR)});
        }
        if (name == "SUBSTRING") {
            if (!requireType(0, varchar, "VARCHAR")) return nullptr;
            std::vector<BoundExpressionPtr> coerced{coerce(arguments[0], plan::VARCHAR)};
            for (size_t i = 1; i < arguments.size(); ++i) {
                if (!requireType(i, integer, "integer")) return nullptr;
                coerced.push_back(coerce(arguments[i], plan::BIGINT));
            }
            return BoundExpression::makeCall("substring", plan::VARCHAR, coerced);
        }
        if (name == "CONCAT") {
            std::vector<BoundExpressionPtr> coerced;
            for (size_t i = 0; i < arguments.size(); ++i) {
                if (!requireType(i, varchar, "VARCHAR")) return nullptr;
                coerced.push_back(coerce(arguments[i], plan::VARCHAR));
            }
            return BoundExpression::makeCall("concat", plan::VARCHAR, coerced);
        }
        // COALESCE: the common type of its arguments.
        plan::TypeId type = plan::TYPE_NULL;
        for (size_t i = 0; i < arguments.size(); ++i) {
            auto common = commonType(type, arguments[i]->type);
            if (!common) {
                typeMismatch(*expression.arguments[i], fmt::format("COALESCE arguments must have compatible types: {} and {}",
                                                                   typeName(type), typeName(arguments[i]->type)));
                return nullptr;
            }
            type = *common;
        }
        std::vector<BoundExpressionPtr> coerced;
        for (auto& argument : arguments) coerced.push_back(coerce(argument, type));
        auto call = BoundExpression::makeCall("coalesce", type, coerced);
        call->nullable = std::all_of(coerced.begin(), coerced.end(), [](const auto& a) { return a->nullable; });
        return call;
    }

    static std::string upperToFunction(const std::string& name) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return lower;
    }

    BoundExpressionPtr bindAggregate(const Expression& expression) {
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

    Diagnostic& error_last() { return const_cast<Diagnostic&>(diagnostics_->all().back()); }

    BoundExpressionPtr aggregateReference(size_t index) {
        const AggregateCall& call = plan_.aggregates[index];
        // Aggregates are appended after binding the group keys, so their row positions are stable.
        return BoundExpression::makeColumn(static_cast<int>(plan_.groupKeys.size() + index), call.text, call.type, call.nullable);
    }

    BoundExpressionPtr bindWindowAuxiliary(const Expression& expression, plan::WindowKind kind, bool isEnd) {
        std::string name = upper(expression.name.front());
        if (plan_.window.kind == plan::WINDOW_NONE) {
            if (!windowError_) {
                auto& d = error("E0411", expression.span, fmt::format("{} needs a matching {} group window in GROUP BY", name, windowName(kind)));
                d.label = "the query has no group window";
            }
            return nullptr;
        }
        const WindowSpec& window = plan_.window;
        size_t expected = kind == plan::HOP ? 3 : 2;
        bool matches = kind == window.kind && expression.arguments.size() == expected && !expression.star;
        if (matches) {
            DiagnosticEngine scratch;
            DiagnosticEngine* saved = diagnostics_;
            diagnostics_ = &scratch;
            matches = checkTimeAttribute(*expression.arguments[0], name);
            auto interval = [&](size_t i) { return intervalArgument(*expression.arguments[i], "size").value_or(-1); };
            if (kind == plan::TUMBLE) matches = matches && interval(1) == window.sizeMs;
            if (kind == plan::HOP) matches = matches && interval(1) == window.slideMs && interval(2) == window.sizeMs;
            if (kind == plan::SESSION) matches = matches && interval(1) == window.gapMs;
            diagnostics_ = saved;
        }
        if (!matches) {
            auto& d = error("E0411", expression.span, fmt::format("{} does not match the group window in GROUP BY", name));
            d.label = "arguments must repeat the group window's";
            SourceLocation location = locate_(window.span.offset, window.span.length);
            d.notes.push_back(fmt::format("the group window is {} at {}:{}", windowName(window.kind), location.line, location.column));
            return nullptr;
        }
        // HAVING may still add aggregates, which moves the window columns: use placeholders, fixed in bind().
        int column = isEnd ? kWindowEndPlaceholder : kWindowStartPlaceholder;
        return BoundExpression::makeColumn(column, isEnd ? "window_end" : "window_start", plan::TIMESTAMP, false);
    }

    BoundExpressionPtr bindCase(const Expression& expression, Scope scope) {
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

    std::optional<plan::TypeId> castTarget(const sql::DataType& type) {
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

    static bool castAllowed(plan::TypeId from, plan::TypeId to) {
        if (from == to || from == plan::TYPE_NULL) return true;
        if (to == plan::VARCHAR) return from != plan::INTERVAL;
        if (isNumeric(to)) return isNumeric(from) || from == plan::BOOLEAN || from == plan::VARCHAR || (to == plan::BIGINT && from == plan::TIMESTAMP);
        if (to == plan::BOOLEAN) return isNumeric(from) || from == plan::VARCHAR;
        if (to == plan::TIMESTAMP) return from == plan::BIGINT || from == plan::INT || from == plan::VARCHAR;
        if (to == plan::BYTES) return from == plan::VARCHAR;
        return false;
    }

    BoundExpressionPtr bindCast(const Expression& expression, Scope scope) {
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

    BoundExpressionPtr bindIn(const Expression& expression, Scope scope) {
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

    BoundExpressionPtr bindBetween(const Expression& expression, Scope scope) {
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

    BoundExpressionPtr bindLike(const Expression& expression, Scope scope) {
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

    BoundExpressionPtr bindIsNull(const Expression& expression, Scope scope) {
        bool ok;
        auto arguments = bindArguments(expression, scope, ok);
        if (!ok) return nullptr;
        auto call = BoundExpression::makeCall(expression.negated ? "is_not_null" : "is_null", plan::BOOLEAN, arguments);
        call->nullable = false;
        return call;
    }

    BoundExpressionPtr bindIsBoolean(const Expression& expression, Scope scope) {
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

    const spec::Source& spec_;
    const catalog::MessageSchema& schema_;
    const sql::SqlLocator& locate_;
    DiagnosticEngine* diagnostics_;
    LogicalPlan plan_;
    std::vector<std::string> tableNames_;
    bool windowError_ = false;
};

} // namespace

std::optional<LogicalPlan> bindQuery(const spec::Source& source, const catalog::MessageSchema& schema, const sql::Query& query,
                                     const sql::SqlLocator& locate, DiagnosticEngine& diagnostics) {
    Binder binder(source, schema, locate, diagnostics);
    return binder.bind(query);
}

} // namespace pipec::logical
