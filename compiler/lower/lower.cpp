#include "compiler/lower/lower.h"

#include <fmt/format.h>

namespace pipec::lower {

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
    const plan::Source& source = pipeline.source();
    out += fmt::format("  KafkaSource cluster={} topic={} message={} format={} watermark_delay_ms={} descriptor_files={}\n",
                       source.cluster(), source.topic(), source.message_type(), source.format(), source.watermark_delay_ms(),
                       source.descriptors().file_size());
    out += fmt::format("  Decode event_time={}\n", source.time_column() >= 1 ? fmt::format("#{} ({})", source.time_column(), source.time_field())
                                                                               : std::string("envelope created-at"));
    for (int i = 0; i < source.columns_size(); ++i) {
        const auto& column = source.columns(i);
        std::string path;
        for (int number : column.field_path()) path += (path.empty() ? "" : ".") + std::to_string(number);
        out += fmt::format("    #{} {} {} {}{}{}\n", i, column.name(), logical::typeName(column.type()),
                           plan::FieldKind_Name(column.kind()), path.empty() ? "" : " field=" + path,
                           column.has_presence() ? " nullable" : "");
    }
    for (const auto& filter : pipeline.filters()) out += "  Filter " + printPlanExpression(filter) + "\n";
    if (pipeline.has_window() && pipeline.window().kind() != plan::WINDOW_NONE) {
        const auto& window = pipeline.window();
        out += fmt::format("  WindowAggregate kind={} size_ms={} slide_ms={} gap_ms={}\n", plan::WindowKind_Name(window.kind()),
                           window.size_ms(), window.slide_ms(), window.gap_ms());
        for (int i = 0; i < window.group_keys_size(); ++i)
            out += fmt::format("    key {} = {}\n", window.group_key_names(i), printPlanExpression(window.group_keys(i)));
        for (const auto& aggregate : window.aggregates()) {
            out += fmt::format("    aggregate {}{}({}):{}\n", plan::AggregateFunction_Name(aggregate.function()),
                               aggregate.distinct() ? " DISTINCT" : "",
                               aggregate.has_argument() ? printPlanExpression(aggregate.argument()) : "*",
                               logical::typeName(aggregate.result_type()));
        }
        if (window.has_having()) out += "    having " + printPlanExpression(window.having()) + "\n";
    }
    out += "  Project\n";
    for (int i = 0; i < pipeline.outputs_size(); ++i) {
        const auto& column = pipeline.output_columns(i);
        out += fmt::format("    {}{} = {}\n", column.name(), column.is_key() ? " KEY" : "", printPlanExpression(pipeline.outputs(i)));
    }
    return out;
}

} // namespace pipec::lower
