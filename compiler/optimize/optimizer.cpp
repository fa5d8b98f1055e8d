#include "compiler/optimize/optimizer.h"

#include <fmt/format.h>

#include <stdexcept>

namespace pipec::optimize {

const std::vector<Pass>& passes() {
    static const std::vector<Pass> kPasses = {
        {"constant_folding", "evaluates calls whose arguments are all literals at compile time", foldConstants},
        {"having_pushdown", "moves HAVING conditions on GROUP BY keys into the source filter, before aggregation", pushDownHaving},
        {"filter_simplification", "drops filters that are always TRUE and merges duplicates", simplifyFilters},
        {"projection_pruning", "decodes only the Protobuf fields the query reads", pruneProjection},
    };
    return kPasses;
}

void optimize(logical::LogicalPlan& plan, const std::set<std::string>& disabled) {
    for (const auto& pass : passes()) {
        if (disabled.count(pass.name)) continue;
        pass.run(plan);
        auto problems = logical::verifyPlan(plan);
        if (!problems.empty()) throw std::logic_error(fmt::format("plan verification failed after pass {}: {}", pass.name, problems.front()));
    }
}

} // namespace pipec::optimize
