#include "compiler/emit/kubernetes_manifests.h"

#include "compiler/common/sha256.h"

#include <fmt/format.h>

#include <cctype>

namespace pipec::emit {

namespace {

std::string base64(std::string_view bytes) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t n = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) | (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                     static_cast<uint8_t>(bytes[i + 2]);
        out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
    }
    if (i + 1 == bytes.size()) {
        uint32_t n = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
        out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], '=', '='};
    } else if (i + 2 == bytes.size()) {
        uint32_t n = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) | (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8);
        out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
    }
    return out;
}

/// `stage` 1 or 2 labels the pods of one stage of a job with a repartition exchange; 0: the job runs in one stage.
YamlNode labels(const std::string& name, const driver::CompiledJob& job, int stage = 0) {
    YamlNode node = YamlNode::map();
    node.set("app.kubernetes.io/name", YamlNode::string("pipec"));
    node.set("app.kubernetes.io/instance", YamlNode::string(name));
    node.set("app.kubernetes.io/component", YamlNode::string("stream-job"));
    node.set("app.kubernetes.io/managed-by", YamlNode::string("pipec"));
    node.set("pipec.dev/job", YamlNode::string(kubernetesName(job.source.name.value).substr(6)));
    if (stage > 0) node.set("pipec.dev/stage", YamlNode::string(std::to_string(stage)));
    return node;
}

YamlNode selector(const std::string& name, int stage = 0) {
    YamlNode node = YamlNode::map();
    node.set("app.kubernetes.io/name", YamlNode::string("pipec"));
    node.set("app.kubernetes.io/instance", YamlNode::string(name));
    if (stage > 0) node.set("pipec.dev/stage", YamlNode::string(std::to_string(stage)));
    return node;
}

/// `objectName` names the object; `instance` (the job's Kubernetes name) labels every object of the job alike.
YamlNode metadata(const std::string& objectName, const std::string& instance, const driver::CompiledJob& job,
                  const DeploymentSettings& settings, const std::vector<std::pair<std::string, std::string>>& extraAnnotations = {}) {
    YamlNode node = YamlNode::map();
    node.set("name", YamlNode::string(objectName));
    node.set("labels", labels(instance, job));
    YamlNode& annotations = node.set("annotations", YamlNode::map());
    annotations.set("pipec.dev/job-name", YamlNode::string(job.source.name.value));
    annotations.set("pipec.dev/spec-file", YamlNode::string(settings.specFile));
    annotations.set("pipec.dev/git-revision", YamlNode::string(settings.gitRevision));
    annotations.set("pipec.dev/digest", YamlNode::string(settings.digest));
    for (const auto& [key, value] : extraAnnotations) annotations.set(key, YamlNode::string(value));
    return node;
}

YamlNode resources(const driver::CompiledJob& job, const DeploymentSettings& settings) {
    YamlNode node = YamlNode::map();
    for (const char* kind : {"requests", "limits"}) {
        YamlNode& entry = node.set(kind, YamlNode::map());
        if (settings.helm) {
            entry.set("cpu", YamlNode::raw(fmt::format("{{{{ .Values.resources.{}.cpu | quote }}}}", kind)));
            entry.set("memory", YamlNode::raw(fmt::format("{{{{ .Values.resources.{}.memory | quote }}}}", kind)));
        } else {
            entry.set("cpu", YamlNode::string(job.source.resources.cpu.value));
            entry.set("memory", YamlNode::string(job.source.resources.memory.value));
        }
    }
    return node;
}

YamlNode probe(const char* path, int port, int period) {
    YamlNode node = YamlNode::map();
    YamlNode& http = node.set("httpGet", YamlNode::map());
    http.set("path", YamlNode::string(path));
    http.set("port", YamlNode::string("metrics"));
    (void)port;
    node.set("periodSeconds", YamlNode::number(period));
    node.set("failureThreshold", YamlNode::number(3));
    return node;
}

/// `<name>-stage1` / `<name>-stage2` for the objects of one stage of a job with a repartition exchange, else `name`.
std::string stageName(const std::string& name, int stage) { return stage > 0 ? fmt::format("{}-stage{}", name, stage) : name; }

