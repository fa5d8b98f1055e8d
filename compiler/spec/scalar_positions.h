#pragma once

#include "compiler/spec/spec_model.h"

#include <string>

namespace pipec::spec {

/// Rebuilds the SQL text of a YAML scalar together with the file position of every byte of it, by re-scanning the
/// raw file from the scalar's mark: yaml-cpp marks block scalars at their `|`/`>` indicator and folds lines, so the
/// positions cannot be recovered from the value alone. Handles literal and folded block scalars (all chomping
/// modes), plain (also multi-line) scalars and single-line quoted scalars. The rebuilt text is checked against
/// `value` (what yaml-cpp parsed); when they differ, every offset maps to the scalar's start instead — never to a
/// wrong place.
SqlText mapScalarPositions(const std::string& path, const std::string& fileText, size_t scalarPosition,
                           const std::string& value, const SourceLocation& scalarLocation);

/// YAML folds the lines of a `>`/`>-` block (and of a multi-line plain scalar) into one, joined by spaces, so a SQL
/// `--` comment would run to the end of the query. Puts each line break the folding removed back, outside string
/// literals and quoted names (whose text YAML's folding defines), keeping every byte offset: the query reads as the
/// author wrote it, line by line, in diagnostics and in the emitted Flink SQL.
/// Returns the offset of a `--` comment that swallows the rest of the query when the line breaks cannot be recovered
/// (a multi-line quoted scalar, whose positions are not rebuilt), or std::string::npos.
size_t restoreFoldedLineBreaks(SqlText& sql);

} // namespace pipec::spec
