#include "tools/pipec/command.h"
#include "tools/pipec/compiler_flags.h"

#include "runtime/core/expression.h"
#include "runtime/core/metrics_server.h"
#include "runtime/core/secret_references.h"
#include "runtime/operators/pipeline_executor.h"
#include "runtime/core/user_error.h"
#include "runtime/sinks/fanout_sink.h"
#include "runtime/sinks/json_lines_sink.h"
#include "runtime/sinks/sink_factory.h"
#include "runtime/sinks/table_sink.h"
#include "runtime/sources/embedded_broker.h"
#include "runtime/sources/envelope.h"
#include "runtime/sources/file_replay.h"
#include "runtime/sources/kafka_cluster_probe.h"
#include "runtime/sources/kafka_producer.h"
#include "runtime/formats/record_decoder.h"
#include "runtime/kafka/exchange_source_job.h"
#include "runtime/kafka/kafka_job.h"
#include "runtime/kafka/topic_admin.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <unistd.h>

namespace pipec::cli {

namespace {

std::atomic<bool> gStop{false};

void onSignal(int) { gStop = true; }

struct RunOptions {
    CompilerFlags flags;
    std::string spec;
    std::string planPath;
    std::string job;
    // Offline replay.
    std::string input;
    std::string output;
    std::string inputFormat;
    std::string deadLetterFile;
    // Kafka.
    std::string brokers;
    std::string group;
    std::string seed;
    bool untilEnd = false;
    std::string deadLetterTopic;
    int64_t idleTimeoutMs = 30000;
    int64_t maxFutureSkewMs = 3'600'000;
    int64_t commitIntervalMs = 5000;
    int64_t checkpointIntervalMs = 10000;
    std::string changelogTopic;
    int sessionTimeoutMs = 6000;
    std::string instanceId;
    int64_t sinkDownThresholdMs = 30000;
    std::string sink = "auto";
    int metricsPort = 0;
    int partitions = 4;
    std::string stage = "all";
    bool strict = false;
};

/// The job to run: compiled from the spec now, or read from a `pipec compile` artifact (no SQL parsing).
plan::Job loadJob(RunOptions& options) {
    if (!options.planPath.empty()) {
        std::ifstream in(options.planPath, std::ios::binary);
        plan::Job job;
        if (!in || !job.ParseFromIstream(&in)) {
            std::cerr << fmt::format("error: cannot read compiled plan `{}`\n", options.planPath);
            throw CLI::RuntimeError(2);
        }
        return job;
    }
    if (options.spec.empty()) {
        std::cerr << "error: give a SPEC or --plan\n";
        throw CLI::RuntimeError(2);
    }
    options.flags.finish();
    driver::Compilation compilation;
    driver::compile({options.spec}, options.flags.options, compilation);
    if (options.flags.report(compilation)) throw CLI::RuntimeError(1);
    std::vector<std::string> names;
    for (const auto& job : compilation.jobs) {
        names.push_back(job.source.name.value);
        if (options.job.empty() ? compilation.jobs.size() == 1 : job.source.name.value == options.job) return driver::buildJob(compilation, job);
    }
    std::cerr << (options.job.empty() ? fmt::format("error: {} defines {} jobs ({}); choose one with --job\n", options.spec,
                                                    names.size(), fmt::join(names, ", "))
                                      : fmt::format("error: no job `{}` in {} (jobs: {})\n", options.job, options.spec, fmt::join(names, ", ")));
    throw CLI::RuntimeError(2);
}

/// Produces sample events (JSON lines, optional `_time`) to the job's topic with the event envelope headers.
uint64_t seedTopic(const plan::Job& job, const std::string& brokers, const std::string& path) {
    const plan::Source& source = job.pipeline().source();
    google::protobuf::DescriptorPool pool;
    for (const auto& file : source.descriptors().file()) pool.BuildFile(file);
    const google::protobuf::Descriptor* descriptor = pool.FindMessageTypeByName(source.message_type());
    if (!descriptor) throw std::runtime_error("the plan's message type is missing from its descriptors");
    google::protobuf::DynamicMessageFactory factory(&pool);
    std::ifstream in(path);
    if (!in) throw UserError(fmt::format("cannot read seed file `{}`", path));
    runtime::KafkaProducer producer(brokers);
    // Records are keyed by the job's GROUP BY key, as a topic keyed by the entity is: each partition's task then sees
    // all of its keys' records (the Kafka job refuses a key that arrives in two partitions).
    runtime::RecordDecoder decoder(source);
    std::vector<runtime::CompiledExpression> groupKeys;
    if (job.pipeline().has_window())
        for (const auto& key : job.pipeline().window().group_keys()) groupKeys.push_back(runtime::CompiledExpression::compile(key));
    runtime::Row row;
    std::string line;
    uint64_t produced = 0, lineNumber = 0;
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    while (std::getline(in, line)) {
        ++lineNumber;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        bool timeOk = true;
        auto createdAt = runtime::extractEnvelopeTime(line, timeOk);
        std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(descriptor)->New());
        if (!timeOk || !google::protobuf::util::JsonStringToMessage(line, message.get()).ok()) {
            std::cerr << fmt::format("{}:{}: skipped: not a {} in JSON\n", path, lineNumber, source.message_type());
            continue;
        }
        runtime::EventEnvelope envelope;
        envelope.createdAtMs = createdAt.value_or(now);
        envelope.source = "pipec-seed";
        envelope.encoding = runtime::PayloadEncoding::Protobuf;
        envelope.schema = source.message_type();
        std::string payload = message->SerializeAsString();
        std::string key;
        if (decoder.decodeProtobuf(payload, *envelope.createdAtMs, row, nullptr) == runtime::RecordDecoder::Status::Ok)
            for (size_t i = 0; i < groupKeys.size(); ++i) {
                runtime::Value value = groupKeys[i].evaluate(row);
                if (i > 0) key += '|';
                key += value.isNull ? "null" : !value.s.empty() ? value.s : fmt::format("{}:{}", value.i, value.d);
            }
        producer.produce(source.topic(), key, payload, runtime::encodeEnvelope(envelope));
        ++produced;
    }
    // Running on a topic that did not get its sample events would look like a job that lost them.
    if (!producer.flush(30'000))
        throw UserError(fmt::format("could not deliver the seed events to the Kafka cluster at {} within 30 s{}", brokers,
                                    producer.lastError().empty() ? "" : ": " + producer.lastError()),
                        UserError::kEnvironmentRefused);
    if (producer.failed() > 0)
        throw UserError(fmt::format("{} of {} seed events were refused by the Kafka cluster at {}: {}", producer.failed(), produced,
                                    brokers, producer.lastError()),
                        UserError::kEnvironmentRefused);
    return produced;
}

int runReplay(const plan::Job& job, const RunOptions& options) {
    std::ofstream outputFile;
    std::unique_ptr<runtime::RowSink> sink;
    if (!options.output.empty()) {
        outputFile.open(options.output, std::ios::binary | std::ios::trunc);
        if (!outputFile) {
            std::cerr << fmt::format("error: cannot write `{}`\n", options.output);
            return 2;
        }
        sink = std::make_unique<runtime::JsonLinesSink>(outputFile);
    } else if (options.sink == "jsonl" || !isatty(STDOUT_FILENO)) {
        sink = std::make_unique<runtime::JsonLinesSink>(std::cout);
    } else {
        sink = std::make_unique<runtime::TableSink>(std::cout);
    }
    runtime::PipelineExecutor executor(job.pipeline(), *sink);
    runtime::ReplayOptions replay;
    replay.inputPath = options.input;
    replay.format = options.inputFormat;
    replay.deadLetterPath = options.deadLetterFile;
    replay.maxFutureSkewMs = options.maxFutureSkewMs;
    runtime::ReplayStats stats;
    stats = runtime::replayFile(job.pipeline().source(), replay, [&](runtime::Row& row) { executor.process(row); });
    executor.finish();
    sink->flush();
    const auto& executed = executor.stats();
    // New counters go at the end, so that scripts reading the fields before them keep working.
    std::cerr << fmt::format("{}: {} records, {} decoded, {} malformed, {} without event time, {} filtered, {} late, {} rows out, "
                             "{} time in future, {} empty\n",
                             job.name(), stats.records, stats.decoded, stats.malformed, stats.missingTime, executed.rowsFiltered,
                             executed.lateRowsDropped, executed.rowsOut, stats.timeInFuture, stats.emptyValues);
    return 0;
}

int runKafka(const plan::Job& job, RunOptions& options) {
    std::string brokers = options.brokers;
    if (brokers.empty() && job.cluster_properties().count("bootstrap.servers")) brokers = job.cluster_properties().at("bootstrap.servers");
    std::unique_ptr<runtime::EmbeddedBroker> broker;
    const std::string& topic = job.pipeline().source().topic();
    const std::string group = options.group.empty() ? "pipec-" + job.name() : options.group;
    // A plan with a repartition exchange runs as two stages (docs/exchange.md), by default both in this process.
    const bool hasExchange = job.pipeline().has_exchange();
    if (options.stage != "all" && !hasExchange)
        throw UserError(fmt::format("--stage {}: `{}` has no repartition exchange (its topic is keyed by the GROUP BY key), so it runs as "
                                    "one stage; leave --stage out",
                                    options.stage, job.name()),
                        UserError::kBadInput);
    const bool runStage1 = hasExchange && options.stage != "2";
    const bool runStage2 = !hasExchange || options.stage != "1";
    const std::string repartitionTopic = runtime::repartitionTopicName(group, job.pipeline().job_name());
    if (brokers.empty() || brokers == "embedded") {
        broker = std::make_unique<runtime::EmbeddedBroker>();
        broker->createTopic(topic, options.partitions);
        if (hasExchange) broker->createTopic(repartitionTopic, options.partitions);
        // The embedded broker cannot create topics for its clients (no CreateTopics): the changelog is made here.
        broker->createTopic(options.changelogTopic.empty() ? runtime::changelogTopicName(group, job.pipeline().job_name())
                                                           : options.changelogTopic,
                            options.partitions);
        brokers = broker->bootstrapServers();
        std::cerr << fmt::format("started the embedded Kafka-protocol broker at {} (topic `{}`, {} partitions)\n", brokers, topic,
                                 options.partitions);
    }
    std::map<std::string, std::string> clusterProperties;
    for (const auto& [key, value] : job.cluster_properties())
        if (key != "bootstrap.servers") clusterProperties[key] = value;
    // Fail now, with the address, rather than wait forever on a cluster that is not there.
    if (!broker) runtime::requireReachableKafkaCluster(brokers, clusterProperties, 15'000);
    if (!options.seed.empty()) {
        uint64_t produced = seedTopic(job, brokers, options.seed);
        std::cerr << fmt::format("seeded `{}` with {} events from {}\n", topic, produced, options.seed);
    }
    if (hasExchange && !broker) {
        // Created here, before either stage subscribes: its partition count must be the source's.
        int sourcePartitions = runtime::topicPartitionCount(brokers, clusterProperties, topic);
        if (sourcePartitions <= 0)
            throw UserError(fmt::format("source topic `{}` does not exist on {}", topic, brokers), UserError::kEnvironmentRefused);
        runtime::ensureInternalTopic(brokers, clusterProperties,
                                     runtime::InternalTopic{repartitionTopic, sourcePartitions, {}, "repartition topic",
                                                            "stage 2's state moves with the repartition partition, one per source "
                                                            "partition; delete it or use another group"});
    }
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    // A kafka sink on the embedded broker writes to a topic that broker must have.
    if (broker)
        for (const auto& sink : job.sinks())
            if (sink.type() == "kafka" && !sink.properties().count("bootstrap_servers")) broker->createTopic(runtime::kafkaSinkTopic(sink), 1);
    runtime::SinkFactoryOptions sinkOptions;
    sinkOptions.mode = runtime::parseSinkMode(options.sink).value_or(runtime::SinkMode::Auto);
    sinkOptions.brokers = brokers;
    sinkOptions.cancel = &gStop;
    sinkOptions.output = &std::cout;
    runtime::FanoutSink sinks = runStage2 ? runtime::buildSinks(job, sinkOptions) : runtime::FanoutSink{};
    runtime::KafkaJobOptions kafka;
    kafka.brokers = brokers;
    kafka.groupId = group;
    kafka.topics = {topic};
    kafka.deadLetterTopic = options.deadLetterTopic;
    kafka.idleTimeoutMs = options.idleTimeoutMs;
    kafka.maxFutureSkewMs = options.maxFutureSkewMs;
    kafka.untilEnd = options.untilEnd;
    kafka.commitIntervalMs = options.commitIntervalMs;
    kafka.checkpointIntervalMs = options.checkpointIntervalMs;
    kafka.changelogTopic = options.changelogTopic;
    kafka.sessionTimeoutMs = options.sessionTimeoutMs;
    kafka.instanceId = options.instanceId;
    kafka.sinkDownThresholdMs = options.sinkDownThresholdMs;
    kafka.properties = clusterProperties;
    kafka.strictSplitKeys = options.strict;
    if (hasExchange) {
        kafka.exchangeInput = true;
        kafka.topics = {repartitionTopic};
        kafka.groupId = runtime::stageTwoGroupName(group, job.pipeline().job_name());
        if (kafka.changelogTopic.empty()) kafka.changelogTopic = runtime::changelogTopicName(group, job.pipeline().job_name());
    }
    runtime::ExchangeSourceOptions stage1;
    stage1.brokers = brokers;
    stage1.groupId = group;
    stage1.repartitionTopic = repartitionTopic;
    stage1.deadLetterTopic = options.deadLetterTopic;
    stage1.idleTimeoutMs = options.idleTimeoutMs;
    stage1.maxFutureSkewMs = options.maxFutureSkewMs;
    stage1.untilEnd = options.untilEnd;
    stage1.sessionTimeoutMs = options.sessionTimeoutMs;
    stage1.instanceId = options.instanceId.empty() ? "" : options.instanceId + "-stage1";
    stage1.properties = clusterProperties;
    runtime::JobStatus status;
    status.sink = &sinks;  // for the sink health metrics and readiness; `sinks` outlives the metrics server
    std::unique_ptr<runtime::MetricsServer> metrics;
    if (options.metricsPort > 0) {
        std::string name = job.name();
        int64_t threshold = kafka.sinkDownThresholdMs;
        metrics = std::make_unique<runtime::MetricsServer>(
            options.metricsPort, [&status, name] { return status.prometheusText(name); },
            runtime::MetricsServer::ReadinessCallback([&status, threshold] { return status.notReadyReason(threshold); }));
    }
    if (hasExchange)
        std::cerr << fmt::format("running `{}` in two stages ({}): {} → {} (group {}) → aggregation → sinks (group {}){}\n", job.name(),
                                 options.stage == "all" ? "both here" : "stage " + options.stage + " here", topic, repartitionTopic, group,
                                 kafka.groupId, options.untilEnd ? ", until the end of the topic" : "; Ctrl-C stops");
    else
        std::cerr << fmt::format("running `{}`: {} → {} (group {}){}\n", job.name(), topic, "sinks",
                                 kafka.groupId, options.untilEnd ? ", until the end of the topic" : "; Ctrl-C stops");
    // Progress: a live status line on a terminal, a log line every 10 s otherwise.
    std::atomic<bool> progressDone{false};
    std::thread progress([&] {
        bool terminal = isatty(STDERR_FILENO);
        auto interval = std::chrono::milliseconds(terminal ? 1000 : 10000);
        uint64_t lastRecords = 0;
        auto last = std::chrono::steady_clock::now();
        while (!progressDone.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            auto now = std::chrono::steady_clock::now();
            if (now - last < interval) continue;
            uint64_t records = status.recordsIn.load();
            double seconds = std::chrono::duration<double>(now - last).count();
            int64_t watermark = status.watermarkMs.load();
            std::string line = fmt::format("{}: {:.0f} events/s, {} in, {} bad, {} late, {} rows out, watermark {}, lag {}", job.name(),
                                           static_cast<double>(records - lastRecords) / seconds, records, status.badTotal(),
                                           status.late.load(), status.rowsOut.load(),
                                           watermark == INT64_MIN ? std::string("none") : runtime::formatTimestamp(watermark),
                                           status.lag.load());
            std::cerr << (terminal ? "\r\x1b[2K" + line : line + "\n") << std::flush;
            lastRecords = records;
            last = now;
        }
        if (terminal) std::cerr << "\n";
    });
    int result = 0;
    std::exception_ptr stage1Error;
    std::thread stage1Thread;
    try {
        if (runStage1 && runStage2) {
            // Stage 1 beside stage 2: whichever fails stops the other, and its error is the one reported.
            stage1Thread = std::thread([&] {
                try {
                    runtime::ExchangeSourceJob source(job.pipeline(), stage1, status);
                    source.run(gStop);
                } catch (...) {
                    stage1Error = std::current_exception();
                    gStop = true;
                }
            });
        }
        if (runStage2) {
            try {
                result = runtime::runKafkaJob(job.pipeline(), kafka, sinks, gStop, status);
            } catch (...) {
                gStop = true;
                if (stage1Thread.joinable()) stage1Thread.join();
                throw;
            }
            if (stage1Thread.joinable()) stage1Thread.join();
            if (stage1Error) std::rethrow_exception(stage1Error);
        } else {
            runtime::ExchangeSourceJob source(job.pipeline(), stage1, status);
            result = source.run(gStop);
        }
    } catch (...) {
        progressDone = true;
        progress.join();
        throw;
    }
    progressDone = true;
    progress.join();
    // New counters go at the end, so that scripts reading the fields before them keep working.
    std::cerr << fmt::format("{}: {} records, {} decoded, {} rejected ({} dead-lettered), {} late, {} rows out, {} commits, {} split\n",
                             job.name(), status.recordsIn.load(), status.decoded.load(), status.badTotal(), status.deadLettered.load(),
                             status.late.load(), status.rowsOut.load(), status.commits.load(), status.splitKeys.load());
    return result;
}

} // namespace

void registerRunCommand(CLI::App& app) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* command = app.add_subcommand("run", "Run a job: offline over a file of events (--input), or against Kafka "
                                                  "(the embedded broker on the local environment) writing features to its sinks");
    command->add_option("spec", options->spec, "Spec file");
    command->add_option("--plan", options->planPath, "Run a compiled plan (plan.pb from `pipec compile`) instead of a spec");
    command->add_option("--job", options->job, "The source job to run when the spec defines several");
    command->add_option("--input", options->input, "Replay events from a file (JSON lines, or length-delimited Protobuf)");
    command->add_option("--output", options->output, "With --input: write result rows as JSON lines here (default stdout)");
    command->add_option("--input-format", options->inputFormat, "json | binary (default: by extension)")
        ->check(CLI::IsMember({"json", "binary"}));
    command->add_option("--dead-letter", options->deadLetterFile, "With --input: copy rejected records to this file");
    command->add_option("--brokers", options->brokers, "Kafka bootstrap servers (default: the environment's cluster; `embedded` starts one)");
    command->add_option("--group", options->group, "Consumer group id (default pipec-<job>)");
    command->add_option("--seed", options->seed, "Produce these sample events (JSON lines) to the topic before running");
    command->add_flag("--until-end", options->untilEnd, "Stop at the end of the topic, firing every open window");
    command->add_option("--dead-letter-topic", options->deadLetterTopic, "Topic for rejected records");
    command->add_option("--idle-timeout", options->idleTimeoutMs, "Milliseconds after which a silent partition stops holding the watermark")
        ->capture_default_str();
    command->add_option("--max-future-skew", options->maxFutureSkewMs,
                        "Milliseconds an event time may be ahead of the wall clock (Kafka) or of the records around it "
                        "(--input) before it is rejected as time_in_future; 0 or less: not checked")
        ->capture_default_str();
    command->add_option("--commit-interval", options->commitIntervalMs,
                        "Milliseconds between sink flushes (offsets are committed with checkpoints)")
        ->capture_default_str();
    command->add_option("--checkpoint-interval", options->checkpointIntervalMs,
                        "Milliseconds between checkpoints: window state to the changelog topic, then the source offsets committed")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command->add_option("--changelog-topic", options->changelogTopic,
                        "The changelog topic for the window state (default <group>-<job>-changelog; created when missing)");
    command->add_option("--session-timeout", options->sessionTimeoutMs, "Consumer group session timeout (ms)")->capture_default_str();
    command->add_option("--instance-id", options->instanceId,
                        "Static group membership (group.instance.id): a member restarted with the same id within the session "
                        "timeout keeps its partitions without a rebalance (e.g. a StatefulSet pod name)");
    command->add_option("--partitions", options->partitions, "Partitions of the topic on the embedded broker")->capture_default_str();
    command->add_option("--sink", options->sink, "auto (the features' sinks as configured: redis, kafka, stdout; stdout when a local Redis is not running) | "
                        "redis (only the Redis sinks) | stdout (a table) | jsonl (JSON lines on stdout)")
        ->check(CLI::IsMember({"auto", "redis", "stdout", "jsonl"}))
        ->capture_default_str();
    command->add_option("--metrics-port", options->metricsPort, "Serve Prometheus /metrics, /healthz and /readyz on this port");
    command->add_option("--sink-down-threshold", options->sinkDownThresholdMs,
                        "Milliseconds a sink may stay blocked (its backend down) before /readyz answers 503; 0 never")
        ->capture_default_str();
    command->add_option("--stage", options->stage,
                        "For a plan with a repartition exchange: all (both stages in this process), 1 (read the source, produce "
                        "to the repartition topic) or 2 (aggregate the repartition topic into the sinks)")
        ->check(CLI::IsMember({"all", "1", "2"}))
        ->capture_default_str();
    command->add_flag("--strict", options->strict,
                      "Stop with an error when a GROUP BY key arrives in two partitions of a topic the spec says is keyed by it "
                      "(default: count it in pipec_split_keys_total and log it)");
    options->flags.add(*command);
    command->callback([options] {
        plan::Job job = loadJob(*options);
        // Secrets are named in the plan (`${NAME}`), never written there: read them from the environment now.
        runtime::expandSecretReferences(job, [](const char* name) { return std::getenv(name); });
        int result = options->input.empty() ? runKafka(job, *options) : runReplay(job, *options);
        if (result != 0) throw CLI::RuntimeError(result);
    });
}

} // namespace pipec::cli
