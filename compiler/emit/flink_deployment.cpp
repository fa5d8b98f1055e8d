#include "compiler/emit/flink_deployment.h"

#include "compiler/common/sha256.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace pipec::emit {

namespace {

/// The FlinkDeployment's name: the operator refuses names longer than 45 characters, so a longer job name keeps its
/// first characters and a hash of the whole name.
std::string flinkDeploymentName(const std::string& jobName) {
    std::string name = kubernetesName(jobName);
    if (name.size() <= 45) return name;
    name = name.substr(0, 45 - 9);
    while (!name.empty() && name.back() == '-') name.pop_back();
    return name + "-" + sha256Hex(jobName).substr(0, 8);
}

/// A Kubernetes memory quantity (`512Mi`, `2Gi`, `1G`, `1048576`) in MiB; 0 when it cannot be read.
int64_t mebibytes(const std::string& quantity) {
    static const std::vector<std::pair<std::string, double>> kUnits = {
        {"Ki", 1024.0}, {"Mi", 1024.0 * 1024}, {"Gi", 1024.0 * 1024 * 1024}, {"Ti", 1024.0 * 1024 * 1024 * 1024},
        {"k", 1e3},     {"M", 1e6},            {"G", 1e9},                   {"T", 1e12}};
    char* end = nullptr;
    double number = std::strtod(quantity.c_str(), &end);
    std::string unit = end ? std::string(end) : "";
    double bytes = number;
    if (!unit.empty()) {
        auto found = std::find_if(kUnits.begin(), kUnits.end(), [&](const auto& u) { return u.first == unit; });
        if (found == kUnits.end()) return 0;
        bytes = number * found->second;
    }
    return static_cast<int64_t>(bytes / (1024.0 * 1024));
}

} // namespace

bool checkFlinkStateDirectories(const driver::Compilation& compilation, const driver::CompiledJob& job, DiagnosticEngine& diagnostics) {
    const spec::FlinkSettings flink = compilation.environment ? compilation.environment->flink : spec::FlinkSettings{};
    if (!flink.checkpointsDir.empty() && !flink.savepointsDir.empty()) return true;
    std::string environment = compilation.environment ? compilation.environment->name : "local";
    std::vector<std::string> missing;
    if (flink.checkpointsDir.empty()) missing.push_back("`flink.checkpoints_dir`");
    if (flink.savepointsDir.empty()) missing.push_back("`flink.savepoints_dir`");
    auto& d = diagnostics.error("E0603", job.source.name.location,
                                fmt::format("job `{}`: the FlinkDeployment needs {} in environment `{}`", job.source.name.value,
                                            missing.size() == 2 ? missing[0] + " and " + missing[1] : missing[0], environment));
    d.label = "upgraded with a savepoint on Flink";
    d.help = "add `flink: {checkpoints_dir: s3://…/checkpoints, savepoints_dir: s3://…/savepoints}` to the environment";
    if (!compilation.environmentFile.empty()) d.notes.push_back(fmt::format("environment config: {}", compilation.environmentFile));
    return false;
}

