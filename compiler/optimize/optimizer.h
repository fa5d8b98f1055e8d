#pragma once

#include "compiler/plan/logical_plan.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace pipec::optimize {

/// One named rewrite of the logical plan. Passes run in list order; each can be disabled by name.
struct Pass {
    std::string name;
    std::string description;
    std::function<void(logical::LogicalPlan&)> run;
};

/// The ordered pass list.
const std::vector<Pass>& passes();

/// Runs every pass not in `disabled`, verifying the plan after each; a verification failure is a compiler bug
/// and throws std::logic_error naming the pass.
void optimize(logical::LogicalPlan& plan, const std::set<std::string>& disabled);

// The passes, exposed for unit tests.
void foldConstants(logical::LogicalPlan& plan);
void pushDownHaving(logical::LogicalPlan& plan);
void simplifyFilters(logical::LogicalPlan& plan);
void pruneProjection(logical::LogicalPlan& plan);

} // namespace pipec::optimize
