#include "tools/pipec/command.h"
#include "tools/pipec/compiler_flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

namespace pipec::cli {

void registerValidateCommand(CLI::App& app) {
    auto flags = std::make_shared<CompilerFlags>();
    auto paths = std::make_shared<std::vector<std::string>>();
    CLI::App* command = app.add_subcommand("validate", "Check specs: YAML structure, references, SQL syntax and types. "
                                                       "Exit 0 when clean, 1 on any error, 2 on usage errors.");
    command->add_option("paths", *paths, "Spec files or directories (searched recursively for *.yaml)")->required();
    flags->add(*command, "--format", true);
    flags->addDenyWarnings(*command);
    command->callback([flags, paths] {
        flags->finish();
        driver::Compilation compilation;
        driver::compile(*paths, flags->options, compilation);
        driver::noteExchanges(compilation);
        size_t errors = flags->report(compilation);
        size_t warnings = static_cast<size_t>(std::count_if(compilation.diagnostics.all().begin(), compilation.diagnostics.all().end(),
                                                            [](const Diagnostic& d) { return d.severity == Severity::Warning; }));
        size_t features = 0;
        for (const auto& job : compilation.jobs) features += job.features.size();
        if (flags->format == "text") {
            std::string environments;
            if (compilation.environmentNames.size() > 1) environments = fmt::format(" in environments {}", fmt::join(compilation.environmentNames, ", "));
            std::cerr << fmt::format("{}: {} spec file{}, {} job{}, {} feature{}{}: {} error{}, {} warning{}\n",
                                     errors ? "failed" : "ok", compilation.specs.size(), compilation.specs.size() == 1 ? "" : "s",
                                     compilation.jobs.size(), compilation.jobs.size() == 1 ? "" : "s", features, features == 1 ? "" : "s",
                                     environments, errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
        }
        if (errors) throw CLI::RuntimeError(1);
    });
}

} // namespace pipec::cli
