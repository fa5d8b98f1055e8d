#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/emit/yaml_writer.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace pipec::emit {

/// How `pipec compile --proxy` deploys `pipec proxy` (docs/proxy.md, "Deploying on Kubernetes").
struct ProxyDeploymentOptions {
    bool enabled = false;               // --proxy
    int minReplicas = 2;                // the Deployment's replicas and the autoscaler's floor
    int maxReplicas = 10;               // the autoscaler's ceiling
    int targetCpuUtilization = 70;      // percent of the CPU request, averaged over the pods
    std::string cpu = "1000m";          // request and limit per pod
    std::string memory = "512Mi";       // request and limit per pod
    std::string apiKeysSecret = "pipec-proxy-api-keys"; // a Secret with `api-keys.yaml` (never in a ConfigMap)
    std::string canaryTopic;            // readiness produces a test record here first (empty: metadata only)
    int port = 8082;

    void addFlags(CLI::App& command);
    /// Usage errors (bounds that contradict each other, a malformed quantity) as CLI::ValidationError.
    void validate() const;
};

/// One served topic's compiled plan, as the proxy Deployment mounts it.
struct ProxyPlan {
    std::string key;   // the ConfigMap key and file name: `<kubernetes name of the job>.pb`
    std::string bytes; // a plan::Job reduced to what the proxy reads: source topic, message, format, cluster
};

/// The plans the proxy serves, one per job, from the jobs' deployable plans (plan.pb as written by writeArtifacts).
ProxyPlan proxyPlan(const std::string& jobName, const std::string& deployablePlanBytes);

/// The Kubernetes objects of the proxy: ConfigMap (the plans), Deployment (probes on /readyz and /healthz, API keys
/// from the Secret as $PIPEC_PROXY_API_KEYS, resources), Service, PodDisruptionBudget and a HorizontalPodAutoscaler on
/// CPU. `digest` (of the plans and settings) is in the pod template, so a change of a plan rolls the pods.
std::vector<YamlNode> proxyKubernetesObjects(const std::vector<ProxyPlan>& plans, const ProxyDeploymentOptions& options,
                                             const std::string& image, const std::string& gitRevision,
                                             const std::string& digest);

/// The proxy container's command (also what the emit test runs locally).
std::vector<std::string> proxyContainerCommand(const std::vector<ProxyPlan>& plans, const ProxyDeploymentOptions& options);

/// Writes `<output>/proxy/kubernetes.yaml` and `<output>/proxy/digest` for the jobs that writeArtifacts wrote under
/// `outputDirectory`; returns the line to print. Errors (an unreadable plan, an unwritable file) go to `diagnostics`.
std::string writeProxyArtifacts(const driver::Compilation& compilation, const std::string& outputDirectory,
                                const ProxyDeploymentOptions& options, const std::string& image,
                                const std::string& gitRevision, DiagnosticEngine& diagnostics);

} // namespace pipec::emit
