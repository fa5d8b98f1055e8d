#include "compiler/plan/query_binder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pipec::logical {

namespace binding {

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

std::string joinName(const std::vector<std::string>& parts) {
    std::string result;
    for (size_t i = 0; i < parts.size(); ++i) result += (i ? "." : "") + parts[i];
    return result;
}

void replaceWindowPlaceholders(BoundExpression& expression, int start, int end) {
    if (expression.kind == BoundKind::Column) {
        if (expression.column == kWindowStartPlaceholder) expression.column = start;
        if (expression.column == kWindowEndPlaceholder) expression.column = end;
    }
    for (auto& argument : expression.arguments) replaceWindowPlaceholders(*argument, start, end);
}

std::optional<LogicalPlan> Binder::bind(const sql::Query& query) {
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
    if (query.from.window && !plan_.aggregated) {
        auto& d = error("E0430", query.from.window->span, "a window table-valued function must be followed by a window aggregate");
        d.label = "no GROUP BY window_start, window_end";
        d.help = "aggregate per window: GROUP BY window_start, window_end, <keys>; pipec does not emit the expanded rows "
                 "of a window TVF (window Top-N and window joins are not supported either)";
    }
    if (plan_.aggregated) bindGroupBy(query);
    bindSelect(query);
    if (query.having) bindHaving(*query.having);
    if (diagnostics_->errorCount() != errorsBefore) return std::nullopt;
    for (auto& output : plan_.outputs)
        replaceWindowPlaceholders(*output.expression, plan_.windowStartColumn(), plan_.windowEndColumn());
    if (plan_.having) replaceWindowPlaceholders(*plan_.having, plan_.windowStartColumn(), plan_.windowEndColumn());
    return std::move(plan_);
}

Diagnostic& Binder::error(ErrorCode code, sql::Span span, std::string message) {
    return diagnostics_->error(code, locate_(span.offset, std::max<size_t>(1, span.length)), std::move(message));
}

void Binder::bindSource() {
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
void Binder::bindKeyField(const spec::Located<std::string>& field) {
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

void Binder::bindFrom(const sql::TableReference& from) {
    std::string name = joinName(from.name);
    tableNames_.push_back(plan_.source.topic);
    if (!from.alias.empty()) tableNames_.push_back(from.alias);
    if (from.window) {
        windowTable_ = true;
        bindWindowTable(*from.window);
        if (name.empty()) return;  // no TABLE argument: reported by bindWindowTable
    }
    if (name != plan_.source.topic) {
        auto& d = error("E0402", from.span, fmt::format("unknown table `{}`", name));
        d.label = fmt::format("the source topic is `{}`", plan_.source.topic);
        d.help = fmt::format("FROM must name the kafka source's topic: FROM {}", plan_.source.topic);
    }
}

void Binder::bindWhere(const Expression& where) {
    auto bound = bindExpression(where, Scope{ScopeKind::Source, "WHERE"});
    if (!bound) return;
    if (!requireBoolean(*bound, where, "WHERE")) return;
    splitConjuncts(bound, plan_.filters);
}

void Binder::splitConjuncts(const BoundExpressionPtr& expression, std::vector<BoundExpressionPtr>& out) {
    if (expression->kind == BoundKind::Call && expression->function == "and") {
        for (const auto& argument : expression->arguments) splitConjuncts(argument, out);
        return;
    }
    out.push_back(expression);
}

bool Binder::requireBoolean(const BoundExpression& bound, const Expression& expression, const char* clause) {
    if (bound.type == plan::BOOLEAN || bound.type == plan::TYPE_NULL) return true;
    auto& d = error("E0405", expression.span, fmt::format("{} condition must be BOOLEAN, found {}", clause, typeName(bound.type)));
    d.label = "not a condition";
    return false;
}

void Binder::bindGroupBy(const sql::Query& query) {
    bool groupsStart = false, groupsEnd = false;
    for (const auto& item : query.groupBy) {
        if (WindowBound which; windowTableColumn(*item, which)) {
            // The window of a window TVF: grouped by its bounds, as Flink requires (window_time may be grouped too).
            groupsStart = groupsStart || which == WindowBound::Start;
            groupsEnd = groupsEnd || which == WindowBound::End;
            continue;
        }
        if (item->kind == ExpressionKind::FunctionCall && groupWindowKind(upper(item->name.front())) != plan::WINDOW_NONE) {
            if (item->filter) {
                auto& d = error("E0432", item->span, fmt::format("FILTER applies to aggregate functions only; {} is not one", upper(item->name.front())));
                d.label = "a group window takes no FILTER";
                d.help = "filter the rows with WHERE";
            }
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
    if (windowTable_ && !windowError_ && !(groupsStart && groupsEnd)) {
        sql::Span span = query.groupBy.empty() ? query.selectItems.front().span : query.groupBy.front()->span;
        auto& d = error("E0430", span,
                        fmt::format("GROUP BY must include window_start and window_end of the {} window table-valued function",
                                    windowName(plan_.window.kind)));
        d.label = !groupsStart && !groupsEnd ? "neither is grouped" : fmt::format("{} is not grouped", groupsStart ? "window_end" : "window_start");
        d.help = "GROUP BY window_start, window_end, <keys>: without both, Flink runs an unbounded aggregation, not a window aggregate";
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

void Binder::bindSelect(const sql::Query& query) {
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

void Binder::addOutput(OutputColumn output, std::map<std::string, sql::Span>& names) {
    auto [it, inserted] = names.emplace(output.name, output.span);
    if (!inserted) {
        auto& d = error("E0413", output.span, fmt::format("duplicate output column name `{}`", output.name));
        d.label = "give this column a different alias";
        d.notes.push_back(fmt::format("`{}` is first defined at {}", output.name, describe(it->second)));
        return;
    }
    plan_.outputs.push_back(std::move(output));
}

std::string Binder::describe(sql::Span span) const {
    SourceLocation location = locate_(span.offset, span.length);
    return fmt::format("{}:{}", location.line, location.column);
}

void Binder::bindHaving(const Expression& having) {
    auto bound = bindExpression(having, Scope{ScopeKind::Aggregate, "HAVING"});
    if (!bound) return;
    if (!requireBoolean(*bound, having, "HAVING")) return;
    plan_.having = bound;
}

} // namespace binding

std::optional<LogicalPlan> bindQuery(const spec::Source& source, const catalog::MessageSchema& schema, const sql::Query& query,
                                     const sql::SqlLocator& locate, DiagnosticEngine& diagnostics) {
    binding::Binder binder(source, schema, locate, diagnostics);
    return binder.bind(query);
}

} // namespace pipec::logical
