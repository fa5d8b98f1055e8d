#include "compiler/common/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pipec {

void SourceManager::addFile(const std::string& path, std::string text) { files_[path] = std::move(text); }

const std::string* SourceManager::text(const std::string& path) const {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
}

std::string_view SourceManager::lineText(const std::string& path, int line) const {
    const std::string* content = text(path);
    if (!content || line < 1) return {};
    size_t start = 0;
    for (int current = 1; current < line; ++current) {
        size_t newline = content->find('\n', start);
        if (newline == std::string::npos) return {};
        start = newline + 1;
    }
    size_t end = content->find('\n', start);
    if (end == std::string::npos) end = content->size();
    std::string_view view(*content);
    view = view.substr(start, end - start);
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
    return view;
}

Diagnostic& DiagnosticEngine::error(ErrorCode code, SourceLocation location, std::string message) {
    diagnostics_.push_back(Diagnostic{code, Severity::Error, std::move(message), std::move(location), {}, {}, {}, {}, false});
    return diagnostics_.back();
}

Diagnostic& DiagnosticEngine::warning(WarningCode code, SourceLocation location, std::string message) {
    diagnostics_.push_back(Diagnostic{code, Severity::Warning, std::move(message), std::move(location), {}, {}, {}, {}, false});
    return diagnostics_.back();
}

Diagnostic& DiagnosticEngine::note(NoteCode code, SourceLocation location, std::string message) {
    diagnostics_.push_back(Diagnostic{code, Severity::Note, std::move(message), std::move(location), {}, {}, {}, {}, false});
    return diagnostics_.back();
}

void DiagnosticEngine::addForEnvironment(Diagnostic diagnostic, const std::string& environment) {
    for (auto& existing : diagnostics_) {
        if (existing.environments.empty() || existing.code != diagnostic.code || existing.severity != diagnostic.severity ||
            existing.message != diagnostic.message || existing.location.file != diagnostic.location.file ||
            existing.location.line != diagnostic.location.line || existing.location.column != diagnostic.location.column ||
            existing.label != diagnostic.label || existing.help != diagnostic.help || existing.notes != diagnostic.notes)
            continue;
        if (std::find(existing.environments.begin(), existing.environments.end(), environment) == existing.environments.end())
            existing.environments.push_back(environment);
        return;
    }
    diagnostic.environments = {environment};
    diagnostics_.push_back(std::move(diagnostic));
}

void DiagnosticEngine::denyWarnings() {
    for (auto& diagnostic : diagnostics_) {
        if (diagnostic.severity != Severity::Warning) continue;
        diagnostic.severity = Severity::Error;
        diagnostic.notes.push_back(fmt::format("warning {} is an error because of --deny-warnings", diagnostic.code));
    }
}

bool DiagnosticEngine::hasErrors() const { return errorCount() > 0; }

