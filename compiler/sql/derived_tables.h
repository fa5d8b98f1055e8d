#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/sql/ast.h"
#include "compiler/sql/sql_parser.h"

namespace pipec::sql {

/// Inlines derived tables (`FROM (SELECT … FROM topic WHERE …) AS t`) and WITH queries into the query that reads
/// them: their projections are substituted for the column names the outer query uses, and their WHERE is joined to
/// the outer WHERE with AND. A projection and a filter before the window aggregate is what such a subquery can hold;
/// one that aggregates, groups or is DISTINCT is reported (E0301), as is an outer name the subquery does not select
/// (E0401). Spans keep pointing at the text the user wrote.
void inlineSubqueries(Query& query, const SqlLocator& locate, DiagnosticEngine& diagnostics);

} // namespace pipec::sql
