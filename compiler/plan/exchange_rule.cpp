#include "compiler/plan/exchange_rule.h"

#include <fmt/format.h>

namespace pipec::logical {

ExchangeDecision decideExchange(const LogicalPlan& plan) {
    ExchangeDecision decision;
    decision.disabled = plan.source.exchangeDisabled;
    decision.windowed = plan.aggregated && plan.window.kind != plan::WINDOW_NONE;
    if (!decision.windowed) return decision;
    const auto& keyField = plan.source.keyField;
    for (size_t i = 0; i < plan.groupKeys.size(); ++i) {
        const BoundExpression& key = *plan.groupKeys[i];
        bool bare = key.kind == BoundKind::Column && key.column > 0 && static_cast<size_t>(key.column) < plan.source.columns.size();
        // A bare column by its full name (`store_location.region`), an expression as written.
        std::string name = bare ? plan.source.columns[static_cast<size_t>(key.column)].source.name()
                                : (i < plan.groupKeyNames.size() ? plan.groupKeyNames[i] : printExpression(key));
        decision.keys += (i ? ", " : "") + name;
        if (bare && !keyField.empty() && name == keyField) decision.keyedByGroupKey = true;
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
