#include "tools/pipec/command.h"

#include "runtime/core/user_error.h"

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
    pipec::cli::registerProxyCommand(app);
    pipec::cli::registerTestCommand(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& error) {
        // Commands print their own diagnostics before failing.
        return error.get_exit_code();
    } catch (const CLI::ParseError& error) {
        // Usage errors exit 2 (1 is reserved for "the specs have errors").
        int code = app.exit(error);
        return code == 0 ? 0 : 2;
    } catch (const pipec::UserError& error) {
        // Something the user can fix (a path, a setting, an unreachable or refusing service): no "internal".
        std::cerr << "error: " << error.what() << "\n";
        return error.exitCode();
    } catch (const std::exception& error) {
        // Only a broken invariant gets here: every failure a user can cause is a UserError or a diagnostic.
        std::cerr << "pipec: internal error: " << error.what() << "\n";
        return 3;
    }
    return 0;
}
