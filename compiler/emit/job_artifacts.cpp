#include "compiler/emit/job_artifacts.h"

#include "compiler/emit/flink_deployment.h"
#include "compiler/emit/flink_job.h"
#include "compiler/emit/kubernetes_manifests.h"
#include "compiler/common/sha256.h"
#include "compiler/emit/yaml_writer.h"
#include "compiler/lower/lower.h"
#include "compiler/spec/environment.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace pipec::emit {

namespace fs = std::filesystem;

void ArtifactOptions::addFlags(CLI::App& command) {
    command.add_option("--target", target, "kubernetes (pipec Deployments) or flink (Flink SQL + FlinkDeployment)")
        ->check(CLI::IsMember({"kubernetes", "flink"}))
        ->capture_default_str();
    command.add_option("--format", formats,
                       "Kubernetes output: yaml (one manifest file per job) or helm (a chart per job); markdown: print a "
                       "pull-request summary of the change against --against on stdout instead of the job lines. "
                       "Several are separated by commas: --format helm,markdown")
        ->delimiter(',')
        ->check(CLI::IsMember({"yaml", "helm", "markdown"}));
    command.add_option("--image", image, "Container image that holds the pipec binary (the Dockerfile's image)")->capture_default_str();
    command.add_option("--flink-image", flinkImage,
                       "--target flink: the Flink image holding the SQL runner and connector jars (docs/deployment.md)")
        ->capture_default_str();
    command.add_option("--git-revision", gitRevision, "Revision recorded in annotations (default: git rev-parse HEAD)");
    command.add_flag("--hpa", horizontalAutoscaler, "Add a HorizontalPodAutoscaler (needs --partitions to bound it)");
    command.add_option("--partitions", partitions, "Partition count of the source topics: the autoscaler's upper bound");
    command.add_option("--against", against, "A previous output directory: report per job whether its state stays compatible");
    proxy.addFlags(command);
}

void ArtifactOptions::resolveFormats() {
    auto given = [&](const char* name) { return std::find(formats.begin(), formats.end(), name) != formats.end(); };
    if (given("yaml") && given("helm")) throw CLI::ValidationError("--format", "pick one of yaml and helm");
    format = given("helm") ? "helm" : "yaml";
    markdownSummary = given("markdown");
    proxy.validate();
    if (markdownSummary && against.empty())
        throw CLI::ValidationError("--format", "markdown summarizes the change against a previous output: add --against BASE_OUT/ "
                                               "(an empty directory makes every job new)");
}

std::string serializeJob(const plan::Job& job) {
    std::string bytes;
    {
        google::protobuf::io::StringOutputStream stream(&bytes);
        google::protobuf::io::CodedOutputStream coded(&stream);
        coded.SetSerializationDeterministic(true);
        job.SerializeToCodedStream(&coded);
    }
    return bytes;
}

namespace {

bool writeFile(const fs::path& path, const std::string& content, DiagnosticEngine& diagnostics) {
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
        diagnostics.error("E0601", SourceLocation{path.string(), 0, 0, 1}, fmt::format("cannot write `{}`", path.string()));
        return false;
    }
    return true;
}

/// The repository root of a path (the nearest ancestor holding `.git`), so recorded spec paths do not depend on the
/// working directory pipec ran in.
fs::path repositoryRoot(const fs::path& path) {
    std::error_code error;
    fs::path directory = fs::absolute(path, error).parent_path();
    for (fs::path candidate = directory; !candidate.empty(); candidate = candidate.parent_path()) {
        if (fs::exists(candidate / ".git", error)) return candidate;
        if (candidate == candidate.parent_path()) break;
    }
    return directory;
}

std::string repositoryPath(const std::string& path) {
    std::error_code error;
    fs::path absolute = fs::weakly_canonical(fs::absolute(path, error), error);
    fs::path relative = fs::relative(absolute, fs::weakly_canonical(repositoryRoot(path), error), error);
    return error || relative.empty() ? path : relative.generic_string();
}

std::string defaultRevision(const std::string& anyPath) {
    std::string command = fmt::format("git -C '{}' rev-parse HEAD 2>/dev/null", repositoryRoot(anyPath).string());
    std::string revision;
    if (FILE* pipe = popen(command.c_str(), "r")) {
        char buffer[128];
        while (fgets(buffer, sizeof buffer, pipe)) revision += buffer;
        pclose(pipe);
    }
    while (!revision.empty() && std::isspace(static_cast<unsigned char>(revision.back()))) revision.pop_back();
    return revision.empty() ? "unknown" : revision;
}

