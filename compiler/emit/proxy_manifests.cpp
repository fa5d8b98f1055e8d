#include "compiler/emit/proxy_manifests.h"

#include "compiler/emit/job_artifacts.h"
#include "compiler/emit/kubernetes_manifests.h"
#include "compiler/common/sha256.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace pipec::emit {

namespace fs = std::filesystem;

namespace {

constexpr const char* kProxyName = "pipec-proxy";
constexpr const char* kPlansDirectory = "/etc/pipec-proxy/plans";
/// The Secret's key that holds the API keys file (docs/proxy.md, "Authentication and authorization").
constexpr const char* kApiKeysSecretKey = "api-keys.yaml";

YamlNode proxyLabels() {
    YamlNode node = YamlNode::map();
    node.set("app.kubernetes.io/name", YamlNode::string("pipec"));
    node.set("app.kubernetes.io/instance", YamlNode::string(kProxyName));
    node.set("app.kubernetes.io/component", YamlNode::string("proxy"));
    node.set("app.kubernetes.io/managed-by", YamlNode::string("pipec"));
    return node;
}

YamlNode proxySelector() {
    YamlNode node = YamlNode::map();
    node.set("app.kubernetes.io/name", YamlNode::string("pipec"));
    node.set("app.kubernetes.io/instance", YamlNode::string(kProxyName));
    return node;
}

YamlNode proxyMetadata(const std::string& name, const std::string& gitRevision, const std::string& digest) {
    YamlNode node = YamlNode::map();
    node.set("name", YamlNode::string(name));
    node.set("labels", proxyLabels());
    YamlNode& annotations = node.set("annotations", YamlNode::map());
    annotations.set("pipec.dev/git-revision", YamlNode::string(gitRevision));
    annotations.set("pipec.dev/digest", YamlNode::string(digest));
    return node;
}

/// An HTTP probe on the proxy's own port: /readyz turns 200 once metadata and the canary record are through and
/// back to 503 while a cluster is unreachable; /healthz stays 200 while the process serves.
YamlNode httpProbe(const char* path, int periodSeconds, int failureThreshold) {
    YamlNode node = YamlNode::map();
    YamlNode& http = node.set("httpGet", YamlNode::map());
    http.set("path", YamlNode::string(path));
    http.set("port", YamlNode::string("http"));
    node.set("periodSeconds", YamlNode::number(periodSeconds));
    node.set("timeoutSeconds", YamlNode::number(2));
    node.set("failureThreshold", YamlNode::number(failureThreshold));
    return node;
}

bool validQuantity(const std::string& text, bool cpu) {
    static const std::regex cpuPattern(R"(([0-9]+m|[0-9]+(\.[0-9]+)?))");
    static const std::regex memoryPattern(R"([0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?)");
    return std::regex_match(text, cpu ? cpuPattern : memoryPattern);
}

std::string readFile(const fs::path& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    ok = static_cast<bool>(in);
    return buffer.str();
}

} // namespace

