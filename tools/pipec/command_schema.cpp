#include "tools/pipec/command.h"

#include "compiler/driver/compilation.h"
#include "compiler/schema_check/schema_check.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <unistd.h>

namespace pipec::cli {

namespace fs = std::filesystem;

namespace {

struct SchemaCheckOptions {
    std::string against;
    std::vector<std::string> protoPaths;
    std::vector<std::string> specPaths;
    std::string environmentFile;
    std::string format = "text";
    std::string color = "auto";
};

/// A directory as the user would write it: relative to the working directory when it is below it, so locations in
/// reports (and golden files) do not depend on where the repository is checked out.
std::string displayPath(const std::string& directory) {
    std::error_code error;
    fs::path relative = fs::relative(directory, fs::current_path(error), error);
    if (error || relative.empty() || *relative.begin() == "..") return directory;
    return relative.generic_string();
}

/// Compiles the specs against one schema tree; the diagnostics are not the check's (a spec that does not compile
/// against the old tree is retried against the new one).
void compileAgainst(const SchemaCheckOptions& options, const std::vector<std::string>& protoPaths, driver::Compilation& compilation) {
    driver::CompileOptions compileOptions;
    compileOptions.protoPaths = protoPaths;
    compileOptions.searchNearestSchemas = false;
    compileOptions.environmentFile = options.environmentFile;
    driver::compile(options.specPaths, compileOptions, compilation);
}

int runSchemaCheck(const SchemaCheckOptions& options) {
    std::vector<std::string> newPaths = options.protoPaths;
    if (newPaths.empty()) {
        std::string nearest = options.specPaths.empty() ? (fs::is_directory("schemas") ? "schemas" : "") : driver::findSchemaDirectory(options.specPaths.front());
        if (nearest.empty()) {
            std::cerr << "pipec schema check: no schemas/ directory found; name the current schemas with --proto-path\n";
            return 2;
        }
        newPaths.push_back(displayPath(nearest));
    }
    if (!fs::is_directory(options.against)) {
        std::cerr << fmt::format("pipec schema check: --against `{}` is not a directory\n", options.against);
        return 2;
    }

    SourceManager sources;
    DiagnosticEngine loadErrors;
    auto before = catalog::Catalog::load({options.against}, sources, loadErrors);
    auto after = catalog::Catalog::load(newPaths, sources, loadErrors);

    // Which fields each feature reads: the specs as they compile against the old schemas (what runs today), and a
    // job that only compiles against the new ones (it reads a field this change adds) from there.
    std::vector<schema_check::JobReads> jobs;
    std::vector<std::string> uncompiled;
    size_t features = 0;
    if (!options.specPaths.empty()) {
        driver::Compilation old, current;
        compileAgainst(options, {options.against}, old);
        compileAgainst(options, newPaths, current);
        std::set<std::string> seen;
        for (const auto& job : old.jobs) {
            jobs.push_back(schema_check::fieldReads(job, *old.catalog));
            seen.insert(job.source.name.value);
        }
        for (const auto& job : current.jobs)
            if (seen.insert(job.source.name.value).second) jobs.push_back(schema_check::fieldReads(job, *current.catalog));
        for (const auto& specFile : current.specs) {
            if (const std::string* text = current.sources.text(specFile.path)) sources.addFile(specFile.path, *text);
            for (const auto& source : specFile.sources)
                if (!seen.count(source.name.value)) uncompiled.push_back(source.name.value);
        }
        for (const auto& job : jobs) features += job.features.size();
    }

    DiagnosticEngine diagnostics;
    // A tree that does not load cannot be compared: its .proto errors are the report.
    for (const auto& diagnostic : loadErrors.all()) diagnostics.add(diagnostic);
    if (!loadErrors.hasErrors()) schema_check::checkSchemas(*before, *after, jobs, diagnostics);

    const auto& all = diagnostics.all();
    size_t errors = diagnostics.errorCount();
    size_t warnings = static_cast<size_t>(std::count_if(all.begin(), all.end(), [](const Diagnostic& d) { return d.severity == Severity::Warning; }));
    size_t notes = all.size() - errors - warnings;
    if (options.format == "text") {
        bool color = options.color == "always" || (options.color == "auto" && isatty(STDERR_FILENO));
        std::cerr << renderAll(all, sources, DiagnosticFormat::Text, color);
        std::string skipped = uncompiled.empty() ? ""
                                                 : fmt::format("; not checked, since they compile against neither tree (run pipec validate): {}",
                                                               fmt::join(uncompiled, ", "));
        std::cerr << fmt::format("{}: {} against {}: {} error{}, {} warning{}, {} note{}; {} job{}, {} feature{} checked{}\n",
                                 errors ? "breaking" : "compatible", fmt::join(newPaths, ", "), options.against, errors, errors == 1 ? "" : "s",
                                 warnings, warnings == 1 ? "" : "s", notes, notes == 1 ? "" : "s", jobs.size(), jobs.size() == 1 ? "" : "s", features,
                                 features == 1 ? "" : "s", skipped);
    } else {
        std::cout << renderAll(all, sources, options.format == "json" ? DiagnosticFormat::Json : DiagnosticFormat::GitHub);
    }
    return errors ? 1 : 0;
}

} // namespace

void registerSchemaCommand(CLI::App& app) {
    CLI::App* schema = app.add_subcommand("schema", "Protobuf schema tools");
    schema->require_subcommand(1);
    auto options = std::make_shared<SchemaCheckOptions>();
    CLI::App* check = schema->add_subcommand(
        "check", "Compare the current .proto files with an older tree (e.g. a git worktree of the base branch): wire- and "
                 "JSON-breaking changes, and the features whose specs read what changed. Exit 0 when compatible (notes for "
                 "additions), 1 when a change is wire-breaking or breaks a spec, 2 on usage errors.");
    check->add_option("--against", options->against, "The old schemas directory")->required();
    check->add_option("paths", options->specPaths, "Spec files or directories whose features to check");
    check->add_option("--proto-path,-I", options->protoPaths, "The current schemas (default: the nearest schemas/ of the first spec, else ./schemas); repeat for several")
        ->allow_extra_args(false);
    check->add_option("--env-file", options->environmentFile, "Environment config file (default: the nearest pipec.yaml)");
    check->add_option("--format", options->format, "Output format")->check(CLI::IsMember({"text", "github", "json"}))->capture_default_str();
    check->add_option("--color", options->color, "Colored diagnostics")->check(CLI::IsMember({"auto", "always", "never"}))->capture_default_str();
    check->callback([options] {
        int code = runSchemaCheck(*options);
        if (code) throw CLI::RuntimeError(code);
    });
}

} // namespace pipec::cli