YamlNode stringMap(const std::map<std::string, std::string>& values) {
    YamlNode node = YamlNode::map();
    for (const auto& [key, value] : values) node.set(key, YamlNode::string(value));
    return node;
}

/// The spec of one job with every name resolved against the environment: what CD deploys, readable in review.
std::string resolvedSpec(const driver::Compilation& compilation, const driver::CompiledJob& job, const std::string& specFile) {
    const spec::KafkaSource& kafka = job.source.kafkaSources.front();
    YamlNode root = YamlNode::map();
    root.set("job", YamlNode::string(job.source.name.value));
    root.set("spec_file", YamlNode::string(specFile));
    root.set("environment", YamlNode::string(compilation.environment ? compilation.environment->name : "local"));
    YamlNode& source = root.set("source", YamlNode::map());
    source.set("cluster", YamlNode::string(kafka.cluster.value));
    if (compilation.environment) {
        if (auto cluster = compilation.environment->clusters.find(kafka.cluster.value); cluster != compilation.environment->clusters.end()) {
            source.set("bootstrap_servers", YamlNode::string(cluster->second.bootstrapServers));
            source.set("properties", stringMap(cluster->second.properties));
        }
    }
    source.set("topic", YamlNode::string(kafka.topic.value));
    source.set("proto_class", YamlNode::string(kafka.protoClass.value));
    source.set("format", YamlNode::string(job.pipeline.source().format()));
    source.set("time_field", YamlNode::string(kafka.timeField ? kafka.timeField->value : "_time (envelope event-created-at)"));
    source.set("watermark_delay_ms", YamlNode::number(kafka.watermarkDelayMs.value));
    source.set("key_field", YamlNode::string(kafka.keyField ? kafka.keyField->value : "(not declared)"));
    std::string exchange = kafka.exchange.value;
    if (exchange == "auto")
        exchange += job.pipeline.has_exchange() ? " (repartitioned by the GROUP BY key: " + job.pipeline.exchange().reason() + ")"
                    : job.pipeline.window().kind() == plan::WINDOW_NONE ? " (not needed: no window)"
                                                                         : " (not needed: the topic is keyed by a GROUP BY key)";
    source.set("exchange", YamlNode::string(exchange));
    root.set("sql", YamlNode::string(job.source.sql.text));
    YamlNode& resources = root.set("resource_config", YamlNode::map());
    resources.set("number_task_manager", YamlNode::number(job.source.resources.numberTaskManager.value));
    resources.set("memory", YamlNode::string(job.source.resources.memory.value));
    resources.set("cpu", YamlNode::string(job.source.resources.cpu.value));
    YamlNode& features = root.set("features", YamlNode::list());
    for (const auto& feature : job.features) {
        YamlNode& entry = features.add(YamlNode::map());
        entry.set("name", YamlNode::string(feature.name));
        entry.set("column", YamlNode::string(feature.column));
        YamlNode& keys = entry.set("key_columns", YamlNode::list());
        for (const auto& key : feature.keyColumns) keys.add(YamlNode::string(key));
        entry.set("feature_ttl", YamlNode::number(feature.ttlSeconds));
        entry.set("description", YamlNode::string(feature.description));
        YamlNode& sinks = entry.set("sinks", YamlNode::list());
        for (const auto& sinkName : feature.sinks) {
            YamlNode& sink = sinks.add(YamlNode::map());
            sink.set("name", YamlNode::string(sinkName));
            if (compilation.environment) {
                if (auto config = compilation.environment->sinks.find(sinkName); config != compilation.environment->sinks.end()) {
                    sink.set("type", YamlNode::string(config->second.type));
                    sink.set("properties", stringMap(config->second.properties));
                }
            }
        }
    }
    return root.print();
}

