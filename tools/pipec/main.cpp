#include "tools/pipec/command.h"

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"pipec — compiles and runs declarative streaming feature pipelines (YAML + streaming SQL)", "pipec"};
    app.set_version_flag("--version", std::string("pipec ") + PIPEC_VERSION);
    app.require_subcommand(1);
    app.fallthrough(false);
    pipec::cli::registerValidateCommand(app);
    pipec::cli::registerExplainCommand(app);
    pipec::cli::registerCompileCommand(app);
    pipec::cli::registerRunCommand(app);
    pipec::cli::registerBrokerCommand(app);
    pipec::cli::registerProduceCommand(app);
    pipec::cli::registerSchemaCommand(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& error) {
        // Commands print their own diagnostics before failing.
        return error.get_exit_code();
    } catch (const CLI::ParseError& error) {
        // Usage errors exit 2 (1 is reserved for "the specs have errors").
        int code = app.exit(error);
        return code == 0 ? 0 : 2;
    } catch (const std::exception& error) {
        std::cerr << "pipec: internal error: " << error.what() << "\n";
        return 3;
    }
    return 0;
}
