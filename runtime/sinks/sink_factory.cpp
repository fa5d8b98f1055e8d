#include "runtime/sinks/sink_factory.h"

#include "runtime/core/user_error.h"
#include "runtime/sinks/json_lines_sink.h"
#include "runtime/sinks/kafka_sink.h"
#include "runtime/sinks/redis_feature_sink.h"
#include "runtime/sinks/table_sink.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <iostream>
#include <map>
#include <memory>
#include <utility>

namespace pipec::runtime {

namespace {

bool redisReachable(const std::string& host, int port) {
    timeval timeout{0, 300'000};
    redisContext* context = redisConnectWithTimeout(host.c_str(), port, timeout);
    bool ok = context && !context->err;
    if (context) redisFree(context);
    return ok;
}

/// "name (type)" for each of the job's sinks, for error messages.
std::string describeSinks(const plan::Job& job) {
    std::string text;
    for (const auto& sink : job.sinks())
        text += fmt::format("{}{} ({})", text.empty() ? "" : ", ", sink.name(), sink.type().empty() ? "unconfigured" : sink.type());
    return text;
}

std::string_view sinkModeName(SinkMode mode) {
    switch (mode) {
    case SinkMode::Auto: return "auto";
    case SinkMode::Redis: return "redis";
    case SinkMode::Stdout: return "stdout";
    case SinkMode::JsonLines: return "jsonl";
    }
    return "auto";
}

} // namespace

std::optional<SinkMode> parseSinkMode(std::string_view name) {
    for (SinkMode mode : {SinkMode::Auto, SinkMode::Redis, SinkMode::Stdout, SinkMode::JsonLines})
        if (sinkModeName(mode) == name) return mode;
    return std::nullopt;
}

std::string kafkaSinkTopic(const plan::Sink& sink) {
    return sink.properties().count("topic") ? sink.properties().at("topic") : sink.feature_name();
}

std::map<std::string, RedisFeatureSinkOptions> redisFeatureSinkOptions(const plan::Job& job) {
    std::map<std::string, RedisFeatureSinkOptions> bySink;
    for (const auto& sink : job.sinks()) {
        if (sink.type() != "redis") continue;
        auto& redis = bySink[sink.name()];
        redis.name = sink.name();
        parseRedisAddress(sink.properties().count("address") ? sink.properties().at("address") : std::string("127.0.0.1:6379"), redis);
        if (sink.properties().count("key_format")) redis.keyFormat = sink.properties().at("key_format");
        if (sink.properties().count("password")) redis.password = sink.properties().at("password");
        redis.features.push_back(RedisFeature{sink.feature_name(), sink.column(), sink.ttl_seconds()});
    }
    return bySink;
}

FanoutSink buildSinks(const plan::Job& job, const SinkFactoryOptions& options) {
    auto log = options.log ? options.log : [](const std::string& line) { std::cerr << line << "\n"; };
    std::ostream& output = options.output != nullptr ? *options.output : std::cout;
    const bool automatic = options.mode == SinkMode::Auto;
    FanoutSink sinks;
    bool wantTable = options.mode == SinkMode::Stdout;
    if (options.mode == SinkMode::JsonLines) sinks.add(std::make_unique<JsonLinesSink>(output));
    if (options.mode == SinkMode::Redis || automatic) {
        std::map<std::string, RedisFeatureSinkOptions> bySink;
        std::map<std::pair<std::string, std::string>, KafkaSinkOptions> kafkaBySink;  // by (sink, topic)
        for (const auto& sink : job.sinks()) {
            if (sink.type() == "stdout" && automatic) wantTable = true;
            if (sink.type() == "kafka" && automatic) {
                // One producer per (sink, topic): features sharing a sink without a `topic` go to one topic each.
                auto& kafka = kafkaBySink[{sink.name(), kafkaSinkTopic(sink)}];
                kafka.topic = kafkaSinkTopic(sink);
                kafka.brokers = sink.properties().count("bootstrap_servers") ? sink.properties().at("bootstrap_servers") : options.brokers;
                // On the job's own cluster the producer needs the cluster's settings (security) too.
                if (!sink.properties().count("bootstrap_servers"))
                    for (const auto& [key, value] : job.cluster_properties())
                        if (key != "bootstrap.servers") kafka.properties[key] = value;
                for (const auto& [key, value] : sink.properties())
                    if (key != "topic" && key != "bootstrap_servers") kafka.properties[key] = value;
            }
        }
        for (auto& [name, redis] : redisFeatureSinkOptions(job)) {
            redis.cancel = options.cancel;
            bySink.emplace(name, std::move(redis));
        }
        for (auto& [name, redis] : bySink) {
            if (automatic && job.environment() == "local" && !redisReachable(redis.host, redis.port)) {
                log(fmt::format("note: Redis sink `{}` at {}:{} is not reachable; printing features to stdout instead "
                                "(start `redis-server` to write them)", name, redis.host, redis.port));
                wantTable = true;
                continue;
            }
            log(fmt::format("writing features to Redis sink `{}` at {}:{}", name, redis.host, redis.port));
            sinks.add(std::make_unique<RedisFeatureSink>(redis));
        }
        for (auto& [sinkAndTopic, kafka] : kafkaBySink) {
            log(fmt::format("writing rows to Kafka sink `{}`: topic `{}` at {}", sinkAndTopic.first, kafka.topic, kafka.brokers));
            sinks.add(std::make_unique<KafkaSink>(kafka));
        }
        if (job.sinks().empty() && automatic) wantTable = true;
    }
    if (wantTable) sinks.add(std::make_unique<TableSink>(output));
    if (sinks.empty())
        throw UserError(fmt::format("job `{}` has no sink to write to with --sink {} (its features' sinks: {})", job.name(),
                                    sinkModeName(options.mode), job.sinks().empty() ? "none" : describeSinks(job)));
    return sinks;
}

} // namespace pipec::runtime
