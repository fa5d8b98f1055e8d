#pragma once

#include "compiler/driver/compilation.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace pipec::cli {

/// The flags every compiling command shares (proto paths, environment, overrides, disabled passes, output format).
struct CompilerFlags {
    driver::CompileOptions options;
    std::vector<std::string> disabledPasses;
    std::string format = "text";
    std::string color = "auto";

    bool denyWarnings = false;

    /// `diagnosticsFlag` names the diagnostics-format option (`compile` uses --format for its manifests).
    /// `everyEnvironment`: `--env all` is allowed, and the default when the environment config has several.
    void add(CLI::App& command, const std::string& diagnosticsFlag = "--format", bool everyEnvironment = false);
    /// Adds `--deny-warnings`, which turns every warning into an error (exit 1), for CI.
    void addDenyWarnings(CLI::App& command);
    /// Validates flag values (unknown pass names are usage errors) and fills `options`.
    void finish();
    /// Applies --deny-warnings, prints the compilation's diagnostics in the chosen format; returns the number of errors.
    size_t report(driver::Compilation& compilation) const;
};

} // namespace pipec::cli
