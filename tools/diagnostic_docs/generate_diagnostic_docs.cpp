// Generates docs/diagnostics/ from the registry of diagnostic codes (compiler/common/diagnostic_codes.def) and the
// golden cases that show each code, as rustc's error code index is generated from rustc_error_codes.
//
//   pipec_diagnostic_docs REPOSITORY_ROOT --write   rewrites docs/diagnostics/README.md and one page per code
//   pipec_diagnostic_docs REPOSITORY_ROOT --check   exit 1 when a code has no golden case, a page is missing or out
//                                                   of date, a page has no code, or the sources use an
//                                                   unregistered code
//
// A code's example is the first golden case (tests/golden/errors/, then schema/, then cli/) whose expected text
// output shows it: the rendered diagnostic, with its snippet, is the wrong example, and the registry's FIX is the fix.

#include "compiler/common/diagnostic_code.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using pipec::DiagnosticCodeInfo;
using pipec::Severity;

namespace {

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

const char* severityName(Severity severity) {
    return severity == Severity::Error ? "error" : severity == Severity::Warning ? "warning" : "note";
}

struct Area {
    std::string_view digits;
    std::string_view title;
};

constexpr Area kAreas[] = {
    {"00", "Files and YAML"},
    {"01", "Spec structure and environments"},
    {"02", "Schemas and schema changes (`pipec schema check`)"},
    {"03", "SQL syntax"},
    {"04", "Binding, types and SQL lints"},
    {"05", "Features"},
    {"06", "Compiled artifacts"},
    {"07", "Spec tests (`pipec test`)"},
};

/// The golden case that shows a code: the expected file, the diagnostic as rendered, and how it is produced.
struct Example {
    std::string expectedFile;  // relative to the repository root
    std::string inputFile;     // the spec (errors/) or the .args file (cli/, schema/)
    std::string command;
    std::string rendered;
};

/// Golden expected files, in the order examples are picked from: single-spec error cases first, they are the
/// smallest examples.
std::vector<fs::path> goldenFiles(const fs::path& root) {
    std::vector<fs::path> ordered;
    for (const char* folder : {"errors", "schema", "cli"}) {
        std::vector<fs::path> found;
        std::error_code error;
        fs::path directory = root / "tests" / "golden" / folder;
        for (auto it = fs::recursive_directory_iterator(directory, error); !error && it != fs::recursive_directory_iterator(); it.increment(error))
            if (it->is_regular_file() && it->path().extension() == ".expected") found.push_back(it->path());
        std::sort(found.begin(), found.end());
        ordered.insert(ordered.end(), found.begin(), found.end());
    }
    return ordered;
}

/// The text-format diagnostic with `code` in `text` (from its header line to the blank line that ends it).
std::optional<std::string> renderedDiagnostic(const std::string& text, std::string_view code, Severity severity) {
    std::string header = fmt::format("{}[{}]", severityName(severity), code);
    size_t start = 0;
    while ((start = text.find(header, start)) != std::string::npos) {
        if (start == 0 || text[start - 1] == '\n') break;
        start += header.size();
    }
    // --deny-warnings renders a warning code as an error; such a case still shows the code.
    if (start == std::string::npos && severity == Severity::Warning) return renderedDiagnostic(text, code, Severity::Error);
    if (start == std::string::npos) return std::nullopt;
    size_t end = text.find("\n\n", start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
}

/// Whether a golden file shows the code in a machine format (GitHub annotation or JSON).
bool mentionsCode(const std::string& text, std::string_view code) {
    return text.find(fmt::format("title={}::", code)) != std::string::npos ||
           text.find(fmt::format("\"code\":\"{}\"", code)) != std::string::npos;
}

std::optional<Example> findExample(const fs::path& root, const std::vector<fs::path>& files, const DiagnosticCodeInfo& info) {
    std::optional<Example> machineFormatOnly;
    for (const auto& file : files) {
        std::string text = readFile(file);
        std::string relative = fs::relative(file, root).generic_string();
        Example example;
        example.expectedFile = relative;
        if (file.parent_path().filename() == "errors") {
            example.inputFile = relative.substr(0, relative.size() - std::string(".expected").size()) + ".yaml";
            example.command = "pipec validate " + example.inputFile;
        } else {
            example.inputFile = relative.substr(0, relative.size() - std::string(".expected").size()) + ".args";
            std::string arguments = readFile(root / example.inputFile);
            while (!arguments.empty() && (arguments.back() == '\n' || arguments.back() == ' ')) arguments.pop_back();
            example.command = "pipec " + arguments;
        }
        if (auto rendered = renderedDiagnostic(text, info.code, info.severity)) {
            example.rendered = *rendered;
            return example;
        }
        if (!machineFormatOnly && mentionsCode(text, info.code)) machineFormatOnly = example;
    }
    return machineFormatOnly;
}

std::string areaTitle(std::string_view code) {
    for (const auto& area : kAreas)
        if (code.substr(1, 2) == area.digits) return std::string(area.title);
    return "Other";
}

std::string codePage(const DiagnosticCodeInfo& info, const Example& example) {
    std::string page = fmt::format("<!-- Generated by pipec_diagnostic_docs from compiler/common/diagnostic_codes.def and {}; "
                                   "edit those, not this page. -->\n\n",
                                   example.expectedFile);
    page += fmt::format("# {}: {}\n\n", info.code, info.title);
    page += fmt::format("{} · {}\n\n", severityName(info.severity), areaTitle(info.code));
    page += std::string(info.explanation) + "\n\n";
    page += "## Example\n\n";
    page += fmt::format("[`{}`](../../{}), `{}`:\n\n", example.inputFile, example.inputFile, example.command);
    if (example.rendered.empty()) {
        page += fmt::format("(the case checks the code in a machine-readable format: see [`{}`](../../{}))\n\n", example.expectedFile,
                            example.expectedFile);
    } else {
        page += "```text\n" + example.rendered + "```\n\n";
    }
    page += "## Fix\n\n" + std::string(info.fix) + "\n";
    return page;
}

std::string indexPage(const std::map<std::string, Example>& examples) {
    std::string page = "<!-- Generated by pipec_diagnostic_docs from compiler/common/diagnostic_codes.def; edit that, not this page. -->\n\n";
    page += "# Diagnostic codes\n\n";
    page += "Every problem pipec reports has a stable code, a message and a location. Codes starting with E are errors "
            "(exit 1), W warnings (exit 0, or 1 with `--deny-warnings`), N notes (never fail). Each page below gives the "
            "explanation, a wrong example taken from the golden case that tests the code, and the fix.\n\n"
            "The registry is `compiler/common/diagnostic_codes.def`: a code that is not listed there does not compile, and "
            "the `diagnostic_docs` test fails when a code has no golden case or these pages are out of date "
            "(regenerate with `build/tools/pipec_diagnostic_docs . --write`).\n\n"
            "More on some areas: [spec values](spec.md), [lints](lints.md), [the Protobuf → SQL type mapping](catalog.md), "
            "[schema change checks](../schema-check.md).\n";
    std::string currentArea;
    for (const auto& info : pipec::diagnosticCodes()) {
        std::string area = areaTitle(info.code);
        if (area != currentArea) {
            page += fmt::format("\n## {}\n\n| code | severity | title |\n|------|----------|-------|\n", area);
            currentArea = area;
        }
        page += fmt::format("| [{}]({}.md) | {} | {} |\n", info.code, info.code, severityName(info.severity), info.title);
    }
    (void)examples;
    return page;
}

/// String literals in our sources that look like a diagnostic code, with their file:line, so a code assigned without
/// DiagnosticEngine's checked constructors is still held to the registry.
std::vector<std::pair<std::string, std::string>> codesInSources(const fs::path& root) {
    std::vector<std::pair<std::string, std::string>> found;
    std::vector<fs::path> files;
    for (const char* folder : {"compiler", "runtime", "tools"}) {
        std::error_code error;
        for (auto it = fs::recursive_directory_iterator(root / folder, error); !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
            auto extension = it->path().extension();
            if (it->is_regular_file() && (extension == ".cpp" || extension == ".h")) files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        std::string text = readFile(file);
        int line = 1;
        for (size_t i = 0; i + 6 < text.size(); ++i) {
            if (text[i] == '\n') ++line;
            if (text[i] != '"' || (text[i + 1] != 'E' && text[i + 1] != 'W' && text[i + 1] != 'N') || text[i + 6] != '"') continue;
            bool digits = std::all_of(text.begin() + static_cast<long>(i) + 2, text.begin() + static_cast<long>(i) + 6,
                                      [](char c) { return c >= '0' && c <= '9'; });
            if (digits) found.emplace_back(text.substr(i + 1, 5), fmt::format("{}:{}", fs::relative(file, root).generic_string(), line));
        }
    }
    return found;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3 || (std::string(argv[2]) != "--write" && std::string(argv[2]) != "--check")) {
        std::cerr << "usage: pipec_diagnostic_docs REPOSITORY_ROOT --write|--check\n";
        return 2;
    }
    fs::path root = argv[1];
    bool write = std::string(argv[2]) == "--write";
    fs::path docs = root / "docs" / "diagnostics";
    std::vector<std::string> problems;

    std::vector<fs::path> files = goldenFiles(root);
    std::map<std::string, Example> examples;
    std::map<fs::path, std::string> pages;
    for (const auto& info : pipec::diagnosticCodes()) {
        std::optional<Example> example = findExample(root, files, info);
        if (!example) {
            problems.push_back(fmt::format("{} ({}) has no golden case: add one under tests/golden/ whose expected output shows it", info.code,
                                           info.title));
            continue;
        }
        examples.emplace(std::string(info.code), *example);
        pages[docs / (std::string(info.code) + ".md")] = codePage(info, *example);
    }
    pages[docs / "README.md"] = indexPage(examples);

    for (const auto& [code, where] : codesInSources(root))
        if (!pipec::findDiagnosticCode(code)) problems.push_back(fmt::format("{}: code {} is not in compiler/common/diagnostic_codes.def", where, code));

    // A page for a code that is no longer in the registry would document nothing.
    std::error_code error;
    for (auto it = fs::directory_iterator(docs, error); !error && it != fs::directory_iterator(); ++it) {
        std::string name = it->path().filename().string();
        bool codePageName = name.size() == 8 && name.substr(5) == ".md" && (name[0] == 'E' || name[0] == 'W' || name[0] == 'N');
        bool registered = codePageName && pipec::findDiagnosticCode(name.substr(0, 5));
        if (codePageName && !registered) {
            if (write) fs::remove(it->path(), error);
            else problems.push_back(fmt::format("{}: no such code in the registry (remove the page)", fs::relative(it->path(), root).generic_string()));
        }
    }

    for (const auto& [path, content] : pages) {
        if (write) {
            fs::create_directories(path.parent_path(), error);
            std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
        } else if (!fs::exists(path)) {
            problems.push_back(fmt::format("{}: missing (run pipec_diagnostic_docs --write)", fs::relative(path, root).generic_string()));
        } else if (readFile(path) != content) {
            problems.push_back(fmt::format("{}: out of date (run pipec_diagnostic_docs --write)", fs::relative(path, root).generic_string()));
        }
    }
    for (const auto& problem : problems) std::cerr << "diagnostic docs: " << problem << "\n";
    if (write) std::cerr << fmt::format("wrote {} pages to {}\n", pages.size(), docs.generic_string());
    else if (problems.empty()) std::cerr << fmt::format("diagnostic docs: {} codes, each with a golden case and an up-to-date page\n", examples.size());
    return problems.empty() ? 0 : 1;
}