void ProxyDeploymentOptions::addFlags(CLI::App& command) {
    command.add_flag("--proxy", enabled,
                     "Also write proxy/kubernetes.yaml: `pipec proxy` serving the compiled jobs' topics (Deployment, "
                     "Service, PodDisruptionBudget, HorizontalPodAutoscaler on CPU)");
    command.add_option("--proxy-replicas", minReplicas, "Proxy pods at least (the autoscaler's floor)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    command.add_option("--proxy-max-replicas", maxReplicas, "Proxy pods at most (the autoscaler's ceiling)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    command.add_option("--proxy-cpu-target", targetCpuUtilization, "Average CPU utilization (%) the autoscaler keeps")
        ->capture_default_str()
        ->check(CLI::Range(10, 100));
    command.add_option("--proxy-cpu", cpu, "CPU request and limit of a proxy pod")->capture_default_str();
    command.add_option("--proxy-memory", memory, "Memory request and limit of a proxy pod")->capture_default_str();
    command.add_option("--proxy-api-keys-secret", apiKeysSecret,
                       "Secret holding the proxy's API keys file under the key `api-keys.yaml`")
        ->capture_default_str();
    command.add_option("--proxy-canary-topic", canaryTopic, "Readiness produces a test record to this topic first");
}

void ProxyDeploymentOptions::validate() const {
    if (minReplicas > maxReplicas)
        throw CLI::ValidationError("--proxy-replicas",
                                   fmt::format("{} is more than --proxy-max-replicas {}", minReplicas, maxReplicas));
    if (!validQuantity(cpu, true))
        throw CLI::ValidationError("--proxy-cpu", fmt::format("`{}` is not a CPU quantity (500m, 2)", cpu));
    if (!validQuantity(memory, false))
        throw CLI::ValidationError("--proxy-memory", fmt::format("`{}` is not a memory quantity (512Mi, 1Gi)", memory));
    static const std::regex secretName(R"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)");
    if (!std::regex_match(apiKeysSecret, secretName))
        throw CLI::ValidationError("--proxy-api-keys-secret",
                                   fmt::format("`{}` is not a Kubernetes object name", apiKeysSecret));
}

ProxyPlan proxyPlan(const std::string& jobName, const std::string& deployablePlanBytes) {
    plan::Job job;
    job.ParseFromString(deployablePlanBytes);
    // What `pipec proxy --plan` reads: the source's topic, message (with its descriptors), format and cluster, and
    // the cluster's settings. Without the query, the sinks and the columns, a change to them does not roll the proxy.
    plan::Job reduced;
    reduced.set_name(job.name());
    reduced.set_spec_file(job.spec_file());
    reduced.set_environment(job.environment());
    plan::Source& source = *reduced.mutable_pipeline()->mutable_source();
    const plan::Source& original = job.pipeline().source();
    source.set_cluster(original.cluster());
    source.set_topic(original.topic());
    source.set_message_type(original.message_type());
    *source.mutable_descriptors() = original.descriptors();
    source.set_format(original.format());
    *reduced.mutable_cluster_properties() = job.cluster_properties();
    return ProxyPlan{kubernetesName(jobName) + ".pb", serializeJob(reduced)};
}

std::vector<std::string> proxyContainerCommand(const std::vector<ProxyPlan>& plans, const ProxyDeploymentOptions& options) {
    std::vector<std::string> command = {"pipec", "proxy"};
    for (const auto& plan : plans) {
        command.push_back("--plan");
        command.push_back(fmt::format("{}/{}", kPlansDirectory, plan.key));
    }
    // Beyond loopback the proxy refuses to start without API keys: the Secret provides them.
    command.push_back("--listen");
    command.push_back(fmt::format("0.0.0.0:{}", options.port));
    if (!options.canaryTopic.empty()) {
        command.push_back("--canary-topic");
        command.push_back(options.canaryTopic);
    }
    return command;
}

std::vector<YamlNode> proxyKubernetesObjects(const std::vector<ProxyPlan>& plans, const ProxyDeploymentOptions& options,
                                             const std::string& image, const std::string& gitRevision,
                                             const std::string& digest) {
    std::vector<YamlNode> objects;

    YamlNode configMap = YamlNode::map();
    configMap.set("apiVersion", YamlNode::string("v1"));
    configMap.set("kind", YamlNode::string("ConfigMap"));
    configMap.set("metadata", proxyMetadata(std::string(kProxyName) + "-plans", gitRevision, digest));
    YamlNode& binaryData = configMap.set("binaryData", YamlNode::map());
    for (const auto& plan : plans) binaryData.set(plan.key, YamlNode::string(base64Encode(plan.bytes)));
    objects.push_back(std::move(configMap));

    YamlNode deployment = YamlNode::map();
    deployment.set("apiVersion", YamlNode::string("apps/v1"));
    deployment.set("kind", YamlNode::string("Deployment"));
    deployment.set("metadata", proxyMetadata(kProxyName, gitRevision, digest));
    YamlNode& spec = deployment.set("spec", YamlNode::map());
    spec.set("replicas", YamlNode::number(options.minReplicas));
    spec.set("selector", YamlNode::map()).set("matchLabels", proxySelector());
    YamlNode& strategy = spec.set("strategy", YamlNode::map());
    strategy.set("type", YamlNode::string("RollingUpdate"));
    YamlNode& rolling = strategy.set("rollingUpdate", YamlNode::map());
    // Stateless pods: a new one becomes ready (metadata, canary) before an old one stops, so capacity never drops.
    rolling.set("maxUnavailable", YamlNode::number(0));
    rolling.set("maxSurge", YamlNode::number(1));
    YamlNode& podTemplate = spec.set("template", YamlNode::map());
    YamlNode& podMetadata = podTemplate.set("metadata", YamlNode::map());
    podMetadata.set("labels", proxyLabels());
    YamlNode& podAnnotations = podMetadata.set("annotations", YamlNode::map());
    podAnnotations.set("pipec.dev/digest", YamlNode::string(digest));
    podAnnotations.set("prometheus.io/scrape", YamlNode::string("true"));
    podAnnotations.set("prometheus.io/port", YamlNode::string(std::to_string(options.port)));
    podAnnotations.set("prometheus.io/path", YamlNode::string("/metrics"));
    YamlNode& podSpec = podTemplate.set("spec", YamlNode::map());
    // At SIGTERM the proxy answers the requests in progress and flushes its queue for up to the delivery timeout
    // (30 s by default): the grace period covers both.
    podSpec.set("terminationGracePeriodSeconds", YamlNode::number(45));
    YamlNode& container = podSpec.set("containers", YamlNode::list()).add(YamlNode::map());
    container.set("name", YamlNode::string("proxy"));
    container.set("image", YamlNode::string(image));
    YamlNode& command = container.set("command", YamlNode::list());
    for (const auto& part : proxyContainerCommand(plans, options)) command.add(YamlNode::string(part));
    YamlNode& environment = container.set("env", YamlNode::list());
    YamlNode& keys = environment.add(YamlNode::map());
    keys.set("name", YamlNode::string("PIPEC_PROXY_API_KEYS"));
    YamlNode& secretReference = keys.set("valueFrom", YamlNode::map()).set("secretKeyRef", YamlNode::map());
    secretReference.set("name", YamlNode::string(options.apiKeysSecret));
    secretReference.set("key", YamlNode::string(kApiKeysSecretKey));
    YamlNode& port = container.set("ports", YamlNode::list()).add(YamlNode::map());
    port.set("name", YamlNode::string("http"));
    port.set("containerPort", YamlNode::number(options.port));
    port.set("protocol", YamlNode::string("TCP"));
    YamlNode& resources = container.set("resources", YamlNode::map());
    for (const char* kind : {"requests", "limits"}) {
        YamlNode& entry = resources.set(kind, YamlNode::map());
        entry.set("cpu", YamlNode::string(options.cpu));
        entry.set("memory", YamlNode::string(options.memory));
    }
    container.set("readinessProbe", httpProbe("/readyz", 5, 2));
    container.set("livenessProbe", httpProbe("/healthz", 10, 3));
    YamlNode& security = container.set("securityContext", YamlNode::map());
    security.set("allowPrivilegeEscalation", YamlNode::boolean(false));
    security.set("readOnlyRootFilesystem", YamlNode::boolean(true));
    YamlNode& mount = container.set("volumeMounts", YamlNode::list()).add(YamlNode::map());
    mount.set("name", YamlNode::string("plans"));
    mount.set("mountPath", YamlNode::string(kPlansDirectory));
    mount.set("readOnly", YamlNode::boolean(true));
    YamlNode& volume = podSpec.set("volumes", YamlNode::list()).add(YamlNode::map());
    volume.set("name", YamlNode::string("plans"));
    volume.set("configMap", YamlNode::map()).set("name", YamlNode::string(std::string(kProxyName) + "-plans"));
    objects.push_back(std::move(deployment));

    YamlNode service = YamlNode::map();
    service.set("apiVersion", YamlNode::string("v1"));
    service.set("kind", YamlNode::string("Service"));
    service.set("metadata", proxyMetadata(kProxyName, gitRevision, digest));
    YamlNode& serviceSpec = service.set("spec", YamlNode::map());
    serviceSpec.set("type", YamlNode::string("ClusterIP"));
    serviceSpec.set("selector", proxySelector());
    YamlNode& servicePort = serviceSpec.set("ports", YamlNode::list()).add(YamlNode::map());
    servicePort.set("name", YamlNode::string("http"));
    servicePort.set("port", YamlNode::number(options.port));
    servicePort.set("targetPort", YamlNode::string("http"));
    servicePort.set("protocol", YamlNode::string("TCP"));
    objects.push_back(std::move(service));

    YamlNode budget = YamlNode::map();
    budget.set("apiVersion", YamlNode::string("policy/v1"));
    budget.set("kind", YamlNode::string("PodDisruptionBudget"));
    budget.set("metadata", proxyMetadata(kProxyName, gitRevision, digest));
    YamlNode& budgetSpec = budget.set("spec", YamlNode::map());
    // One pod at a time may be evicted; with a single replica that still lets a node drain (no pod would otherwise
    // ever be evictable), at the cost of a short gap the client's retries cover.
    budgetSpec.set("maxUnavailable", YamlNode::number(1));
    budgetSpec.set("selector", YamlNode::map()).set("matchLabels", proxySelector());
    objects.push_back(std::move(budget));

    YamlNode autoscaler = YamlNode::map();
    autoscaler.set("apiVersion", YamlNode::string("autoscaling/v2"));
    autoscaler.set("kind", YamlNode::string("HorizontalPodAutoscaler"));
    autoscaler.set("metadata", proxyMetadata(kProxyName, gitRevision, digest));
    YamlNode& autoscalerSpec = autoscaler.set("spec", YamlNode::map());
    YamlNode& target = autoscalerSpec.set("scaleTargetRef", YamlNode::map());
    target.set("apiVersion", YamlNode::string("apps/v1"));
    target.set("kind", YamlNode::string("Deployment"));
    target.set("name", YamlNode::string(kProxyName));
    autoscalerSpec.set("minReplicas", YamlNode::number(options.minReplicas));
    autoscalerSpec.set("maxReplicas", YamlNode::number(options.maxReplicas));
    YamlNode& metric = autoscalerSpec.set("metrics", YamlNode::list()).add(YamlNode::map());
    metric.set("type", YamlNode::string("Resource"));
    YamlNode& resource = metric.set("resource", YamlNode::map());
    resource.set("name", YamlNode::string("cpu"));
    YamlNode& utilization = resource.set("target", YamlNode::map());
    utilization.set("type", YamlNode::string("Utilization"));
    utilization.set("averageUtilization", YamlNode::number(options.targetCpuUtilization));
    objects.push_back(std::move(autoscaler));
    return objects;
}

std::string writeProxyArtifacts(const driver::Compilation& compilation, const std::string& outputDirectory,
                                const ProxyDeploymentOptions& options, const std::string& image,
                                const std::string& gitRevision, DiagnosticEngine& diagnostics) {
    fs::path root(outputDirectory);
    std::vector<ProxyPlan> plans;
    std::string digestInput;
    for (const auto& job : compilation.jobs) {
        const std::string& jobName = job.source.name.value;
        bool ok = false;
        std::string bytes = readFile(root / jobName / "plan.pb", ok);
        // A job whose artifacts were not written has its error reported already.
        if (!ok) continue;
        plans.push_back(proxyPlan(jobName, bytes));
    }
    std::sort(plans.begin(), plans.end(), [](const ProxyPlan& a, const ProxyPlan& b) { return a.key < b.key; });
    for (const auto& plan : plans) digestInput += plan.key + '\0' + plan.bytes + '\0';
    std::string digest = sha256Hex(digestInput + image + fmt::format("{}", fmt::join(proxyContainerCommand(plans, options), " ")));
    std::string manifest = joinDocuments(proxyKubernetesObjects(plans, options, image, gitRevision, digest));
    fs::path directory = root / "proxy";
    std::error_code error;
    fs::create_directories(directory, error);
    for (const auto& [name, content] : {std::pair{"kubernetes.yaml", manifest}, std::pair{"digest", digest + "\n"}}) {
        std::ofstream out(directory / name, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out) {
            diagnostics.error("E0601", SourceLocation{(directory / name).string(), 0, 0, 1},
                              fmt::format("cannot write `{}`", (directory / name).string()));
            return "";
        }
    }
    return fmt::format("proxy: {}/ (kubernetes.yaml, {} plan(s)) digest {}", directory.generic_string(), plans.size(),
                       digest.substr(0, 12));
}

} // namespace pipec::emit
