#pragma once

#include "compiler/common/diagnostics.h"
#include "compiler/driver/compilation.h"

#include <pipec/plan.pb.h>

#include <string>
#include <string_view>
#include <vector>

/// What the fuzz targets of tests/fuzz share: the repository's example specs compiled once, a file to hand inputs
/// to entry points that read files, and the invariants every target checks on its way out.
namespace pipec::fuzz {

/// A path of the source tree (`examples/`, `schemas/`, `pipec.yaml`).
std::string sourcePath(std::string_view relative);

/// Compile options for the repository's specs: its `schemas/` and `pipec.yaml`, every environment of it checked.
driver::CompileOptions exampleCompileOptions();

/// The jobs of `examples/*.yaml`, compiled once with their environment (`local`): the plans `pipec run --plan` and
/// `pipec test` run. Aborts when an example does not compile: a fuzz run on a broken tree finds nothing.
const std::vector<plan::Job>& exampleJobs();

/// The path of `name` in a directory of this process under $TMPDIR (created on first use, removed at exit).
std::string scratchPath(std::string_view name);

/// Writes `data` to scratchPath(name) and returns that path: for the entry points that take a path, as the `pipec`
/// commands do.
std::string writeScratchFile(std::string_view name, std::string_view data);
/// Writes `data` to `path`; aborts when it cannot.
void writeFile(const std::string& path, std::string_view data);

/// Renders every diagnostic as each output format does (text with snippets, GitHub annotations, JSON): the renderers
/// see whatever text the input carried.
void renderEveryFormat(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources);

/// Every compiled artifact must read back: the job serialized as plan.pb parses again (`pipec run --plan`), and to
/// the same message. Aborts otherwise.
void checkJobReadsBack(const plan::Job& job);

} // namespace pipec::fuzz
