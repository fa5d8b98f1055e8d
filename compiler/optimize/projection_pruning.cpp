#include "compiler/optimize/optimizer.h"

#include <algorithm>

namespace pipec::optimize {

/// Keeps only the source columns some expression reads (plus `_time` and the time field), so the decoder
/// never materializes fields nobody uses, and renumbers every source-row reference.
void pruneProjection(logical::LogicalPlan& plan) {
    auto& columns = plan.source.columns;
    std::vector<bool> used(columns.size(), false);
    used[0] = true;
    used[static_cast<size_t>(plan.source.timeColumn)] = true;
    auto mark = [&](const logical::BoundExpression& expression) {
        logical::visitColumns(expression, [&](int column) { used.at(static_cast<size_t>(column)) = true; });
    };
    for (const auto& filter : plan.filters) mark(*filter);
    if (plan.aggregated) {
        for (const auto& key : plan.groupKeys) mark(*key);
        for (const auto& aggregate : plan.aggregates) {
            if (aggregate.argument) mark(*aggregate.argument);
            if (aggregate.filter) mark(*aggregate.filter);
        }
    } else {
        for (const auto& output : plan.outputs) mark(*output.expression);
    }
    std::vector<int> mapping(columns.size(), -1);
    std::vector<logical::SourceColumn> kept;
    for (size_t i = 0; i < columns.size(); ++i) {
        if (!used[i]) continue;
        mapping[i] = static_cast<int>(kept.size());
        kept.push_back(columns[i]);
    }
    // Expressions may share nodes (a group key reused in a filter by having_pushdown): remap each node once.
    std::vector<const logical::BoundExpression*> seen;
    std::function<void(logical::BoundExpression&)> remap = [&](logical::BoundExpression& expression) {
        if (std::find(seen.begin(), seen.end(), &expression) != seen.end()) return;
        seen.push_back(&expression);
        if (expression.kind == logical::BoundKind::Column) expression.column = mapping.at(static_cast<size_t>(expression.column));
        for (auto& argument : expression.arguments) remap(*argument);
    };
    for (auto& filter : plan.filters) remap(*filter);
    if (plan.aggregated) {
        for (auto& key : plan.groupKeys) remap(*key);
        for (auto& aggregate : plan.aggregates) {
            if (aggregate.argument) remap(*aggregate.argument);
            if (aggregate.filter) remap(*aggregate.filter);
        }
    } else {
        for (auto& output : plan.outputs) remap(*output.expression);
    }
    plan.source.timeColumn = mapping[static_cast<size_t>(plan.source.timeColumn)];
    columns = std::move(kept);
    plan.source.pruned = true;
}

} // namespace pipec::optimize