/// The Deployment of a job, or of one stage (1 or 2) of a job with a repartition exchange.
YamlNode deploymentObject(const std::string& name, int stage, const driver::CompiledJob& job, const DeploymentSettings& settings) {
    int64_t replicas = job.source.resources.numberTaskManager.value;
    std::string objectName = stageName(name, stage);
    YamlNode deployment = YamlNode::map();
    deployment.set("apiVersion", YamlNode::string("apps/v1"));
    deployment.set("kind", YamlNode::string("Deployment"));
    deployment.set("metadata", metadata(objectName, name, job, settings));
    YamlNode& spec = deployment.set("spec", YamlNode::map());
    std::string helmReplicas = stage > 0 ? fmt::format("{{{{ .Values.stage{}.replicas }}}}", stage) : "{{ .Values.replicas }}";
    spec.set("replicas", settings.helm ? YamlNode::raw(helmReplicas) : YamlNode::number(replicas));
    spec.set("selector", YamlNode::map()).set("matchLabels", selector(name, stage));
    YamlNode& strategy = spec.set("strategy", YamlNode::map());
    strategy.set("type", YamlNode::string("RollingUpdate"));
    YamlNode& rolling = strategy.set("rollingUpdate", YamlNode::map());
    rolling.set("maxUnavailable", YamlNode::number(1));
    rolling.set("maxSurge", YamlNode::number(0));  // never more consumers than partitions allow during a rollout
    YamlNode& podTemplate = spec.set("template", YamlNode::map());
    YamlNode& podMetadata = podTemplate.set("metadata", YamlNode::map());
    podMetadata.set("labels", labels(name, job, stage));
    YamlNode& podAnnotations = podMetadata.set("annotations", YamlNode::map());
    // The digest in the pod template makes a content change roll the pods; the git revision alone does not.
    podAnnotations.set("pipec.dev/digest", YamlNode::string(settings.digest));
    podAnnotations.set("prometheus.io/scrape", YamlNode::string("true"));
    podAnnotations.set("prometheus.io/port", YamlNode::string(std::to_string(settings.metricsPort)));
    podAnnotations.set("prometheus.io/path", YamlNode::string("/metrics"));
    YamlNode& podSpec = podTemplate.set("spec", YamlNode::map());
    podSpec.set("terminationGracePeriodSeconds", YamlNode::number(60));
    YamlNode& container = podSpec.set("containers", YamlNode::list()).add(YamlNode::map());
    container.set("name", YamlNode::string("pipec"));
    container.set("image", settings.helm ? YamlNode::raw("{{ .Values.image | quote }}") : YamlNode::string(settings.image));
    YamlNode& command = container.set("command", YamlNode::list());
    for (const auto& part : containerCommand(job, settings)) command.add(YamlNode::string(part));
    if (stage > 0) {
        command.add(YamlNode::string("--stage"));
        command.add(YamlNode::string(std::to_string(stage)));
    }
    YamlNode& port = container.set("ports", YamlNode::list()).add(YamlNode::map());
    port.set("name", YamlNode::string("metrics"));
    port.set("containerPort", YamlNode::number(settings.metricsPort));
    port.set("protocol", YamlNode::string("TCP"));
    if (!settings.secrets.empty()) container.set("env", secretEnvironment(settings.secrets));
    container.set("resources", resources(job, settings));
    container.set("livenessProbe", probe("/healthz", settings.metricsPort, 10));
    container.set("readinessProbe", probe("/readyz", settings.metricsPort, 5));
    YamlNode& mount = container.set("volumeMounts", YamlNode::list()).add(YamlNode::map());
    mount.set("name", YamlNode::string("plan"));
    mount.set("mountPath", YamlNode::string("/etc/pipec"));
    mount.set("readOnly", YamlNode::boolean(true));
    YamlNode& volume = podSpec.set("volumes", YamlNode::list()).add(YamlNode::map());
    volume.set("name", YamlNode::string("plan"));
    volume.set("configMap", YamlNode::map()).set("name", YamlNode::string(name + "-plan"));
    return deployment;
}

YamlNode disruptionBudget(const std::string& name, int stage, const driver::CompiledJob& job, const DeploymentSettings& settings) {
    YamlNode budget = YamlNode::map();
    budget.set("apiVersion", YamlNode::string("policy/v1"));
    budget.set("kind", YamlNode::string("PodDisruptionBudget"));
    budget.set("metadata", metadata(stageName(name, stage), name, job, settings));
    YamlNode& budgetSpec = budget.set("spec", YamlNode::map());
    budgetSpec.set("maxUnavailable", YamlNode::number(1));
    budgetSpec.set("selector", YamlNode::map()).set("matchLabels", selector(name, stage));
    return budget;
}

/// A HorizontalPodAutoscaler for the job's Deployment (or one stage's), bounded by the partition count.
YamlNode autoscalerObject(const std::string& name, int stage, const driver::CompiledJob& job, const DeploymentSettings& settings) {
    YamlNode autoscaler = YamlNode::map();
    autoscaler.set("apiVersion", YamlNode::string("autoscaling/v2"));
    autoscaler.set("kind", YamlNode::string("HorizontalPodAutoscaler"));
    autoscaler.set("metadata", metadata(stageName(name, stage), name, job, settings));
    YamlNode& autoscalerSpec = autoscaler.set("spec", YamlNode::map());
    YamlNode& target = autoscalerSpec.set("scaleTargetRef", YamlNode::map());
    target.set("apiVersion", YamlNode::string("apps/v1"));
    target.set("kind", YamlNode::string("Deployment"));
    target.set("name", YamlNode::string(stageName(name, stage)));
    int64_t replicas = job.source.resources.numberTaskManager.value;
    // More consumers than partitions would sit idle: the partition count bounds the replicas (of stage 2 too: the
    // repartition topic has as many partitions as the source).
    int64_t maximum = std::max<int64_t>(1, settings.partitions);
    autoscalerSpec.set("minReplicas", YamlNode::number(std::min<int64_t>(replicas, maximum)));
    autoscalerSpec.set("maxReplicas", YamlNode::number(maximum));
    YamlNode& metric = autoscalerSpec.set("metrics", YamlNode::list()).add(YamlNode::map());
    metric.set("type", YamlNode::string("Resource"));
    YamlNode& resource = metric.set("resource", YamlNode::map());
    resource.set("name", YamlNode::string("cpu"));
    YamlNode& utilization = resource.set("target", YamlNode::map());
    utilization.set("type", YamlNode::string("Utilization"));
    utilization.set("averageUtilization", YamlNode::number(70));
    return autoscaler;
}

} // namespace

