#include "tools/pipec/compiler_flags.h"

#include "compiler/optimize/optimizer.h"
#include "runtime/sources/kafka_properties.h"

#include <fmt/format.h>

#include <iostream>
#include <unistd.h>

namespace pipec::cli {

void CompilerFlags::add(CLI::App& command, const std::string& diagnosticsFlag, bool everyEnvironment) {
    command.add_option("--proto-path,-I", options.protoPaths, "Extra directories of .proto files (the nearest schemas/ is always searched)");
    if (everyEnvironment) {
        options.environmentName.clear();
        command.add_option("--env", options.environmentName,
                           "Environment section of the environment config (local, staging, prod), or `all` "
                           "(default: all when the environment config defines several, else local)");
    } else {
        command.add_option("--env", options.environmentName, "Environment section of the environment config (local, staging, prod)")
            ->capture_default_str()
            ->check([](const std::string& value) {
                return value == "all" ? std::string("`--env all` is for `pipec validate`; pick one environment") : std::string();
            });
    }
    command.add_option("--env-file", options.environmentFile, "Environment config file (default: the nearest pipec.yaml)");
    command.add_option("--set", options.overrides, "Override an environment setting, e.g. --set sinks.features.address=127.0.0.1:6380");
    std::string passNames;
    for (const auto& pass : optimize::passes()) passNames += (passNames.empty() ? "" : ", ") + pass.name;
    command.add_option("--disable-pass", disabledPasses, "Disable an optimizer pass by name (" + passNames + ")");
    command.add_option(diagnosticsFlag, format, "Diagnostics format")->check(CLI::IsMember({"text", "github", "json"}))->capture_default_str();
    command.add_option("--color", color, "Colored diagnostics")->check(CLI::IsMember({"auto", "always", "never"}))->capture_default_str();
}

void CompilerFlags::finish() {
    options.checkKafkaProperty = [](const std::string& name, const std::string& value) -> std::optional<std::string> {
        std::optional<std::string> error = runtime::checkKafkaProperty(name, value);
        if (error && error->find("No such configuration property") != std::string::npos) {
            std::string suggestion = closestMatch(name, runtime::kafkaPropertyNames());
            if (!suggestion.empty()) *error += fmt::format(" (did you mean `{}`?)", suggestion);
        }
        return error;
    };
    for (const auto& name : disabledPasses) {
        bool known = false;
        for (const auto& pass : optimize::passes()) known = known || pass.name == name;
        if (!known) throw CLI::ValidationError("--disable-pass", "unknown optimizer pass `" + name + "`");
        options.disabledPasses.insert(name);
    }
}

void CompilerFlags::addDenyWarnings(CLI::App& command) {
    command.add_flag("--deny-warnings,-D", denyWarnings, "Treat warnings as errors (exit 1), as rustc's -D warnings");
}

size_t CompilerFlags::report(driver::Compilation& compilation) const {
    if (denyWarnings) compilation.diagnostics.denyWarnings();
    const auto& all = compilation.diagnostics.all();
    if (format == "text") {
        bool useColor = color == "always" || (color == "auto" && isatty(STDERR_FILENO));
        std::cerr << renderAll(all, compilation.sources, DiagnosticFormat::Text, useColor);
    } else {
        std::cout << renderAll(all, compilation.sources, format == "json" ? DiagnosticFormat::Json : DiagnosticFormat::GitHub);
    }
    return compilation.diagnostics.errorCount();
}

} // namespace pipec::cli
