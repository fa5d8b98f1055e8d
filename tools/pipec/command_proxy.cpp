#include "proxy/api_key_store.h"
#include "proxy/cluster_producer.h"
#include "proxy/proxy_server.h"
#include "proxy/topic_directory.h"
#include "runtime/core/user_error.h"
#include "runtime/sources/embedded_broker.h"
#include "tools/pipec/command.h"
#include "tools/pipec/compiler_flags.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

namespace pipec::cli {
namespace {

std::atomic<bool> proxyStopRequested{false};

void requestProxyStop(int) {
    proxyStopRequested = true;
}

struct ProxyFlags {
    std::vector<std::string> specs;
    std::vector<std::string> plans; // --plan: compiled plans (a deployment) instead of specs
    std::string listen = "127.0.0.1:8082";
    std::string brokers;
    std::string apiKeysFile;
    bool insecure = false;
    std::vector<std::string> confluentTopics; // TOPIC=SCHEMA_ID
    std::vector<std::string> properties;      // NAME=VALUE
    int partitions = 4;
    int lingerMs = 5;
    std::string compression = "lz4";
    proxy::ProxyOptions options;
    CompilerFlags compiler;
};

bool isLoopback(const std::string &host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::pair<std::string, std::string> splitSetting(const std::string &text, const std::string &flag) {
    auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0)
        throw UserError(fmt::format("{} `{}`: expected NAME=VALUE", flag, text));
    return {text.substr(0, equals), text.substr(equals + 1)};
}

void runProxy(ProxyFlags &flags) {
    // Where to listen.
    auto colon = flags.listen.rfind(':');
    if (colon == std::string::npos) throw UserError(fmt::format("--listen `{}`: expected HOST:PORT", flags.listen));
    flags.options.host = flags.listen.substr(0, colon);
    if (flags.options.host.size() > 2 && flags.options.host.front() == '[')
        flags.options.host = flags.options.host.substr(1, flags.options.host.size() - 2);
    try {
        size_t used = 0;
        flags.options.port = std::stoi(flags.listen.substr(colon + 1), &used);
        if (used != flags.listen.size() - colon - 1 || flags.options.port < 0 || flags.options.port > 65535)
            throw std::invalid_argument("port");
    } catch (const std::exception &) {
        throw UserError(fmt::format("--listen `{}`: the port must be a number from 0 to 65535", flags.listen));
    }
    if ((flags.options.tlsCertificate.empty()) != (flags.options.tlsPrivateKey.empty()))
        throw UserError("--tls-cert and --tls-key go together");

    // Who may call: keys from the file and the environment; without any, loopback only unless --insecure.
    proxy::ApiKeyStore keys;
    if (!flags.apiKeysFile.empty()) keys.addFile(flags.apiKeysFile);
    keys.addFromEnvironment();
    if (keys.empty() && !isLoopback(flags.options.host) && !flags.insecure)
        throw UserError(
            fmt::format("refusing to listen on {} without API keys: anyone who reaches it could produce. Give "
                        "--api-keys FILE (or $PIPEC_PROXY_API_KEYS), listen on 127.0.0.1, or pass --insecure",
                        flags.options.host));

    std::map<std::string, int32_t> confluent;
    for (const auto &entry : flags.confluentTopics) {
        auto [topic, id] = splitSetting(entry, "--confluent-topic");
        try {
            confluent[topic] = std::stoi(id);
        } catch (const std::exception &) {
            throw UserError(fmt::format("--confluent-topic `{}`: the schema id must be a number", entry));
        }
    }
    // The specs, through the compiler: the same topics, messages and environment as `pipec run`. Or the compiled
    // plans of a deployment (`pipec compile --proxy` mounts them), whose environment is already resolved.
    if (flags.specs.empty() == flags.plans.empty())
        throw UserError("give the spec files or directories, or --plan files (one of them)");
    driver::Compilation compilation; // owns the descriptors of a directory built from specs
    proxy::TopicDirectory directory;
    if (!flags.plans.empty()) {
        std::vector<plan::Job> jobs;
        for (const auto &path : flags.plans) {
            std::ifstream in(path, std::ios::binary);
            if (!in) throw UserError(fmt::format("cannot read compiled plan `{}`", path));
            if (!jobs.emplace_back().ParseFromIstream(&in))
                throw UserError(fmt::format("`{}` is not a compiled plan (plan.pb of `pipec compile`)", path));
        }
        directory = proxy::TopicDirectory::fromPlans(jobs, flags.plans, confluent);
    } else {
        flags.compiler.finish();
        driver::compile(flags.specs, flags.compiler.options, compilation);
        if (flags.compiler.report(compilation)) throw CLI::RuntimeError(1);
        directory = proxy::TopicDirectory::build(compilation, confluent);
    }

    // The clusters: --brokers overrides every one; `embedded` (or none) starts the in-process broker.
    proxy::ClusterProducer::Options producerOptions;
    producerOptions.lingerMs = flags.lingerMs;
    producerOptions.compression = flags.compression;
    producerOptions.deliveryTimeoutMs = flags.options.deliveryTimeoutMs;
    for (const auto &property : flags.properties)
        producerOptions.extra.insert(splitSetting(property, "--property"));
    std::vector<std::unique_ptr<runtime::EmbeddedBroker>> brokers;
    std::map<std::string, std::unique_ptr<proxy::ClusterProducer>> producers;
    for (auto &cluster : directory.clusters()) {
        std::string bootstrap = flags.brokers.empty() ? cluster.bootstrapServers : flags.brokers;
        if (bootstrap.empty() || bootstrap == "embedded") {
            auto broker = std::make_unique<runtime::EmbeddedBroker>();
            std::vector<std::string> topics = directory.topicsOf(cluster.name);
            if (!flags.options.canaryTopic.empty() && cluster.name == directory.defaultCluster())
                topics.push_back(flags.options.canaryTopic);
            for (const auto &topic : topics)
                broker->createTopic(topic, flags.partitions);
            bootstrap = broker->bootstrapServers();
            std::cerr << fmt::format(
                "pipec proxy: started the embedded Kafka-protocol broker for cluster `{}` at {} ({} topic(s))\n",
                cluster.name, bootstrap, topics.size());
            std::cout << fmt::format("cluster {} bootstrap.servers={}\n", cluster.name, bootstrap);
            brokers.push_back(std::move(broker));
        }
        producers[cluster.name] = std::make_unique<proxy::ClusterProducer>(cluster, bootstrap, producerOptions);
    }

    proxy::ProxyServer server(flags.options, directory, keys, producers);
    server.start();
    std::signal(SIGINT, requestProxyStop);
    std::signal(SIGTERM, requestProxyStop);
    std::string scheme = flags.options.tlsCertificate.empty() ? "http" : "https";
    // Scripts read this line (with --listen HOST:0, it tells the port).
    std::cout << fmt::format("listening on {}://{}:{}\n", scheme, flags.options.host, server.port()) << std::flush;
    std::cerr << fmt::format("pipec proxy: {} typed topic(s) on {} cluster(s); {}; Ctrl-C stops\n",
                             directory.topics().size(), directory.clusters().size(),
                             keys.empty() ? std::string("no API keys (every caller is `anonymous`)")
                                          : fmt::format("{} API key(s)", keys.size()));
    while (!proxyStopRequested.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::cerr << "pipec proxy: stopping: finishing requests and flushing queued records\n";
    server.stop();
    for (auto &[name, producer] : producers)
        if (!producer->flush(flags.options.deliveryTimeoutMs))
            std::cerr << fmt::format("pipec proxy: cluster `{}`: {} record(s) still unacknowledged at exit\n", name,
                                     producer->queueDepth());
    producers.clear();
}

} // namespace

void registerProxyCommand(CLI::App &app) {
    auto flags = std::make_shared<ProxyFlags>();
    CLI::App *command = app.add_subcommand(
        "proxy",
        "Serve an HTTP API for producing events (Confluent REST Proxy v3/v2 compatible): each record is checked "
        "against its topic's message, encoded, wrapped in the event envelope and produced to Kafka. Prints "
        "`listening on http://HOST:PORT` on stdout once it accepts requests.");
    command->add_option("specs", flags->specs, "Spec files or directories: their Kafka sources type the topics");
    command->add_option("--plan", flags->plans,
                        "Compiled plans (plan.pb of `pipec compile`) instead of specs: their sources type the topics, "
                        "their environment gives the clusters");
    command->add_option("--listen", flags->listen, "HOST:PORT to serve on (port 0: any free port)")
        ->capture_default_str();
    command->add_option(
        "--brokers", flags->brokers,
        "Kafka bootstrap servers for every cluster (default: the environment's; `embedded` starts one)");
    command->add_option("--api-keys", flags->apiKeysFile,
                        "YAML list of {name, key | key_env, topics: [pattern…], records_per_second?}");
    command->add_flag("--insecure", flags->insecure, "Allow listening beyond loopback without API keys");
    command->add_flag("--allow-untyped-topics", flags->options.allowUntypedTopics,
                      "Pass BINARY/STRING/JSON values through to topics that no spec types");
    command->add_option("--async-topic", flags->options.asyncTopics,
                        "Answer 202 once queued for this topic (also: ?async=true)");
    command->add_option("--canary-topic", flags->options.canaryTopic, "Readiness produces a test record here first");
    command->add_option("--confluent-topic", flags->confluentTopics,
                        "TOPIC=SCHEMA_ID: write this topic in the Confluent wire format");
    command->add_option("--max-body-bytes", flags->options.maxBodyBytes, "Larger request bodies get 413")
        ->capture_default_str();
    command->add_option("--max-records", flags->options.maxRecordsPerRequest, "More records in one request get 413")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command
        ->add_option("--rate-limit", flags->options.recordsPerSecond,
                     "Records per second per client (a key's records_per_second overrides it); 0: none")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    command
        ->add_option("--delivery-timeout", flags->options.deliveryTimeoutMs,
                     "Milliseconds a record may wait for Kafka's acknowledgment (message.timeout.ms)")
        ->capture_default_str()
        ->check(CLI::Range(1000, 3600000));
    command->add_option("--linger-ms", flags->lingerMs, "Producer batching delay (linger.ms)")->capture_default_str();
    command->add_option("--compression", flags->compression, "Producer compression (none, gzip, snappy, lz4, zstd)")
        ->capture_default_str();
    command->add_option("--property", flags->properties, "Extra librdkafka producer property NAME=VALUE");
    command->add_option("--partitions", flags->partitions, "Partitions of each topic on the embedded broker")
        ->capture_default_str();
    command->add_option("--http-threads", flags->options.httpThreads, "Requests served concurrently")
        ->capture_default_str()
        ->check(CLI::Range(1, 4096));
    command->add_option("--tls-cert", flags->options.tlsCertificate, "PEM certificate: serve HTTPS");
    command->add_option("--tls-key", flags->options.tlsPrivateKey, "PEM private key of --tls-cert");
    command->add_flag("!--no-access-log", flags->options.accessLog, "Do not log one JSON line per request on stderr");
    flags->compiler.add(*command);
    command->callback([flags] { runProxy(*flags); });
}

} // namespace pipec::cli
