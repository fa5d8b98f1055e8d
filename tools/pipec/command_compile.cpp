#include "tools/pipec/command.h"
#include "tools/pipec/compiler_flags.h"

#include "compiler/emit/job_artifacts.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace pipec::cli {

void registerCompileCommand(CLI::App& app) {
    struct Options {
        CompilerFlags flags;
        std::vector<std::string> paths;
        emit::ArtifactOptions artifacts;
    };
    auto options = std::make_shared<Options>();
    CLI::App* command = app.add_subcommand("compile", "Compile specs into deployable artifacts: per job a folder with the physical "
                                                      "plan (`pipec run --plan` executes it) and deployment manifests");
    command->add_option("paths", options->paths, "Spec files or directories")->required();
    command->add_option("-o,--output", options->artifacts.outputDirectory, "Output directory")->required();
    options->artifacts.addFlags(*command);
    options->flags.add(*command, "--diagnostics-format");
    options->flags.addDenyWarnings(*command);
    command->callback([options] {
        options->flags.finish();
        options->artifacts.resolveFormats();
        options->flags.options.keepStages = true;  // the Flink target rewrites the SQL using the AST's spans
        driver::Compilation compilation;
        driver::compile(options->paths, options->flags.options, compilation);
        size_t errors = options->flags.report(compilation);
        if (errors) throw CLI::RuntimeError(1);
        DiagnosticEngine emitDiagnostics;
        std::vector<emit::JobComparison> comparisons;
        auto written = emit::writeArtifacts(compilation, options->artifacts, emitDiagnostics, &comparisons);
        if (!emitDiagnostics.all().empty()) {
            DiagnosticFormat format = options->flags.format == "json"     ? DiagnosticFormat::Json
                                      : options->flags.format == "github" ? DiagnosticFormat::GitHub
                                                                          : DiagnosticFormat::Text;
            (format == DiagnosticFormat::Text ? std::cerr : std::cout) << renderAll(emitDiagnostics.all(), compilation.sources, format);
        }
        if (emitDiagnostics.hasErrors()) throw CLI::RuntimeError(1);
        if (options->artifacts.markdownSummary) {
            // stdout is the summary alone, so it can go straight to $GITHUB_STEP_SUMMARY or a PR comment.
            for (const auto& line : written) std::cerr << line << "\n";
            std::cout << emit::pullRequestSummary(comparisons);
            return;
        }
        for (const auto& line : written) std::cout << line << "\n";
    });
}

} // namespace pipec::cli
