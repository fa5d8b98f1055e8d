#pragma once

#include "compiler/common/diagnostic_code.h"
#include "compiler/common/source_location.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pipec {

/// A user-facing problem: stable code, message, location and optional label (text under the caret),
/// "did you mean" help and extra notes. Internal bugs are assertions, never diagnostics.
struct Diagnostic {
    std::string code;
    Severity severity = Severity::Error;
    std::string message;
    SourceLocation location;
    std::string label;
    std::string help;
    std::vector<std::string> notes;
    /// The environments (pipec.yaml sections) the problem was found in, when it depends on the environment;
    /// empty for problems of the spec itself.
    std::vector<std::string> environments;
    /// Rendered as text in two lines, the message and its location, without the snippet (an informational note).
    bool brief = false;
};

/// Holds the text of every file diagnostics may point into, so they can be rendered with a snippet.
class SourceManager {
public:
    void addFile(const std::string& path, std::string text);
    /// The text of `path`, or nullptr when the file was never registered.
    const std::string* text(const std::string& path) const;
    /// Line `line` (1-based) of `path` without its newline; empty when out of range.
    std::string_view lineText(const std::string& path, int line) const;

private:
    std::map<std::string, std::string> files_;
};

/// Collects diagnostics across compilation stages; stages keep going after recoverable errors.
class DiagnosticEngine {
public:
    /// The code must be in compiler/common/diagnostic_codes.def with the matching severity (checked when compiling).
    Diagnostic& error(ErrorCode code, SourceLocation location, std::string message);
    Diagnostic& warning(WarningCode code, SourceLocation location, std::string message);
    Diagnostic& note(NoteCode code, SourceLocation location, std::string message);
    void add(Diagnostic diagnostic) { diagnostics_.push_back(std::move(diagnostic)); }
    /// Adds a problem found while checking `environment`: when the same problem (code, place, text) was already found
    /// in another environment, that diagnostic lists one more environment instead of the problem being reported twice.
    void addForEnvironment(Diagnostic diagnostic, const std::string& environment);
    /// Turns every warning into an error (`--deny-warnings`), each with a note saying why.
    void denyWarnings();

    bool hasErrors() const;
    size_t errorCount() const;
    const std::vector<Diagnostic>& all() const { return diagnostics_; }
    /// Orders diagnostics by file, line, column (stable), for deterministic output.
    void sort();
    void clear() { diagnostics_.clear(); }

private:
    std::vector<Diagnostic> diagnostics_;
};

enum class DiagnosticFormat { Text, GitHub, Json };

/// Renders like a modern compiler: `error[E0401]: ...`, ` --> file:line:col`, snippet, caret, help.
std::string renderText(const Diagnostic& diagnostic, const SourceManager& sources, bool color = false);
/// One GitHub workflow command: `::error file=F,line=L,col=C,endColumn=E,title=CODE::message`, the message followed by
/// the label, notes and help on lines of their own (newlines escaped as %0A, as GitHub's workflow commands require).
std::string renderGitHub(const Diagnostic& diagnostic);
/// A JSON object for one diagnostic (no trailing newline).
std::string renderJson(const Diagnostic& diagnostic);
/// Renders every diagnostic in the chosen format; JSON yields one array.
std::string renderAll(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources,
                      DiagnosticFormat format, bool color = false);

/// The headline of a diagnostic: its message, and the environments it was found in, if any.
std::string headline(const Diagnostic& diagnostic);

/// Escapes a string for inclusion in a JSON string literal (without the quotes).
std::string jsonEscape(std::string_view text);

/// The candidate closest to `name` by edit distance (case-insensitive), if close enough to suggest.
std::string closestMatch(std::string_view name, const std::vector<std::string>& candidates);

} // namespace pipec
