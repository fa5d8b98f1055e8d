#pragma once

#include "compiler/catalog/catalog.h"
#include "compiler/common/diagnostics.h"
#include "compiler/plan/logical_plan.h"
#include "compiler/spec/spec_model.h"
#include "compiler/sql/ast.h"
#include "compiler/sql/sql_parser.h"

#include <optional>

namespace pipec::logical {

/// Resolves names against the source message, type-checks every expression, applies Flink's GROUP BY, window and
/// alias rules, and produces the typed logical plan. Reports every error it can find (E04xx) and returns nullopt
/// when there was any.
std::optional<LogicalPlan> bindQuery(const spec::Source& source, const catalog::MessageSchema& schema,
                                     const sql::Query& query, const sql::SqlLocator& locate,
                                     DiagnosticEngine& diagnostics);

} // namespace pipec::logical
