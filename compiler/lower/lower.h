#pragma once

#include "compiler/plan/logical_plan.h"

#include <pipec/plan.pb.h>

#include <set>
#include <string>

namespace pipec::lower {

/// Lowers an optimized logical plan to the physical pipeline the runtime executes (the plan.proto contract).
plan::Pipeline lowerPlan(const logical::LogicalPlan& plan, const std::set<std::string>& disabledPasses);

/// Deterministic text form of a physical pipeline (`pipec explain --stage physical`).
std::string printPhysical(const plan::Pipeline& pipeline);
std::string printPlanExpression(const plan::Expr& expression);

} // namespace pipec::lower
