#include "tools/pipec/command.h"

#include "runtime/core/user_error.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <execinfo.h>
#include <unistd.h>

namespace {

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_UNDEFINED__)
/// A crash (a bug in pipec or in a library it links) says where it happened before the process dies of the signal:
/// the stack on stderr, so that a member that crashed under a supervisor or in a test leaves more than its exit status.
/// Only async-signal-safe calls; backtrace() was called once at startup, so it does not load libgcc here. Sanitizer
/// builds keep their own handlers, which report more.
void onCrash(int signal) {
    const char* name = signal == SIGSEGV ? "SIGSEGV" : signal == SIGBUS ? "SIGBUS" : signal == SIGFPE ? "SIGFPE" : signal == SIGILL ? "SIGILL" : "SIGABRT";
    const char* head = "pipec: internal error: crashed with ";
    (void)!write(STDERR_FILENO, head, std::strlen(head));
    (void)!write(STDERR_FILENO, name, std::strlen(name));
    (void)!write(STDERR_FILENO, "; stack:\n", 9);
    void* frames[64];
    int count = backtrace(frames, 64);
    backtrace_symbols_fd(frames, count, STDERR_FILENO);
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}

void reportCrashes() {
    void* warmUp[1];
    backtrace(warmUp, 1);
    for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(signal, onCrash);
}
#else
void reportCrashes() {}
#endif

} // namespace

int main(int argc, char** argv) {
    reportCrashes();
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
