#include "compiler/catalog/proto_error_collector.h"

#include <fmt/format.h>

#include <cctype>

namespace pipec::catalog {

namespace {

/// The length of the token starting at `column` (1-based) of `line`: an identifier or a single character.
int tokenLength(std::string_view line, int column) {
    size_t start = static_cast<size_t>(column - 1);
    if (column < 1 || start >= line.size()) return 1;
    auto isWord = [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.'; };
    size_t end = start;
    while (end < line.size() && isWord(static_cast<unsigned char>(line[end]))) ++end;
    return end > start ? static_cast<int>(end - start) : 1;
}

/// The length from `column` (1-based) to the end of `line`, trailing blanks excluded.
int statementLength(std::string_view line, int column) {
    size_t start = static_cast<size_t>(column - 1);
    size_t end = line.find_last_not_of(" \t\r");
    if (column < 1 || end == std::string_view::npos || end < start) return 1;
    return static_cast<int>(end - start + 1);
}

} // namespace

void ProtoErrorCollector::AddError(const std::string& filename, int line, int column, const std::string& message) {
    if (!diagnostics_) return;
    auto disk = diskPaths_.find(filename);
    // An import that cannot be found is reported twice: once without a position against the missing file, once at
    // the `import` line of the file naming it. Only the second one helps.
    if (disk == diskPaths_.end() && line < 0) return;
    std::string path = disk != diskPaths_.end() ? disk->second : filename;
    // The Importer counts lines and columns from 0 and reports -1 when an error has no position in the file.
    SourceLocation location{path, line >= 0 ? line + 1 : 0, column >= 0 ? column + 1 : 0, 1};
    if (location.line > 0 && location.column > 0) {
        std::string_view text = sources_.lineText(path, location.line);
        // An import error points at the `import` keyword; underline the whole statement so the path shows.
        location.length = message.rfind("Import ", 0) == 0 ? statementLength(text, location.column) : tokenLength(text, location.column);
    }
    auto& diagnostic = diagnostics_->error("E0201", location, fmt::format("invalid .proto file: {}", message));
    diagnostic.help = message.rfind("Import ", 0) == 0
                          ? "imports resolve against schemas/, each --proto-path and google/protobuf/ (the well-known types)"
                          : "pipec loads every .proto file under schemas/ and each --proto-path";
}

void ProtoErrorCollector::AddWarning(const std::string&, int, int, const std::string&) {
    // Protobuf warnings (an unused import, say) do not affect the columns pipec derives, so they stay silent.
}

} // namespace pipec::catalog
