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
    options->flags.add(*command);
    command->callback([options] {
        options->flags.finish();
        driver::Compilation compilation;
        driver::compile(options->paths, options->flags.options, compilation);
        size_t errors = options->flags.report(compilation);
        if (errors) throw CLI::RuntimeError(1);
        DiagnosticEngine emitDiagnostics;
        auto written = emit::writeArtifacts(compilation, options->artifacts, emitDiagnostics);
        if (!emitDiagnostics.all().empty())
            std::cerr << renderAll(emitDiagnostics.all(), compilation.sources, DiagnosticFormat::Text);
        if (emitDiagnostics.hasErrors()) throw CLI::RuntimeError(1);
        for (const auto& line : written) std::cout << line << "\n";
    });
}

} // namespace pipec::cli