size_t DiagnosticEngine::errorCount() const {
    return static_cast<size_t>(std::count_if(diagnostics_.begin(), diagnostics_.end(),
                                             [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

void DiagnosticEngine::sort() {
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        if (a.location.file != b.location.file) return a.location.file < b.location.file;
        if (a.location.line != b.location.line) return a.location.line < b.location.line;
        return a.location.column < b.location.column;
    });
}

namespace {

const char* severityName(Severity severity) {
    switch (severity) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
    }
    return "error";
}

/// Tabs in a snippet are shown as single spaces so the caret column lines up with the text.
std::string untab(std::string_view text) {
    std::string result(text);
    std::replace(result.begin(), result.end(), '\t', ' ');
    return result;
}

std::string githubEscape(std::string_view text, bool property) {
    std::string result;
    for (char c : text) {
        switch (c) {
        case '%': result += "%25"; break;
        case '\r': result += "%0D"; break;
        case '\n': result += "%0A"; break;
        case ':': result += property ? "%3A" : ":"; break;
        case ',': result += property ? "%2C" : ","; break;
        default: result += c;
        }
    }
    return result;
}

} // namespace

std::string headline(const Diagnostic& diagnostic) {
    if (diagnostic.environments.empty()) return diagnostic.message;
    std::string names;
    for (const auto& environment : diagnostic.environments) names += (names.empty() ? "`" : ", `") + environment + "`";
    return fmt::format("{} (environment{} {})", diagnostic.message, diagnostic.environments.size() == 1 ? "" : "s", names);
}

std::string renderText(const Diagnostic& diagnostic, const SourceManager& sources, bool color) {
    const char* bold = color ? "\x1b[1m" : "";
    const char* red = color ? "\x1b[1;31m" : "";
    const char* yellow = color ? "\x1b[1;33m" : "";
    const char* blue = color ? "\x1b[1;34m" : "";
    const char* reset = color ? "\x1b[0m" : "";
    const char* severityColor = diagnostic.severity == Severity::Error ? red : yellow;

    std::string out = fmt::format("{}{}[{}]{}{}: {}{}\n", severityColor, severityName(diagnostic.severity),
                                  diagnostic.code, reset, bold, headline(diagnostic), reset);
    const SourceLocation& location = diagnostic.location;
    if (location.file.empty()) {
        // Nothing to point at (for example a command-line problem).
    } else if (!location.known()) {
        out += fmt::format("  {}-->{} {}\n", blue, reset, location.file);
    } else {
        std::string lineNumber = std::to_string(location.line);
        std::string gutter(lineNumber.size(), ' ');
        out += fmt::format("{} {}-->{} {}:{}:{}\n", gutter, blue, reset, location.file, location.line, location.column);
        std::string_view line = sources.lineText(location.file, location.line);
        if (sources.text(location.file) && !diagnostic.brief) {
            out += fmt::format("{} {}|{}\n", gutter, blue, reset);
            out += fmt::format("{}{} |{} {}\n", blue, lineNumber, reset, untab(line));
            int column = std::max(1, location.column);
            int length = std::max(1, location.length);
            std::string caret = std::string(static_cast<size_t>(column - 1), ' ') + std::string(static_cast<size_t>(length), '^');
            out += fmt::format("{} {}|{} {}{}{}", gutter, blue, reset, severityColor, caret, reset);
            if (!diagnostic.label.empty()) out += " " + diagnostic.label;
            out += "\n";
        }
    }
    for (const auto& note : diagnostic.notes) out += fmt::format("  = note: {}\n", note);
    if (!diagnostic.help.empty()) out += fmt::format("  = help: {}\n", diagnostic.help);
    return out;
}

std::string renderGitHub(const Diagnostic& diagnostic) {
    const char* kind = diagnostic.severity == Severity::Error ? "error" : diagnostic.severity == Severity::Warning ? "warning" : "notice";
    std::string properties;
    if (!diagnostic.location.file.empty()) {
        properties += "file=" + githubEscape(diagnostic.location.file, true);
        if (diagnostic.location.known()) {
            properties += fmt::format(",line={},col={}", diagnostic.location.line, diagnostic.location.column);
            properties += fmt::format(",endColumn={}", diagnostic.location.column + std::max(1, diagnostic.location.length));
        }
        properties += ",";
    }
    properties += "title=" + githubEscape(diagnostic.code, true);
    // GitHub shows the message under the title on the annotated line; the text under the caret (often the
    // did-you-mean suggestion), the notes and the help go on lines of their own, as in the text format.
    std::string message = headline(diagnostic);
    if (!diagnostic.label.empty()) message += "\n" + diagnostic.label;
    for (const auto& note : diagnostic.notes) message += "\nnote: " + note;
    if (!diagnostic.help.empty()) message += "\nhelp: " + diagnostic.help;
    return fmt::format("::{} {}::{}", kind, properties, githubEscape(message, false));
}

std::string jsonEscape(std::string_view text) {
    std::string result;
    result.reserve(text.size());
    for (unsigned char c : text) {
        switch (c) {
        case '"': result += "\\\""; break;
        case '\\': result += "\\\\"; break;
        case '\n': result += "\\n"; break;
        case '\r': result += "\\r"; break;
        case '\t': result += "\\t"; break;
        case '\b': result += "\\b"; break;
        case '\f': result += "\\f"; break;
        default:
            if (c < 0x20) result += fmt::format("\\u{:04x}", c);
            else result += static_cast<char>(c);
        }
    }
    return result;
}

std::string renderJson(const Diagnostic& diagnostic) {
    std::string notes;
    for (size_t i = 0; i < diagnostic.notes.size(); ++i) {
        if (i) notes += ",";
        notes += "\"" + jsonEscape(diagnostic.notes[i]) + "\"";
    }
    std::string environments;
    for (size_t i = 0; i < diagnostic.environments.size(); ++i)
        environments += (i ? ",\"" : "\"") + jsonEscape(diagnostic.environments[i]) + "\"";
    return fmt::format(
        "{{\"severity\":\"{}\",\"code\":\"{}\",\"message\":\"{}\",\"file\":\"{}\",\"line\":{},\"column\":{},"
        "\"length\":{},\"label\":\"{}\",\"help\":\"{}\",\"notes\":[{}],\"environments\":[{}]}}",
        severityName(diagnostic.severity), jsonEscape(diagnostic.code), jsonEscape(diagnostic.message),
        jsonEscape(diagnostic.location.file), diagnostic.location.line, diagnostic.location.column,
        diagnostic.location.length, jsonEscape(diagnostic.label), jsonEscape(diagnostic.help), notes, environments);
}

std::string renderAll(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources, DiagnosticFormat format,
                      bool color) {
    std::string out;
    switch (format) {
    case DiagnosticFormat::Text:
        for (const auto& d : diagnostics) out += renderText(d, sources, color) + "\n";
        break;
    case DiagnosticFormat::GitHub:
        for (const auto& d : diagnostics) out += renderGitHub(d) + "\n";
        break;
    case DiagnosticFormat::Json:
        out += "[";
        for (size_t i = 0; i < diagnostics.size(); ++i) {
            out += i ? ",\n " : "";
            out += renderJson(diagnostics[i]);
        }
        out += "]\n";
        break;
    }
    return out;
}

namespace {

size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

} // namespace

std::string closestMatch(std::string_view name, const std::vector<std::string>& candidates) {
    std::string best;
    size_t bestDistance = SIZE_MAX;
    for (const auto& candidate : candidates) {
        size_t distance = editDistance(name, candidate);
        if (distance < bestDistance) {
            bestDistance = distance;
            best = candidate;
        }
    }
    // Suggest only names within about a third of the length: typos, not unrelated words.
    size_t limit = std::max<size_t>(2, name.size() / 3);
    return bestDistance <= limit ? best : std::string();
}

} // namespace pipec
