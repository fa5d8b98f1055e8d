#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/spec/spec_model.h"

#include <optional>
#include <string>
#include <vector>

namespace pipec::spec {

/// Reads and parses one spec file; registers its text with `sources` (key = path as given); reports diagnostics.
/// Returns nullopt only when the file cannot be read or is not YAML at all (after reporting why).
std::optional<SpecFile> loadSpecFile(const std::string& path, SourceManager& sources, DiagnosticEngine& diagnostics);
std::optional<SpecFile> loadSpecText(const std::string& path, std::string text, SourceManager& sources,
                                     DiagnosticEngine& diagnostics);

/// Expands files and directories (recursively, *.yaml / *.yml, sorted, skipping environment configs named
/// pipec.yaml / pipec.yml) into spec paths; a missing path is E0001.
std::vector<std::string> collectSpecPaths(const std::vector<std::string>& inputs, DiagnosticEngine& diagnostics);

/// Cross-file checks: duplicate source and feature names, features naming no source, sinks and clusters missing
/// from `environment` (skipped when it is null).
void checkReferences(const std::vector<SpecFile>& specs, const Environment* environment, DiagnosticEngine& diagnostics);

/// Parses a duration such as `1500ms`, `5s`, `2m`, `1h`, `1d` (a bare integer is milliseconds); nullopt when invalid.
std::optional<int64_t> parseDuration(const std::string& text);

} // namespace pipec::spec
