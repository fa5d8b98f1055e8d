// Fuzz target: a YAML spec file → the whole compiler, as `pipec validate` and `pipec compile` run it (the driver,
// against the repository's schemas and every environment of its pipec.yaml), then the artifacts of the jobs that
// compiled. Checked: no crash, hang or undefined behaviour; every diagnostic renders in every format; every compiled
// plan reads back.
#include "compiler/driver/compilation.h"
#include "compiler/emit/job_artifacts.h"
#include "runtime/core/user_error.h"
#include "tests/fuzz/fuzz_inputs.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace pipec;
    const std::string path = fuzz::writeScratchFile("spec.yaml", std::string_view(reinterpret_cast<const char*>(data), size));

    driver::Compilation compilation;
    driver::compile({path}, fuzz::exampleCompileOptions(), compilation);
    if (!compilation.diagnostics.hasErrors()) {
        for (const auto& job : compilation.jobs) fuzz::checkJobReadsBack(driver::buildJob(compilation, job));
        // `pipec compile -o`: plan.pb, plan.txt, spec.yaml and the Kubernetes manifests of each job.
        emit::ArtifactOptions artifacts;
        artifacts.outputDirectory = fuzz::scratchPath("out");
        artifacts.gitRevision = "fuzz";  // not `git rev-parse HEAD` on every input
        artifacts.resolveFormats();
        try {
            (void)emit::writeArtifacts(compilation, artifacts, compilation.diagnostics);
        } catch (const UserError&) {
            // A refusal the user is told about (`pipec compile` exits 2), not a bug; anything else thrown is one.
        }
        std::error_code error;
        std::filesystem::remove_all(artifacts.outputDirectory, error);
    }
    fuzz::renderEveryFormat(compilation.diagnostics.all(), compilation.sources);
    return 0;
}
