#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/sql/ast.h"

#include <functional>
#include <optional>
#include <string>

namespace pipec::sql {

/// Maps a byte range of the SQL text to a location in the user's file (the YAML spec embedding it).
using SqlLocator = std::function<SourceLocation(size_t offset, size_t length)>;

/// Parses one SQL statement into pipec's AST. Syntax errors (E0301) and malformed literals (E0302) are reported
/// with file locations through `locate`; returns nullopt when the statement could not be parsed.
std::optional<Query> parseQuery(const std::string& text, const SqlLocator& locate, DiagnosticEngine& diagnostics);

} // namespace pipec::sql