std::vector<YamlNode> flinkDeployment(const driver::Compilation& compilation, const driver::CompiledJob& job, const std::string& sql,
                                      const DeploymentSettings& settings, DiagnosticEngine& diagnostics) {
    std::string name = flinkDeploymentName(job.source.name.value);
    auto objectMetadata = [&](const std::string& objectName) {
        YamlNode metadata = YamlNode::map();
        metadata.set("name", YamlNode::string(objectName));
        YamlNode& labels = metadata.set("labels", YamlNode::map());
        labels.set("app.kubernetes.io/name", YamlNode::string("pipec"));
        labels.set("app.kubernetes.io/instance", YamlNode::string(name));
        YamlNode& annotations = metadata.set("annotations", YamlNode::map());
        annotations.set("pipec.dev/spec-file", YamlNode::string(settings.specFile));
        annotations.set("pipec.dev/git-revision", YamlNode::string(settings.gitRevision));
        annotations.set("pipec.dev/digest", YamlNode::string(settings.digest));
        return metadata;
    };

    // The SQL script reaches the job through a ConfigMap mounted into the pods: the image stays the same for every job.
    YamlNode script = YamlNode::map();
    script.set("apiVersion", YamlNode::string("v1"));
    script.set("kind", YamlNode::string("ConfigMap"));
    script.set("metadata", objectMetadata(name + "-sql"));
    script.set("data", YamlNode::map()).set("job.sql", YamlNode::string(sql));

    const spec::FlinkSettings flink = compilation.environment ? compilation.environment->flink : spec::FlinkSettings{};

    YamlNode node = YamlNode::map();
    node.set("apiVersion", YamlNode::string("flink.apache.org/v1beta1"));
    node.set("kind", YamlNode::string("FlinkDeployment"));
    node.set("metadata", objectMetadata(name));
    YamlNode& spec = node.set("spec", YamlNode::map());
    spec.set("image", YamlNode::string(settings.flinkImage));
    // 1.19, not 1.18: before FLINK-33817 (1.19) the protobuf format read an absent proto3 `optional` field or message
    // as its default value, not NULL, so `delivery_wait_seconds IS NOT NULL` or a wrapper's NULL would differ from pipec.
    spec.set("flinkVersion", YamlNode::string("v1_19"));
    spec.set("serviceAccount", YamlNode::string("flink"));
    YamlNode& configuration = spec.set("flinkConfiguration", YamlNode::map());
    configuration.set("taskmanager.numberOfTaskSlots", YamlNode::string("1"));
    configuration.set("execution.checkpointing.interval", YamlNode::string("30s"));
    configuration.set("state.backend.type", YamlNode::string("rocksdb"));
    configuration.set("state.checkpoints.dir", YamlNode::string(flink.checkpointsDir));
    configuration.set("state.savepoints.dir", YamlNode::string(flink.savepointsDir));
    configuration.set("table.local-time-zone", YamlNode::string("UTC"));
    YamlNode& jobManager = spec.set("jobManager", YamlNode::map()).set("resource", YamlNode::map());
    jobManager.set("memory", YamlNode::string("1024m"));
    jobManager.set("cpu", YamlNode::decimal(1));

    // The spec's memory sizes a native pipec process. A TaskManager JVM needs metaspace (256m), JVM overhead (at least
    // 192m), framework heap and off-heap (128m each), network and managed memory before any task heap: below Flink's
    // own default process size (1728m) it is raised to that, and said so.
    constexpr int64_t kMinimumTaskManagerMebibytes = 1728;
    int64_t memory = mebibytes(job.source.resources.memory.value);
    if (memory < kMinimumTaskManagerMebibytes) {
        auto& d = diagnostics.warning("W0601", job.source.resources.memory.location,
                                      fmt::format("job `{}`: the Flink TaskManager gets {}m, not the spec's {}: a Flink TaskManager "
                                                  "process needs at least Flink's default process size", job.source.name.value,
                                                  kMinimumTaskManagerMebibytes, job.source.resources.memory.value));
        d.help = "memory is per pipec replica on the kubernetes target; the Flink target sizes the TaskManager JVM";
        memory = kMinimumTaskManagerMebibytes;
    }
    YamlNode& taskManager = spec.set("taskManager", YamlNode::map()).set("resource", YamlNode::map());
    taskManager.set("memory", YamlNode::string(fmt::format("{}m", memory)));
    taskManager.set("cpu", YamlNode::decimal(cpuCores(job.source.resources.cpu.value)));

    YamlNode& podSpec = spec.set("podTemplate", YamlNode::map()).set("spec", YamlNode::map());
    YamlNode& container = podSpec.set("containers", YamlNode::list()).add(YamlNode::map());
    container.set("name", YamlNode::string("flink-main-container"));  // the operator merges this into Flink's container
    if (!settings.secrets.empty()) container.set("env", secretEnvironment(settings.secrets));
    YamlNode& mount = container.set("volumeMounts", YamlNode::list()).add(YamlNode::map());
    mount.set("name", YamlNode::string("pipec-sql"));
    mount.set("mountPath", YamlNode::string("/opt/flink/pipec"));
    mount.set("readOnly", YamlNode::boolean(true));
    YamlNode& volume = podSpec.set("volumes", YamlNode::list()).add(YamlNode::map());
    volume.set("name", YamlNode::string("pipec-sql"));
    volume.set("configMap", YamlNode::map()).set("name", YamlNode::string(name + "-sql"));

    YamlNode& flinkJob = spec.set("job", YamlNode::map());
    flinkJob.set("jarURI", YamlNode::string("local:///opt/flink/usrlib/sql-runner.jar"));
    YamlNode& arguments = flinkJob.set("args", YamlNode::list());
    arguments.add(YamlNode::string("/opt/flink/pipec/job.sql"));
    flinkJob.set("parallelism", YamlNode::number(job.source.resources.numberTaskManager.value));
    flinkJob.set("upgradeMode", YamlNode::string("savepoint"));
    return {std::move(script), std::move(node)};
}

} // namespace pipec::emit
