#pragma once

#include "compiler/driver/compilation.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace pipec::emit {

struct ArtifactOptions {
    std::string outputDirectory;
    void addFlags(CLI::App& command);
};

/// Writes each compiled job's folder under `outputDirectory`: `plan.pb` (the serialized plan::Job, deterministic
/// bytes) and `plan.txt` (its readable physical plan). Returns one summary line per job written.
std::vector<std::string> writeArtifacts(const driver::Compilation& compilation, const ArtifactOptions& options,
                                        DiagnosticEngine& diagnostics);

/// Serializes a job deterministically (same job → same bytes), for digests and reproducible artifacts.
std::string serializeJob(const plan::Job& job);

} // namespace pipec::emit
