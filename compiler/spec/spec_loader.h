#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/spec/spec_model.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::spec {

/// Reads and parses one spec file; registers its text with `sources` (key = path as given); reports diagnostics.
/// Returns nullopt only when the file cannot be read or is not YAML at all (after reporting why).
std::optional<SpecFile> loadSpecFile(const std::string& path, SourceManager& sources, DiagnosticEngine& diagnostics);
std::optional<SpecFile> loadSpecText(const std::string& path, std::string text, SourceManager& sources,
                                     DiagnosticEngine& diagnostics);

/// Expands files and directories (recursively, *.yaml / *.yml, sorted, skipping environment configs named
/// pipec.yaml / pipec.yml and spec tests named *.test.yaml) into spec paths; a missing path is E0001.
std::vector<std::string> collectSpecPaths(const std::vector<std::string>& inputs, DiagnosticEngine& diagnostics);

/// Cross-file checks: duplicate source and feature names, features naming no source.
void checkReferences(const std::vector<SpecFile>& specs, DiagnosticEngine& diagnostics);

/// The sinks and clusters the specs name that `environment` does not define (E0106, E0107). The messages do not
/// name the environment: the caller records it (DiagnosticEngine::addForEnvironment).
void checkEnvironmentReferences(const std::vector<SpecFile>& specs, const Environment& environment, DiagnosticEngine& diagnostics);

/// A duration as written in a spec: a whole number and a unit.
struct Duration {
    enum class Status { Valid, Invalid, MissingUnit, OutOfRange };
    Status status = Status::Invalid;
    int64_t milliseconds = 0;
    std::string number;  // the digits as written, for the suggestions of a missing unit
};

/// Reads a duration such as `1500ms`, `5s`, `2m`, `1h`, `1d` with a hand-written scanner (linear in the text; no
/// regex engine runs on user input). A number without a unit is MissingUnit (`5` could mean 5 ms or 5 s), except `0`,
/// which is the same in every unit. More than kMaxDurationMs (2^60 ms) is OutOfRange, checked without overflow.
Duration parseDuration(std::string_view text);

/// Kubernetes quantities as resource_config uses them: `2400m`, `2`, `0.5` for CPU; `1Gi`, `512Mi`, `1G` for memory.
bool validQuantity(std::string_view text, bool memory);

} // namespace pipec::spec