std::string helmValues(const driver::CompiledJob& job, const ArtifactOptions& options) {
    YamlNode values = YamlNode::map();
    values.set("image", YamlNode::string(options.image));
    if (job.pipeline.has_exchange()) {
        // A job with a repartition exchange: each stage's Deployment has its own replica count.
        for (const char* stage : {"stage1", "stage2"})
            values.set(stage, YamlNode::map()).set("replicas", YamlNode::number(job.source.resources.numberTaskManager.value));
    } else {
        values.set("replicas", YamlNode::number(job.source.resources.numberTaskManager.value));
    }
    YamlNode& resources = values.set("resources", YamlNode::map());
    for (const char* kind : {"requests", "limits"}) {
        YamlNode& entry = resources.set(kind, YamlNode::map());
        entry.set("cpu", YamlNode::string(job.source.resources.cpu.value));
        entry.set("memory", YamlNode::string(job.source.resources.memory.value));
    }
    return values.print();
}

std::string helmChart(const std::string& name, const std::string& digest) {
    YamlNode chart = YamlNode::map();
    chart.set("apiVersion", YamlNode::string("v2"));
    chart.set("name", YamlNode::string(name));
    chart.set("description", YamlNode::string("A pipec stream job, generated by `pipec compile --format helm`"));
    chart.set("type", YamlNode::string("application"));
    chart.set("version", YamlNode::string("0.1.0+" + digest.substr(0, 12)));
    chart.set("appVersion", YamlNode::string(PIPEC_VERSION));
    return chart.print();
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

} // namespace

std::string compareState(const plan::Job& before, const plan::Job& after) {
    if (serializeJob(before) == serializeJob(after)) return "unchanged";
    const plan::Pipeline& a = before.pipeline();
    const plan::Pipeline& b = after.pipeline();
    auto same = [](const google::protobuf::Message& x, const google::protobuf::Message& y) {
        plan::Job wrapperX, wrapperY;
        std::string bytesX, bytesY;
        google::protobuf::io::StringOutputStream streamX(&bytesX), streamY(&bytesY);
        {
            google::protobuf::io::CodedOutputStream coded(&streamX);
            coded.SetSerializationDeterministic(true);
            x.SerializeToCodedStream(&coded);
        }
        {
            google::protobuf::io::CodedOutputStream coded(&streamY);
            coded.SetSerializationDeterministic(true);
            y.SerializeToCodedStream(&coded);
        }
        return bytesX == bytesY;
    };
    if (a.source().message_type() != b.source().message_type()) return "incompatible: the source message changed";
    if (a.source().topic() != b.source().topic()) return "incompatible: the source topic changed (offsets do not carry over)";
    const auto& windowA = a.window();
    const auto& windowB = b.window();
    if (windowA.kind() != windowB.kind() || windowA.size_ms() != windowB.size_ms() || windowA.slide_ms() != windowB.slide_ms() ||
        windowA.gap_ms() != windowB.gap_ms())
        return "incompatible: the group window changed";
    // Key and aggregate arguments refer to source columns, whose numbering changes with the fields a query reads:
    // compare them as columns' field paths.
    auto describe = [](const plan::Pipeline& pipeline, const plan::Expr& expression) {
        std::string text;
        std::function<void(const plan::Expr&)> walk = [&](const plan::Expr& e) {
            text += std::to_string(e.type()) + ":";
            switch (e.kind_case()) {
            case plan::Expr::kColumn: {
                const auto& column = pipeline.source().columns(e.column());
                text += "col(" + column.name() + ")";
                break;
            }
            case plan::Expr::kLiteral: text += "lit(" + e.literal().ShortDebugString() + ")"; break;
            case plan::Expr::kCall:
                text += e.call().function() + "(";
                for (const auto& argument : e.call().args()) walk(argument), text += ",";
                text += ")";
                break;
            default: break;
            }
        };
        walk(expression);
        return text;
    };
    if (windowA.group_keys_size() != windowB.group_keys_size()) return "incompatible: the GROUP BY keys changed";
    for (int i = 0; i < windowA.group_keys_size(); ++i)
        if (describe(a, windowA.group_keys(i)) != describe(b, windowB.group_keys(i))) return "incompatible: the GROUP BY keys changed";
    if (windowA.aggregates_size() != windowB.aggregates_size()) return "incompatible: the aggregates changed";
    for (int i = 0; i < windowA.aggregates_size(); ++i) {
        const auto& x = windowA.aggregates(i);
        const auto& y = windowB.aggregates(i);
        if (x.function() != y.function() || x.distinct() != y.distinct() || x.result_type() != y.result_type() ||
            describe(a, x.argument()) != describe(b, y.argument()) || x.has_filter() != y.has_filter() ||
            (x.has_filter() && describe(a, x.filter()) != describe(b, y.filter())) ||
            x.parameters_size() != y.parameters_size())
            return "incompatible: the aggregates changed";
        for (int k = 0; k < x.parameters_size(); ++k)
            if (x.parameters(k).SerializeAsString() != y.parameters(k).SerializeAsString())
            return "incompatible: the aggregates changed";
    }
    // Stage 2's state is partitioned like the repartition topic, not like the source, and rows in flight on that topic
    // are in the old row format: adding, removing or reshaping the exchange cannot keep either.
    if (!a.has_exchange() && b.has_exchange())
        return "incompatible: a repartition exchange was added (" + b.exchange().reason() + ")";
    if (a.has_exchange() && !b.has_exchange())
        return "incompatible: the repartition exchange was removed (stage 2's state is partitioned by the GROUP BY key, not "
               "like the source topic)";
    if (a.has_exchange() && a.exchange().row_format() != b.exchange().row_format())
        return "incompatible: the repartition topic's row format changed (" + a.exchange().row_format() + " → " +
               b.exchange().row_format() + ")";
    std::vector<std::string> changes;
    if (a.filters_size() != b.filters_size()) changes.push_back("filters");
    else
        for (int i = 0; i < a.filters_size(); ++i)
            if (describe(a, a.filters(i)) != describe(b, b.filters(i))) changes.push_back("filters");
    if (!same(windowA.having(), windowB.having())) changes.push_back("HAVING");
    if (a.output_columns_size() != b.output_columns_size() || !std::equal(a.outputs().begin(), a.outputs().end(), b.outputs().begin(),
                                                                          [&](const plan::Expr& x, const plan::Expr& y) { return same(x, y); }))
        changes.push_back("outputs");
    if (a.source().watermark_delay_ms() != b.source().watermark_delay_ms()) changes.push_back("watermark delay");
    if (a.source().key_field() != b.source().key_field()) changes.push_back("key_field");
    // The plan carries the message's descriptors: a field added to the .proto changes the plan, not its state.
    if (!same(a.source().descriptors(), b.source().descriptors())) changes.push_back("message schema");
    if (before.sinks_size() != after.sinks_size() || !std::equal(before.sinks().begin(), before.sinks().end(), after.sinks().begin(),
                                                                 [&](const plan::Sink& x, const plan::Sink& y) { return same(x, y); }))
        changes.push_back("sinks/TTLs");
    if (before.parallelism() != after.parallelism()) changes.push_back("parallelism");
    std::string list;
    for (size_t i = 0; i < changes.size(); ++i) {
        if (std::find(changes.begin(), changes.begin() + static_cast<long>(i), changes[i]) != changes.begin() + static_cast<long>(i)) continue;
        list += (list.empty() ? "" : ", ") + changes[i];
    }
    return "compatible: same keys, window and aggregates" + (list.empty() ? std::string() : "; changed " + list);
}

