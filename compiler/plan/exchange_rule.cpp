#include "compiler/plan/exchange_rule.h"

#include <fmt/format.h>

namespace pipec::logical {

ExchangeDecision decideExchange(const LogicalPlan& plan) {
    ExchangeDecision decision;
    decision.disabled = plan.source.exchangeDisabled;
    decision.windowed = plan.aggregated && plan.window.kind != plan::WINDOW_NONE;
    if (!decision.windowed) return decision;
    for (size_t i = 0; i < plan.groupKeyNames.size(); ++i) decision.keys += (i ? ", " : "") + plan.groupKeyNames[i];
    const auto& keyField = plan.source.keyField;
    for (const auto& key : plan.groupKeys) {
        if (keyField.empty() || key->kind != BoundKind::Column || key->column <= 0) continue;
        if (static_cast<size_t>(key->column) < plan.source.columns.size() && plan.source.columns[static_cast<size_t>(key->column)].source.name() == keyField)
            decision.keyedByGroupKey = true;
    }
    if (decision.keyedByGroupKey) return decision;
    if (plan.groupKeys.empty())
        decision.reason = "the query has no GROUP BY key besides the window: every row of a window must reach one task";
    else if (keyField.empty())
        decision.reason = fmt::format("the topic's key (key_field not declared) is not the GROUP BY key{} {}",
                                      plan.groupKeys.size() == 1 ? "" : "s", decision.keys);
    else
        decision.reason = fmt::format("key_field {} is not a GROUP BY key (GROUP BY {})", keyField, decision.keys);
    decision.needed = !decision.disabled;
    return decision;
}

} // namespace pipec::logical
