#include "compiler/optimize/optimizer.h"

namespace pipec::optimize {

using logical::BoundExpression;
using logical::BoundExpressionPtr;
using logical::BoundKind;

namespace {

void splitConjuncts(const BoundExpressionPtr& expression, std::vector<BoundExpressionPtr>& out) {
    if (expression->kind == BoundKind::Call && expression->function == "and") {
        for (const auto& argument : expression->arguments) splitConjuncts(argument, out);
        return;
    }
    out.push_back(expression);
}

/// Replaces references to group keys (aggregate-row columns < keyCount) by the key expressions over the source row.
BoundExpressionPtr substituteKeys(const BoundExpressionPtr& expression, const std::vector<BoundExpressionPtr>& keys) {
    if (expression->kind == BoundKind::Column) return keys.at(static_cast<size_t>(expression->column));
    auto copy = std::make_shared<BoundExpression>(*expression);
    for (auto& argument : copy->arguments) argument = substituteKeys(argument, keys);
    return copy;
}

} // namespace

/// A HAVING conjunct that reads only GROUP BY keys removes whole groups; filtering their rows before aggregation
/// gives the same results with less state. The watermark is computed before filters, so timing is unchanged.
void pushDownHaving(logical::LogicalPlan& plan) {
    if (!plan.aggregated || !plan.having) return;
    std::vector<BoundExpressionPtr> conjuncts, kept;
    splitConjuncts(plan.having, conjuncts);
    int keyCount = static_cast<int>(plan.groupKeys.size());
    for (const auto& conjunct : conjuncts) {
        bool onlyKeys = true;
        logical::visitColumns(*conjunct, [&](int column) { onlyKeys = onlyKeys && column < keyCount; });
        if (onlyKeys) plan.filters.push_back(substituteKeys(conjunct, plan.groupKeys));
        else kept.push_back(conjunct);
    }
    if (kept.empty()) {
        plan.having = nullptr;
    } else if (kept.size() != conjuncts.size()) {
        BoundExpressionPtr rebuilt = kept.front();
        for (size_t i = 1; i < kept.size(); ++i) rebuilt = BoundExpression::makeCall("and", plan::BOOLEAN, {rebuilt, kept[i]});
        plan.having = rebuilt;
    }
}

} // namespace pipec::optimize
