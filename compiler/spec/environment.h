#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/spec/spec_model.h"

#include <optional>
#include <string>
#include <vector>

namespace pipec::spec {

/// Finds the environment config for a spec: `pipec.yaml` (or .yml) in the spec's directory or any parent; "" if none.
std::string findEnvironmentFile(const std::string& specPath);

/// Loads section `name` of an environment config, then applies overrides "dotted.key=value"
/// (`clusters.NAME.bootstrap_servers=…`, `clusters.NAME.properties.KEY=…`, `sinks.NAME.KEY=…`).
std::optional<Environment> loadEnvironment(const std::string& path, const std::string& name,
                                           const std::vector<std::string>& overrides, SourceManager& sources,
                                           DiagnosticEngine& diagnostics);

/// The names of the environments an environment config defines, in file order; empty when the file cannot be read
/// or is not a map (loadEnvironment then reports why).
std::vector<std::string> environmentNames(const std::string& path);

/// The `${NAME}` references in a setting's value, in order (NAME: a letter or `_`, then letters, digits, `_`).
std::vector<std::string> environmentReferences(const std::string& value);

/// The embedded defaults used when no config file exists: `local` = cluster "default" on the embedded broker and
/// no sinks (runs print to stdout). Other names are an error (E0121).
std::optional<Environment> defaultEnvironment(const std::string& name, DiagnosticEngine& diagnostics);

} // namespace pipec::spec
