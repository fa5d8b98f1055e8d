#include "tools/pipec/command.h"
#include "tools/pipec/compiler_flags.h"

#include "compiler/lower/lower.h"

#include <iostream>
#include <memory>

namespace pipec::cli {

void registerExplainCommand(CLI::App& app) {
    struct Options {
        CompilerFlags flags;
        std::string spec;
        std::string stage = "logical";
        std::string job;
    };
    auto options = std::make_shared<Options>();
    CLI::App* command = app.add_subcommand("explain", "Print a compilation stage of each job of a spec: the SQL AST, the bound "
                                                      "logical plan, the optimized plan or the physical pipeline");
    command->add_option("spec", options->spec, "Spec file")->required();
    command->add_option("--stage", options->stage, "Stage to print")
        ->check(CLI::IsMember({"ast", "logical", "optimized", "physical"}))
        ->capture_default_str();
    command->add_option("--job", options->job, "Only this source job");
    options->flags.add(*command);
    command->callback([options] {
        options->flags.finish();
        options->flags.options.keepStages = true;
        driver::Compilation compilation;
        driver::compile({options->spec}, options->flags.options, compilation);
        size_t errors = options->flags.report(compilation);
        if (errors) throw CLI::RuntimeError(1);
        bool first = true;
        for (const auto& job : compilation.jobs) {
            if (!options->job.empty() && job.source.name.value != options->job) continue;
            if (!first) std::cout << "\n";
            first = false;
            std::cout << "== " << job.source.name.value << " (" << options->stage << ")\n";
            if (options->stage == "ast") std::cout << sql::printAst(*job.ast);
            else if (options->stage == "logical") std::cout << logical::printPlan(*job.logicalPlan);
            else if (options->stage == "optimized") std::cout << logical::printPlan(job.optimizedPlan);
            else std::cout << lower::printPhysical(job.pipeline);
            for (const auto& feature : job.features) {
                std::cout << "Feature " << feature.name << " column=" << feature.column << " key=[";
                for (size_t i = 0; i < feature.keyColumns.size(); ++i) std::cout << (i ? ", " : "") << feature.keyColumns[i];
                std::cout << "] ttl=" << feature.ttlSeconds << "s sinks=[";
                for (size_t i = 0; i < feature.sinks.size(); ++i) std::cout << (i ? ", " : "") << feature.sinks[i];
                std::cout << "]\n";
            }
        }
        if (first && !options->job.empty()) {
            std::cerr << "error: no job named `" << options->job << "` in " << options->spec << "\n";
            throw CLI::RuntimeError(2);
        }
    });
}

} // namespace pipec::cli
