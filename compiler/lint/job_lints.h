#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/plan/logical_plan.h"
#include "compiler/spec/spec_model.h"
#include "compiler/sql/sql_parser.h"

#include <string>
#include <vector>

namespace pipec::lint {

/// Warnings about a job that compiles but probably does not compute what its author meant: window arguments
/// (W0403, W0404), a GROUP BY key that is not the topic's key with `exchange: none` (W0405), feature TTLs against
/// the window (W0501, W0502), the watermark delay (W0101) and the unit of an int64 time field (W0201). Each has a
/// location in the YAML file, a label and a help line; `--deny-warnings` makes them errors. Lints about single
/// expressions (W0402, integer division) are reported by the binder, which sees them.
void lintJob(const spec::Source& source, const logical::LogicalPlan& plan, const std::vector<const spec::Feature*>& features,
             const sql::SqlLocator& locate, DiagnosticEngine& diagnostics);

/// `1500 ms`, `20 s`, `19 min 40 s`, `1 d 2 h`: a duration in milliseconds as people read it.
std::string formatDuration(int64_t milliseconds);

} // namespace pipec::lint
