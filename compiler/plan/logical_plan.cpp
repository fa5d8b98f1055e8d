#include "compiler/plan/logical_plan.h"

#include "compiler/plan/exchange_rule.h"
#include "runtime/aggregates/aggregate.h"

#include <fmt/format.h>

namespace pipec::logical {

namespace {

/// 1200000 → "20m", 1500 → "1500ms": the largest unit that divides the duration.
std::string formatDuration(int64_t ms) {
    static const std::pair<int64_t, const char*> kUnits[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
    if (ms != 0) {
        for (const auto& [size, suffix] : kUnits)
            if (ms % size == 0) return fmt::format("{}{}", ms / size, suffix);
    }
    return fmt::format("{}ms", ms);
}

std::string_view aggregateName(plan::AggregateFunction function) {
    const runtime::AggregateDefinition* definition = runtime::findPlanAggregate(function);
    return definition ? definition->sqlName : "?";
}

std::string printParameter(const plan::Literal& literal) {
    if (literal.value_case() == plan::Literal::kStringValue) {
        std::string quoted = "'";
        for (char c : literal.string_value()) quoted += c == '\'' ? std::string("''") : std::string(1, c);
        return quoted + "'";
    }
    if (literal.value_case() == plan::Literal::kIntValue) return std::to_string(literal.int_value());
    if (literal.value_case() == plan::Literal::kDoubleValue) return fmt::format("{}", literal.double_value());
    if (literal.value_case() == plan::Literal::kBoolValue) return literal.bool_value() ? "TRUE" : "FALSE";
    return "NULL";
}

std::string describeWindow(const WindowSpec& window) {
    switch (window.kind) {
    case plan::TUMBLE: return fmt::format("TUMBLE(size={})", formatDuration(window.sizeMs));
    case plan::HOP: return fmt::format("HOP(slide={}, size={})", formatDuration(window.slideMs), formatDuration(window.sizeMs));
    case plan::SESSION: return fmt::format("SESSION(gap={})", formatDuration(window.gapMs));
    case plan::CUMULATE: return fmt::format("CUMULATE(step={}, max_size={})", formatDuration(window.slideMs), formatDuration(window.sizeMs));
    default: return "NONE";
    }
}

std::string nullability(bool nullable) { return nullable ? "" : " NOT NULL"; }

} // namespace

std::string printAggregate(const AggregateCall& call) {
    std::string arguments = call.argument ? printExpression(*call.argument) : "*";
    for (const auto& parameter : call.parameters) arguments += ", " + printParameter(parameter);
    std::string filter = call.filter ? fmt::format(" FILTER (WHERE {})", printExpression(*call.filter)) : "";
    return fmt::format("{}({}{}){}:{}", aggregateName(call.function), call.distinct ? "DISTINCT " : "", arguments, filter, typeName(call.type));
}

namespace {

BoundExpressionPtr cloneExpression(const BoundExpressionPtr& expression) {
    if (!expression) return nullptr;
    auto copy = std::make_shared<BoundExpression>(*expression);
    for (auto& argument : copy->arguments) argument = cloneExpression(argument);
    return copy;
}

} // namespace

LogicalPlan clonePlan(const LogicalPlan& plan) {
    LogicalPlan copy = plan;
    for (auto& filter : copy.filters) filter = cloneExpression(filter);
    for (auto& key : copy.groupKeys) key = cloneExpression(key);
    for (auto& aggregate : copy.aggregates) {
        aggregate.argument = cloneExpression(aggregate.argument);
        aggregate.filter = cloneExpression(aggregate.filter);
    }
    copy.having = cloneExpression(copy.having);
    for (auto& output : copy.outputs) output.expression = cloneExpression(output.expression);
    return copy;
}

std::string printPlan(const LogicalPlan& plan) {
    std::string out;
    int depth = 0;
    auto line = [&](const std::string& text) { out += std::string(static_cast<size_t>(depth) * 2, ' ') + text + "\n"; };

    line(fmt::format("Sink job={}", plan.jobName));
    ++depth;
    std::string outputs;
    for (size_t i = 0; i < plan.outputs.size(); ++i) {
        const auto& output = plan.outputs[i];
        outputs += fmt::format("{}{}={}:{}{}{}", i ? ", " : "", output.name, printExpression(*output.expression),
                               typeName(output.expression->type), nullability(output.expression->nullable), output.isKey ? " KEY" : "");
    }
    line(fmt::format("Project [{}]", outputs));
    ++depth;
    if (plan.aggregated) {
        if (plan.having) {
            line(fmt::format("Having {}", printExpression(*plan.having)));
            ++depth;
        }
        std::string keys, aggregates;
        for (size_t i = 0; i < plan.groupKeys.size(); ++i)
            keys += fmt::format("{}{}", i ? ", " : "", printExpression(*plan.groupKeys[i]));
        for (size_t i = 0; i < plan.aggregates.size(); ++i)
            aggregates += fmt::format("{}{}", i ? ", " : "", printAggregate(plan.aggregates[i]));
        line(fmt::format("WindowAggregate window={} keys=[{}] aggregates=[{}]", describeWindow(plan.window), keys, aggregates));
        ++depth;
        // Stage 2 above, stage 1 below: rows cross a repartition topic, partitioned by the GROUP BY keys.
        if (ExchangeDecision exchange = decideExchange(plan); exchange.needed) {
            line(fmt::format("Exchange partition_by=[{}] ({})", keys, exchange.reason));
            ++depth;
        }
    }
    for (const auto& filter : plan.filters) {
        line(fmt::format("Filter {}", printExpression(*filter)));
        ++depth;
    }
    const LogicalSource& source = plan.source;
    line(fmt::format("Source topic={} cluster={} message={} format={} time={} watermark_delay={}{}{}{}", source.topic, source.cluster,
                     source.messageName, source.format, source.timeField.empty() ? "envelope" : source.timeField,
                     formatDuration(source.watermarkDelayMs), source.keyField.empty() ? "" : " key_field=" + source.keyField,
                     source.exchangeDisabled ? " exchange=none" : "", source.pruned ? " pruned" : ""));
    ++depth;
    for (size_t i = 0; i < source.columns.size(); ++i) {
        const auto& column = source.columns[i];
        std::string path;
        for (int number : column.source.field_path()) path += (path.empty() ? "#" : ".") + std::to_string(number);
        line(fmt::format("${} {} {}{}{}", i, column.source.name(), typeName(column.source.type()), nullability(column.nullable),
                         path.empty() ? "" : " " + path));
    }
    return out;
}

namespace {

void verifyExpression(const BoundExpression& expression, size_t width, const std::string& where, std::vector<std::string>& problems) {
    visitColumns(expression, [&](int column) {
        if (column < 0 || static_cast<size_t>(column) >= width)
            problems.push_back(fmt::format("{}: column ${} out of range (row width {})", where, column, width));
    });
}

} // namespace

std::vector<std::string> verifyPlan(const LogicalPlan& plan) {
    std::vector<std::string> problems;
    size_t sourceWidth = plan.source.columns.size();
    if (sourceWidth == 0 || plan.source.columns[0].source.name() != "_time") problems.push_back("source: column 0 is not _time");
    if (plan.source.timeColumn < 0 || static_cast<size_t>(plan.source.timeColumn) >= sourceWidth)
        problems.push_back("source: time column out of range");
    for (const auto& filter : plan.filters) {
        verifyExpression(*filter, sourceWidth, "filter", problems);
        if (filter->type != plan::BOOLEAN && filter->type != plan::TYPE_NULL) problems.push_back("filter: not BOOLEAN");
    }
    size_t outputWidth = sourceWidth;
    if (plan.aggregated) {
        for (const auto& key : plan.groupKeys) verifyExpression(*key, sourceWidth, "group key", problems);
        for (const auto& aggregate : plan.aggregates) {
            if (aggregate.argument) verifyExpression(*aggregate.argument, sourceWidth, "aggregate", problems);
            else if (aggregate.function != plan::COUNT_STAR) problems.push_back("aggregate: missing argument");
            if (aggregate.filter) {
                verifyExpression(*aggregate.filter, sourceWidth, "aggregate filter", problems);
                if (aggregate.filter->type != plan::BOOLEAN) problems.push_back("aggregate filter: not BOOLEAN");
            }
        }
        if (plan.window.kind == plan::WINDOW_NONE) problems.push_back("aggregate: no window");
        outputWidth = plan.groupKeys.size() + plan.aggregates.size() + 2;
        if (plan.having) verifyExpression(*plan.having, outputWidth, "having", problems);
    }
    for (const auto& output : plan.outputs) verifyExpression(*output.expression, outputWidth, "output " + output.name, problems);
    if (plan.outputs.empty()) problems.push_back("no output columns");
    return problems;
}

} // namespace pipec::logical
