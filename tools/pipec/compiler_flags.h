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

    /// `diagnosticsFlag` names the diagnostics-format option (`compile` uses --format for its manifests).
    void add(CLI::App& command, const std::string& diagnosticsFlag = "--format");
    /// Validates flag values (unknown pass names are usage errors) and fills `options`.
    void finish();
    /// Prints the compilation's diagnostics in the chosen format; returns the number of errors.
    size_t report(const driver::Compilation& compilation) const;
};

} // namespace pipec::cli
