#include "compiler/sql/derived_tables.h"

#include "runtime/aggregates/aggregate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace pipec::sql {

namespace {

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

std::unique_ptr<Expression> clone(const Expression& expression) {
    auto copy = std::make_unique<Expression>();
    copy->kind = expression.kind;
    copy->span = expression.span;
    copy->literal = expression.literal;
    copy->name = expression.name;
    copy->nameSpans = expression.nameSpans;
    copy->op = expression.op;
    for (const auto& argument : expression.arguments) copy->arguments.push_back(clone(*argument));
    copy->negated = expression.negated;
    copy->distinct = expression.distinct;
    copy->star = expression.star;
    if (expression.filter) copy->filter = clone(*expression.filter);
    copy->callForm = expression.callForm;
    copy->booleanTarget = expression.booleanTarget;
    copy->caseHasOperand = expression.caseHasOperand;
    copy->caseHasElse = expression.caseHasElse;
    copy->parenthesized = expression.parenthesized;
    copy->castType = expression.castType;
    copy->text = expression.text;
    return copy;
}

std::unique_ptr<Query> cloneQuery(const Query& query) {
    auto copy = std::make_unique<Query>();
    copy->distinct = query.distinct;
    copy->distinctSpan = query.distinctSpan;
    for (const auto& item : query.selectItems) {
        SelectItem copied;
        copied.star = item.star;
        if (item.expression) copied.expression = clone(*item.expression);
        copied.alias = item.alias;
        copied.aliasSpan = item.aliasSpan;
        copied.span = item.span;
        copy->selectItems.push_back(std::move(copied));
    }
    copy->from = query.from;
    if (query.where) copy->where = clone(*query.where);
    for (const auto& key : query.groupBy) copy->groupBy.push_back(clone(*key));
    if (query.having) copy->having = clone(*query.having);
    return copy;
}

bool isAggregating(const Expression& expression) {
    if (expression.kind == ExpressionKind::FunctionCall) {
        static const char* kNames[] = {"TUMBLE_START", "TUMBLE_END", "HOP_START", "HOP_END", "SESSION_START", "SESSION_END",
                                       "TUMBLE_ROWTIME", "HOP_ROWTIME", "SESSION_ROWTIME"};
        std::string name = upper(expression.name.front());
        if (runtime::isAggregateName(name)) return true;
        for (const char* candidate : kNames)
            if (name == candidate) return true;
    }
    return std::any_of(expression.arguments.begin(), expression.arguments.end(), [](const auto& a) { return isAggregating(*a); });
}

bool isTimeUnitKeyword(const std::string& name) {
    static const char* kUnits[] = {"MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR", "DOW", "DOY"};
    std::string text = upper(name);
    return std::any_of(std::begin(kUnits), std::end(kUnits), [&](const char* unit) { return text == unit; });
}

class Inliner {
public:
    Inliner(const SqlLocator& locate, DiagnosticEngine& diagnostics) : locate_(locate), diagnostics_(diagnostics) {}

