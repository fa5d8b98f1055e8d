#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/emit/proxy_manifests.h"
#include "compiler/emit/pull_request_summary.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace pipec::emit {

struct ArtifactOptions {
    std::string outputDirectory;
    std::string target = "kubernetes";  // kubernetes | flink
    std::string format = "yaml";        // yaml | helm (kubernetes target)
    std::vector<std::string> formats;   // --format as given: yaml, helm, markdown
    bool markdownSummary = false;       // print the pull-request summary (with `against`) instead of the job lines
    std::string image = "pipec:" PIPEC_VERSION;
    std::string flinkImage = "pipec-flink:1.19";  // --target flink: Flink 1.19 with the SQL runner and connectors
    std::string gitRevision;            // default: `git rev-parse HEAD` of the specs' repository, else "unknown"
    bool horizontalAutoscaler = false;
    int partitions = 0;
    std::string against;                // a previous output directory to check state compatibility against
    ProxyDeploymentOptions proxy;       // --proxy: also the manifests of `pipec proxy` for these jobs
    void addFlags(CLI::App& command);
    /// Splits --format into the manifest format and the summary; a usage error for yaml and helm together.
    void resolveFormats();
};

/// Writes each compiled job's folder under `outputDirectory` — `plan.pb` (the serialized plan::Job, what
/// `pipec run --plan` executes), `plan.txt`, `spec.yaml` (the resolved spec), `digest`, and the target's manifests —
/// plus `index.json`, and with `against` a compatibility report. Output bytes are deterministic.
/// Returns the lines to print (one per job, and the compatibility table); with `against`, `comparisons` (when given)
/// receives each job compared with the previous output, for the pull-request summary.
std::vector<std::string> writeArtifacts(const driver::Compilation& compilation, const ArtifactOptions& options,
                                        DiagnosticEngine& diagnostics, std::vector<JobComparison>* comparisons = nullptr);

/// Serializes a job deterministically (same job → same bytes), for digests and reproducible artifacts.
std::string serializeJob(const plan::Job& job);

/// Whether a new plan keeps the state of an old one: "unchanged", "compatible: …" or "incompatible: …".
std::string compareState(const plan::Job& before, const plan::Job& after);

} // namespace pipec::emit