namespace {

/// The secret references (`${NAME}`) that the job's cluster and sink settings use, in name order: what its pods must
/// mount from Kubernetes Secrets.
std::vector<spec::SecretReference> secretsUsed(const driver::Compilation& compilation, const plan::Job& job) {
    std::set<std::string> names;
    auto collect = [&](const std::string& value) {
        for (const auto& name : spec::environmentReferences(value)) names.insert(name);
    };
    for (const auto& [key, value] : job.cluster_properties()) collect(value);
    for (const auto& sink : job.sinks())
        for (const auto& [key, value] : sink.properties()) collect(value);
    std::vector<spec::SecretReference> secrets;
    for (const auto& name : names) {
        spec::SecretReference reference{name, "pipec-secrets", name};
        if (compilation.environment && compilation.environment->secrets.count(name)) reference = compilation.environment->secrets.at(name);
        secrets.push_back(reference);
    }
    return secrets;
}

} // namespace

std::vector<std::string> writeArtifacts(const driver::Compilation& compilation, const ArtifactOptions& options,
                                        DiagnosticEngine& diagnostics, std::vector<JobComparison>* comparisons) {
    std::vector<std::string> written;
    fs::path root(options.outputDirectory);
    std::map<std::string, std::string> names;  // Kubernetes name → job
    std::string index = "{\n  \"jobs\": [";
    std::vector<std::tuple<std::string, std::string>> compatibility;
    bool firstJob = true;
    std::string revision = options.gitRevision;
    if (revision.empty()) revision = compilation.jobs.empty() ? "unknown" : defaultRevision(compilation.jobs.front().specPath);

    for (const auto& job : compilation.jobs) {
        const std::string& jobName = job.source.name.value;
        std::string name = kubernetesName(jobName);
        if (auto [it, inserted] = names.emplace(name, jobName); !inserted) {
            auto& d = diagnostics.error("E0602", job.source.name.location,
                                        fmt::format("job `{}` and job `{}` both become the Kubernetes name `{}`", it->second, jobName, name));
            d.label = "rename one of the jobs";
            continue;
        }
        if (options.target == "flink" && !checkFlinkStateDirectories(compilation, job, diagnostics)) continue;
        fs::path directory = root / jobName;
        std::string specFile = repositoryPath(job.specPath);
        plan::Job deployable = driver::buildJob(compilation, job);
        deployable.set_spec_file(specFile);
        std::string spec = resolvedSpec(compilation, job, specFile);
        // The digest covers what runs (plan, resolved spec, image), not the revision: a commit that does not change
        // a job does not redeploy it.
        deployable.clear_digest();
        std::string planBytes = serializeJob(deployable);
        std::string digest = sha256Hex(planBytes + spec + (options.target == "flink" ? options.flinkImage : options.image));
        deployable.set_digest(digest);
        planBytes = serializeJob(deployable);
        // `pipec run --plan` must be able to read what is written: Protobuf refuses, for one, a `string` field that
        // is not UTF-8. The spec loader checks every user string, so a plan that does not read back is a compiler bug.
        if (plan::Job readBack; !readBack.ParseFromString(planBytes))
            throw std::logic_error(fmt::format("the compiled plan of job `{}` does not read back", jobName));

        DeploymentSettings settings;
        settings.image = options.image;
        settings.gitRevision = revision;
        settings.specFile = specFile;
        settings.digest = digest;
        settings.horizontalAutoscaler = options.horizontalAutoscaler;
        settings.partitions = options.partitions;
        settings.flinkImage = options.flinkImage;
        settings.secrets = secretsUsed(compilation, deployable);
        if (options.horizontalAutoscaler && options.partitions <= 0)
            diagnostics.warning("W0602", job.source.name.location, "--hpa needs --partitions: no autoscaler emitted (it must be bounded by the partition count)");
        if (options.partitions > 0 && job.source.resources.numberTaskManager.value > options.partitions) {
            auto& d = diagnostics.warning("W0602", job.source.resources.numberTaskManager.location,
                                          fmt::format("number_task_manager {} exceeds the topic's {} partitions: {} replicas would sit idle",
                                                      job.source.resources.numberTaskManager.value, options.partitions,
                                                      job.source.resources.numberTaskManager.value - options.partitions));
            d.label = "more consumers than partitions";
        }

        bool ok = writeFile(directory / "plan.pb", planBytes, diagnostics) &&
                  writeFile(directory / "plan.txt", lower::printPhysical(job.pipeline), diagnostics) &&
                  writeFile(directory / "spec.yaml", spec, diagnostics) && writeFile(directory / "digest", digest + "\n", diagnostics);
        if (!ok) continue;
        std::string what;
        if (options.target == "flink") {
            std::string sql = flinkSql(compilation, job, diagnostics);
            ok = writeFile(directory / "job.sql", sql, diagnostics) &&
                 writeFile(directory / "flinkdeployment.yaml", joinDocuments(flinkDeployment(compilation, job, sql, settings, diagnostics)),
                           diagnostics);
            what = "job.sql, flinkdeployment.yaml";
        } else if (options.format == "helm") {
            settings.helm = true;
            ok = writeFile(directory / "chart" / "Chart.yaml", helmChart(name, digest), diagnostics) &&
                 writeFile(directory / "chart" / "values.yaml", helmValues(job, options), diagnostics) &&
                 writeFile(directory / "chart" / "templates" / "job.yaml", joinDocuments(kubernetesObjects(job, planBytes, settings)), diagnostics);
            what = "chart/";
        } else {
            ok = writeFile(directory / "kubernetes.yaml", joinDocuments(kubernetesObjects(job, planBytes, settings)), diagnostics);
            what = "kubernetes.yaml";
        }
        if (!ok) continue;
        index += fmt::format("{}\n    {{\"job\": {}, \"kubernetes_name\": {}, \"spec_file\": {}, \"digest\": \"{}\"}}", firstJob ? "" : ",",
                             quoteYaml(jobName), quoteYaml(name), quoteYaml(specFile), digest);
        firstJob = false;
        written.push_back(fmt::format("{}: {}/ (plan.pb, spec.yaml, {}) digest {}", jobName, directory.generic_string(), what, digest.substr(0, 12)));

        if (!options.against.empty()) {
            fs::path oldDirectory = fs::path(options.against) / jobName;
            fs::path old = oldDirectory / "plan.pb";
            std::string verdict = "new";
            JobComparison comparison;
            comparison.job = jobName;
            comparison.status = "new";
            comparison.after = deployable;
            comparison.planTextAfter = lower::printPhysical(job.pipeline);
            comparison.specAfter = spec;
            if (fs::exists(old)) {
                plan::Job before;
                comparison.planTextBefore = readFile(oldDirectory / "plan.txt");
                comparison.specBefore = readFile(oldDirectory / "spec.yaml");
                if (before.ParseFromString(readFile(old))) {
                    comparison.before = before;
                    before.clear_digest();
                    plan::Job current = deployable;
                    current.clear_digest();
                    verdict = compareState(before, current);
                } else {
                    verdict = "incompatible: the old plan cannot be read";
                }
                // The digest covers the plan, the resolved spec and the image: equal digests, nothing to deploy.
                comparison.status = verdict == "unchanged" && readFile(oldDirectory / "digest") == digest + "\n" ? "unchanged" : "changed";
            }
            comparison.verdict = comparison.status == "changed" && verdict == "unchanged" ? "compatible: same plan; the resolved spec or image changed" : verdict;
            if (comparisons) comparisons->push_back(std::move(comparison));
            compatibility.emplace_back(jobName, verdict);
        }
    }
    index += firstJob ? "]\n}\n" : "\n  ]\n}\n";
    writeFile(root / "index.json", index, diagnostics);
    if (options.proxy.enabled) {
        std::string line = writeProxyArtifacts(compilation, options.outputDirectory, options.proxy, options.image, revision, diagnostics);
        if (!line.empty()) written.push_back(line);
    }

    if (!options.against.empty()) {
        std::error_code error;
        for (auto it = fs::directory_iterator(options.against, error); !error && it != fs::directory_iterator(); ++it) {
            std::string jobName = it->path().filename().string();
            if (it->is_directory() && fs::exists(it->path() / "plan.pb") && !names.count(kubernetesName(jobName))) {
                compatibility.emplace_back(jobName, "removed");
                if (!comparisons) continue;
                JobComparison comparison;
                comparison.job = jobName;
                comparison.status = comparison.verdict = "removed";
                if (plan::Job before; before.ParseFromString(readFile(it->path() / "plan.pb"))) comparison.before = before;
                comparison.planTextBefore = readFile(it->path() / "plan.txt");
                comparison.specBefore = readFile(it->path() / "spec.yaml");
                comparisons->push_back(std::move(comparison));
            }
        }
        std::sort(compatibility.begin(), compatibility.end());
        std::string json = "{\n  \"jobs\": [";
        written.push_back(fmt::format("\n{:<36} {}", "job", "state compatibility"));
        for (size_t i = 0; i < compatibility.size(); ++i) {
            const auto& [jobName, verdict] = compatibility[i];
            bool fresh = verdict.rfind("incompatible", 0) == 0;
            written.push_back(fmt::format("{:<36} {}{}", jobName, verdict, fresh ? " — requires a fresh start / back-fill" : ""));
            json += fmt::format("{}\n    {{\"job\": {}, \"verdict\": {}, \"fresh_start\": {}}}", i ? "," : "", quoteYaml(jobName), quoteYaml(verdict),
                                fresh ? "true" : "false");
        }
        json += compatibility.empty() ? "]\n}\n" : "\n  ]\n}\n";
        writeFile(root / "compatibility.json", json, diagnostics);
    }
    return written;
}

} // namespace pipec::emit