    void inlineQuery(Query& query, std::map<std::string, const Query*> withQueries) {
        // WITH queries, in order; each may read the ones before it.
        for (auto& named : query.with) {
            inlineQuery(*named.query, withQueries);
            withQueries[named.name] = named.query.get();
        }
        if (query.fromSubquery) {
            inlineQuery(*query.fromSubquery->query, withQueries);
            NamedSubquery subquery = std::move(*query.fromSubquery);
            query.fromSubquery.reset();
            merge(query, *subquery.query, subquery.name, subquery.span);
        } else if (query.from.name.size() == 1 && withQueries.count(query.from.name.front())) {
            auto copy = cloneQuery(*withQueries.at(query.from.name.front()));
            std::string alias = query.from.alias.empty() ? query.from.name.front() : query.from.alias;
            Span span = query.from.span;
            merge(query, *copy, alias, span);
        }
        query.with.clear();
    }

private:
    void merge(Query& outer, Query& inner, const std::string& alias, Span span) {
        if (!inner.groupBy.empty() || inner.having || inner.distinct ||
            std::any_of(inner.selectItems.begin(), inner.selectItems.end(),
                        [](const SelectItem& item) { return item.expression && isAggregating(*item.expression); })) {
            auto& d = diagnostics_.error("E0301", locate_(span.offset, std::max<size_t>(1, span.length)),
                                         "a subquery that aggregates, groups or is DISTINCT is not supported");
            d.label = "only a projection and a filter can come before the window aggregate";
            d.help = "aggregate once, in the outer query, with its group window";
            return;
        }
        columns_.clear();
        hasStar_ = false;
        alias_ = alias;
        windowed_ = outer.from.window != nullptr;
        columnNames_.clear();
        for (const auto& item : inner.selectItems) {
            if (item.star) {
                hasStar_ = true;
                continue;
            }
            std::string name = !item.alias.empty()                             ? item.alias
                               : item.expression->kind == ExpressionKind::Column ? item.expression->name.back()
                                                                                 : "";
            if (name.empty()) continue;
            columns_[name] = item.expression.get();
            columnNames_.push_back(name);
        }
        for (auto& item : outer.selectItems) {
            if (item.star) {
                if (!hasStar_) {
                    auto& d = diagnostics_.error("E0301", locate_(item.span.offset, std::max<size_t>(1, item.span.length)),
                                                 "SELECT * over a subquery that lists its columns is not supported");
                    d.label = "name the columns";
                }
                continue;
            }
            if (item.alias.empty() && item.expression->kind == ExpressionKind::Column) {
                // The output keeps the name the outer query selected, not the subquery's expression text.
                item.alias = item.expression->name.back();
                item.aliasSpan = item.expression->span;
            }
            substitute(item.expression);
        }
        if (outer.where) substitute(outer.where);
        for (auto& key : outer.groupBy) substitute(key);
        if (outer.having) substitute(outer.having);
        std::shared_ptr<WindowTableFunction> window = outer.from.window;
        if (window) {
            // `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), …))` over a WITH query: the descriptor names t's column.
            if (inner.from.window) {
                auto& d = diagnostics_.error("E0301", locate_(span.offset, std::max<size_t>(1, span.length)),
                                             "a window table-valued function over another one is not supported");
                d.label = "this query is already windowed";
                return;
            }
            window = std::make_shared<WindowTableFunction>(*window);  // the WITH query's other readers keep theirs
            for (auto& argument : window->arguments) {
                if (argument.kind != WindowArgument::Kind::Descriptor) continue;
                std::unique_ptr<Expression> column = clone(*argument.value);
                substitute(column);
                argument.value = std::move(column);
            }
        }
        if (inner.where) {
            if (outer.where) {
                auto both = std::make_unique<Expression>();
                both->kind = ExpressionKind::Binary;
                both->op = "AND";
                both->span = outer.where->span;
                both->text = fmt::format("({}) AND ({})", inner.where->text, outer.where->text);
                both->arguments.push_back(std::move(inner.where));
                both->arguments.push_back(std::move(outer.where));
                outer.where = std::move(both);
            } else {
                outer.where = std::move(inner.where);
            }
        }
        outer.from = inner.from;
        if (window) outer.from.window = window;
    }

    void substitute(std::unique_ptr<Expression>& expression) {
        if (expression->kind == ExpressionKind::Column) {
            std::vector<std::string> parts = expression->name;
            if (parts.size() > 1 && parts.front() == alias_) parts.erase(parts.begin());
            std::string name;
            for (size_t i = 0; i < parts.size(); ++i) name += (i ? "." : "") + parts[i];
            // The columns a window TVF adds are the outer query's, not the subquery's.
            if (windowed_ && (name == "window_start" || name == "window_end" || name == "window_time") && !columns_.count(name)) return;
            if (auto it = columns_.find(name); it != columns_.end()) {
                auto replacement = clone(*it->second);
                replacement->parenthesized = true;
                expression = std::move(replacement);
                return;
            }
            if (hasStar_ || (parts.size() == 1 && isTimeUnitKeyword(name))) {
                expression->name = parts;
                if (expression->nameSpans.size() > parts.size())
                    expression->nameSpans.erase(expression->nameSpans.begin());
                return;
            }
            auto& d = diagnostics_.error("E0401", locate_(expression->span.offset, std::max<size_t>(1, expression->span.length)),
                                         fmt::format("unknown column `{}`: the subquery{} does not select it", name,
                                                     alias_.empty() ? "" : fmt::format(" `{}`", alias_)));
            d.label = columnNames_.empty() ? "not selected" : fmt::format("it selects: {}", fmt::join(columnNames_, ", "));
            return;
        }
        for (auto& argument : expression->arguments) substitute(argument);
        if (expression->filter) substitute(expression->filter);
    }

    const SqlLocator& locate_;
    DiagnosticEngine& diagnostics_;
    std::map<std::string, const Expression*> columns_;
    std::vector<std::string> columnNames_;
    bool hasStar_ = false;
    bool windowed_ = false;  // the outer query reads the subquery through a window TVF
    std::string alias_;
};

} // namespace

void inlineSubqueries(Query& query, const SqlLocator& locate, DiagnosticEngine& diagnostics) {
    Inliner inliner(locate, diagnostics);
    inliner.inlineQuery(query, {});
}

} // namespace pipec::sql
