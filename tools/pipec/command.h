#pragma once

#include <CLI/CLI.hpp>

namespace pipec::cli {

/// Each `pipec` subcommand lives in its own command_<name>.cpp and registers itself on the app.
/// Commands report failure by throwing CLI::RuntimeError(exitCode) after printing their diagnostics.
void registerValidateCommand(CLI::App& app);
void registerExplainCommand(CLI::App& app);
void registerCompileCommand(CLI::App& app);
void registerRunCommand(CLI::App& app);
void registerBrokerCommand(CLI::App& app);
void registerProduceCommand(CLI::App& app);
void registerSchemaCommand(CLI::App& app);
void registerProxyCommand(CLI::App& app);
void registerTestCommand(CLI::App& app);

} // namespace pipec::cli