std::string kubernetesName(const std::string& jobName) {
    std::string name = "pipec-";
    for (unsigned char c : jobName) {
        char lower = static_cast<char>(std::tolower(c));
        bool ok = std::isalnum(static_cast<unsigned char>(lower));
        if (ok) name += lower;
        else if (!name.empty() && name.back() != '-') name += '-';
    }
    while (!name.empty() && name.back() == '-') name.pop_back();
    if (name.size() > 63) {
        // Keep names unique when truncating: the end is replaced by a short hash of the full job name.
        std::string hash = sha256Hex(jobName).substr(0, 8);
        name = name.substr(0, 63 - 9);
        while (!name.empty() && name.back() == '-') name.pop_back();
        name += "-" + hash;
    }
    return name;
}

std::string base64Encode(std::string_view bytes) {
    return base64(bytes);
}

double cpuCores(const std::string& quantity) {
    if (!quantity.empty() && quantity.back() == 'm') return std::strtod(quantity.c_str(), nullptr) / 1000.0;
    return std::strtod(quantity.c_str(), nullptr);
}

std::vector<std::string> containerCommand(const driver::CompiledJob& job, const DeploymentSettings& settings) {
    return {"pipec", "run", "--plan", "/etc/pipec/plan.pb", "--metrics-port", std::to_string(settings.metricsPort),
            "--group", kubernetesName(job.source.name.value)};
}

std::vector<YamlNode> kubernetesObjects(const driver::CompiledJob& job, const std::string& planBytes, const DeploymentSettings& settings) {
    std::string name = kubernetesName(job.source.name.value);
    std::vector<YamlNode> objects;

    YamlNode configMap = YamlNode::map();
    configMap.set("apiVersion", YamlNode::string("v1"));
    configMap.set("kind", YamlNode::string("ConfigMap"));
    configMap.set("metadata", metadata(name + "-plan", name, job, settings));
    configMap.set("binaryData", YamlNode::map()).set("plan.pb", YamlNode::string(base64(planBytes)));
    objects.push_back(std::move(configMap));

    // A job with a repartition exchange runs as two Deployments, `pipec run … --stage 1` and `--stage 2`, each
    // scaled on its own; the Service and the plan are shared.
    std::vector<int> stages = job.pipeline.has_exchange() ? std::vector<int>{1, 2} : std::vector<int>{0};
    for (int stage : stages) objects.push_back(deploymentObject(name, stage, job, settings));

    YamlNode service = YamlNode::map();
    service.set("apiVersion", YamlNode::string("v1"));
    service.set("kind", YamlNode::string("Service"));
    YamlNode serviceMetadata = metadata(name, name, job, settings, {{"prometheus.io/scrape", "true"},
                                                                   {"prometheus.io/port", std::to_string(settings.metricsPort)},
                                                                   {"prometheus.io/path", "/metrics"}});
    service.set("metadata", std::move(serviceMetadata));
    YamlNode& serviceSpec = service.set("spec", YamlNode::map());
    serviceSpec.set("selector", selector(name));
    YamlNode& servicePort = serviceSpec.set("ports", YamlNode::list()).add(YamlNode::map());
    servicePort.set("name", YamlNode::string("metrics"));
    servicePort.set("port", YamlNode::number(settings.metricsPort));
    servicePort.set("targetPort", YamlNode::string("metrics"));
    servicePort.set("protocol", YamlNode::string("TCP"));
    objects.push_back(std::move(service));

    for (int stage : stages) objects.push_back(disruptionBudget(name, stage, job, settings));

    if (settings.horizontalAutoscaler && settings.partitions > 0)
        for (int stage : stages) objects.push_back(autoscalerObject(name, stage, job, settings));
    return objects;
}

YamlNode secretEnvironment(const std::vector<spec::SecretReference>& secrets) {
    YamlNode environment = YamlNode::list();
    for (const auto& secret : secrets) {
        YamlNode& variable = environment.add(YamlNode::map());
        variable.set("name", YamlNode::string(secret.variable));
        YamlNode& reference = variable.set("valueFrom", YamlNode::map()).set("secretKeyRef", YamlNode::map());
        reference.set("name", YamlNode::string(secret.secretName));
        reference.set("key", YamlNode::string(secret.secretKey));
    }
    return environment;
}

std::string joinDocuments(const std::vector<YamlNode>& documents) {
    std::string out;
    for (const auto& document : documents) out += "---\n" + document.print();
    return out;
}

} // namespace pipec::emit
