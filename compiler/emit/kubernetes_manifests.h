#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/emit/yaml_writer.h"

#include <string>
#include <string_view>
#include <vector>

namespace pipec::emit {

/// What the deployment of one job needs besides the job itself.
struct DeploymentSettings {
    std::string image = "pipec:" PIPEC_VERSION;
    std::string gitRevision = "unknown";
    std::string specFile;        // as given on the command line, relative to the working directory
    std::string digest;          // content digest of the plan and resolved spec
    bool horizontalAutoscaler = false;
    int partitions = 0;          // the topic's partition count, bounding the autoscaler; 0 = unknown
    int metricsPort = 9102;
    bool helm = false;           // emit Helm template expressions for image, replicas and resources
    std::vector<spec::SecretReference> secrets;  // the `${NAME}` references the job's settings use, mounted as env vars
    std::string flinkImage = "pipec-flink:1.19";  // the Flink target's image: Flink, the SQL runner and the connectors
};

/// An RFC 1123 name for a job (`canary_store_order_count` → `pipec-canary-store-order-count`), at most 63 chars.
std::string kubernetesName(const std::string& jobName);

/// The Kubernetes objects of one job: ConfigMap (the plan), Deployment, Service (metrics, Prometheus annotations),
/// PodDisruptionBudget and, when asked and bounded by the partition count, a HorizontalPodAutoscaler.
std::vector<YamlNode> kubernetesObjects(const driver::CompiledJob& job, const std::string& planBytes,
                                        const DeploymentSettings& settings);

/// The container command that runs the job from its mounted plan.
std::vector<std::string> containerCommand(const driver::CompiledJob& job, const DeploymentSettings& settings);

/// The container's `env`: each secret reference as an environment variable read from its Kubernetes Secret.
YamlNode secretEnvironment(const std::vector<spec::SecretReference>& secrets);

/// YAML documents joined with `---`.
std::string joinDocuments(const std::vector<YamlNode>& documents);

/// Standard base64 with padding, as ConfigMap `binaryData` holds bytes.
std::string base64Encode(std::string_view bytes);

/// Kubernetes CPU quantity ("2400m", "2", "0.5") as cores.
double cpuCores(const std::string& quantity);

} // namespace pipec::emit
