#include "compiler/lower/lower.h"

#include "compiler/common/sha256.h"
#include "compiler/plan/exchange_rule.h"

#include <fmt/format.h>

#include <functional>
#include <set>

namespace pipec::lower {

namespace {

/// The repartition exchange (plan.proto `Exchange`) of a lowered windowed pipeline: the source-row columns stage 2
/// reads (the GROUP BY keys' and the aggregates' arguments, after projection pruning), their types, and a
/// fingerprint of that row layout.
void addExchange(plan::Pipeline& pipeline, const std::string& reason) {
    std::set<int> read;
    std::function<void(const plan::Expr&)> visit = [&](const plan::Expr& expression) {
        if (expression.kind_case() == plan::Expr::kColumn) read.insert(expression.column());
        if (expression.kind_case() == plan::Expr::kCall)
            for (const auto& argument : expression.call().args()) visit(argument);
    };
    const plan::WindowAggregate& window = pipeline.window();
    for (const auto& key : window.group_keys()) visit(key);
    for (const auto& aggregate : window.aggregates()) {
        if (aggregate.has_argument()) visit(aggregate.argument());
        if (aggregate.has_filter()) visit(aggregate.filter());
    }
    read.erase(0);  // `_time` travels as the record's event time
    plan::Exchange* exchange = pipeline.mutable_exchange();
    exchange->set_reason(reason);
    // The layout version comes first: a change of the encoding itself changes every fingerprint.
    std::string layout = "pipec repartition row v1\n";
    for (int column : read) {
        const plan::SourceColumn& source = pipeline.source().columns(column);
        exchange->add_columns(column);
        exchange->add_column_types(source.type());
        layout += fmt::format("column #{} {} {}\n", column, source.name(), plan::TypeId_Name(source.type()));
    }
    for (const auto& key : window.group_keys()) layout += "key " + printPlanExpression(key) + "\n";
    exchange->set_row_format(sha256Hex(layout).substr(0, 16));
}

} // namespace

plan::Pipeline lowerPlan(const logical::LogicalPlan& logicalPlan, const std::set<std::string>& disabledPasses) {
    plan::Pipeline pipeline;
    pipeline.set_job_name(logicalPlan.jobName);
    for (const auto& pass : disabledPasses) pipeline.add_disabled_passes(pass);

    const logical::LogicalSource& logicalSource = logicalPlan.source;
    plan::Source* source = pipeline.mutable_source();
    source->set_cluster(logicalSource.cluster);
    source->set_topic(logicalSource.topic);
    source->set_message_type(logicalSource.messageName);
    *source->mutable_descriptors() = logicalSource.descriptors;
    source->set_format(logicalSource.format);
    source->set_watermark_delay_ms(logicalSource.watermarkDelayMs);
    source->set_time_column(logicalSource.timeColumn);
    source->set_time_field(logicalSource.timeField);
    source->set_key_field(logicalSource.keyField);
    for (const auto& column : logicalSource.columns) *source->add_columns() = column.source;

    for (const auto& filter : logicalPlan.filters) *pipeline.add_filters() = logical::toPlanExpression(*filter);

    if (logicalPlan.aggregated) {
        plan::WindowAggregate* window = pipeline.mutable_window();
        window->set_kind(logicalPlan.window.kind);
        window->set_size_ms(logicalPlan.window.sizeMs);
        window->set_slide_ms(logicalPlan.window.slideMs);
        window->set_gap_ms(logicalPlan.window.gapMs);
        for (size_t i = 0; i < logicalPlan.groupKeys.size(); ++i) {
            *window->add_group_keys() = logical::toPlanExpression(*logicalPlan.groupKeys[i]);
            window->add_group_key_names(logicalPlan.groupKeyNames[i]);
        }
        for (const auto& call : logicalPlan.aggregates) {
            plan::Aggregate* aggregate = window->add_aggregates();
            aggregate->set_function(call.function);
            if (call.argument) *aggregate->mutable_argument() = logical::toPlanExpression(*call.argument);
            aggregate->set_distinct(call.distinct);
            aggregate->set_result_type(call.type);
            aggregate->set_name(call.text);
            if (call.filter) *aggregate->mutable_filter() = logical::toPlanExpression(*call.filter);
            for (const auto& parameter : call.parameters) *aggregate->add_parameters() = parameter;
        }
        if (logicalPlan.having) *window->mutable_having() = logical::toPlanExpression(*logicalPlan.having);
    }
    for (const auto& output : logicalPlan.outputs) {
        *pipeline.add_outputs() = logical::toPlanExpression(*output.expression);
        plan::OutputColumn* column = pipeline.add_output_columns();
        column->set_name(output.name);
        column->set_type(output.expression->type);
        column->set_is_key(output.isKey);
    }
    if (logical::ExchangeDecision decision = logical::decideExchange(logicalPlan); decision.needed) addExchange(pipeline, decision.reason);
    return pipeline;
}

std::string printPlanExpression(const plan::Expr& expression) {
    switch (expression.kind_case()) {
    case plan::Expr::kColumn: return fmt::format("#{}", expression.column());
    case plan::Expr::kLiteral: {
        const auto& literal = expression.literal();
        if (literal.is_null()) return fmt::format("NULL:{}", logical::typeName(expression.type()));
        switch (literal.value_case()) {
        case plan::Literal::kBoolValue: return literal.bool_value() ? "TRUE" : "FALSE";
        case plan::Literal::kIntValue: return fmt::format("{}:{}", literal.int_value(), logical::typeName(expression.type()));
        case plan::Literal::kDoubleValue: return fmt::format("{}:{}", literal.double_value(), logical::typeName(expression.type()));
        case plan::Literal::kStringValue: return fmt::format("'{}'", literal.string_value());
        default: return "?";
        }
    }
    case plan::Expr::kCall: {
        std::string text = expression.call().function() + "(";
        for (int i = 0; i < expression.call().args_size(); ++i) text += (i ? ", " : "") + printPlanExpression(expression.call().args(i));
        return text + "):" + logical::typeName(expression.type());
    }
    default: return "?";
    }
}

std::string printPhysical(const plan::Pipeline& pipeline) {
    std::string out = fmt::format("Pipeline job={}\n", pipeline.job_name());
    // With an exchange the pipeline runs as two stages (`pipec run --stage 1|2`), each printed one level deeper.
    bool exchanged = pipeline.has_exchange();
    std::string at = exchanged ? "    " : "  ";
    if (exchanged) out += "  Stage 1 (pipec run --stage 1): source -> filter -> exchange\n";
    const plan::Source& source = pipeline.source();
    out += fmt::format("{}KafkaSource cluster={} topic={} message={} format={} watermark_delay_ms={} descriptor_files={}{}\n", at,
                       source.cluster(), source.topic(), source.message_type(), source.format(), source.watermark_delay_ms(),
                       source.descriptors().file_size(), source.key_field().empty() ? "" : " key_field=" + source.key_field());
    out += fmt::format("{}Decode event_time={}\n", at,
                       source.time_column() >= 1 ? fmt::format("#{} ({})", source.time_column(), source.time_field())
                                                 : std::string("envelope created-at"));
    for (int i = 0; i < source.columns_size(); ++i) {
        const auto& column = source.columns(i);
        std::string path;
        for (int number : column.field_path()) path += (path.empty() ? "" : ".") + std::to_string(number);
        out += fmt::format("{}  #{} {} {} {}{}{}\n", at, i, column.name(), logical::typeName(column.type()),
                           plan::FieldKind_Name(column.kind()), path.empty() ? "" : " field=" + path,
                           column.has_presence() ? " nullable" : "");
    }
    for (const auto& filter : pipeline.filters()) out += at + "Filter " + printPlanExpression(filter) + "\n";
    if (exchanged) {
        const plan::Exchange& exchange = pipeline.exchange();
        std::string keys, columns;
        for (int i = 0; i < pipeline.window().group_keys_size(); ++i)
            keys += (i ? ", " : "") + pipeline.window().group_key_names(i) + "=" + printPlanExpression(pipeline.window().group_keys(i));
        for (int i = 0; i < exchange.columns_size(); ++i)
            columns += fmt::format("{}#{}:{}", i ? ", " : "", exchange.columns(i), logical::typeName(exchange.column_types(i)));
        out += fmt::format("{}ExchangeSink topic=<group>-{}-repartition partition_by=[{}] columns=[{}] row_format={}\n", at,
                           pipeline.job_name(), keys, columns, exchange.row_format());
        out += fmt::format("{}  reason: {}\n", at, exchange.reason());
        out += "  Stage 2 (pipec run --stage 2): exchange -> window -> project\n";
        out += fmt::format("{}ExchangeSource topic=<group>-{}-repartition row_format={} (carried columns at their source index, the "
                           "others NULL)\n",
                           at, pipeline.job_name(), exchange.row_format());
    }
    if (pipeline.has_window() && pipeline.window().kind() != plan::WINDOW_NONE) {
        const auto& window = pipeline.window();
        out += fmt::format("{}WindowAggregate kind={} size_ms={} slide_ms={} gap_ms={}\n", at, plan::WindowKind_Name(window.kind()),
                           window.size_ms(), window.slide_ms(), window.gap_ms());
        for (int i = 0; i < window.group_keys_size(); ++i)
            out += fmt::format("{}  key {} = {}\n", at, window.group_key_names(i), printPlanExpression(window.group_keys(i)));
        for (const auto& aggregate : window.aggregates()) {
            std::string arguments = aggregate.has_argument() ? printPlanExpression(aggregate.argument()) : "*";
            for (const auto& parameter : aggregate.parameters())
                arguments += parameter.value_case() == plan::Literal::kStringValue ? fmt::format(", '{}'", parameter.string_value()) : ", ?";
            out += fmt::format("{}  aggregate {}{}({}):{}{}\n", at, plan::AggregateFunction_Name(aggregate.function()),
                               aggregate.distinct() ? " DISTINCT" : "", arguments, logical::typeName(aggregate.result_type()),
                               aggregate.has_filter() ? " filter " + printPlanExpression(aggregate.filter()) : "");
        }
        if (window.has_having()) out += at + "  having " + printPlanExpression(window.having()) + "\n";
    }
    out += at + "Project\n";
    for (int i = 0; i < pipeline.outputs_size(); ++i) {
        const auto& column = pipeline.output_columns(i);
        out += fmt::format("{}  {}{} = {}\n", at, column.name(), column.is_key() ? " KEY" : "", printPlanExpression(pipeline.outputs(i)));
    }
    return out;
}

} // namespace pipec::lower
