#pragma once

#include "runtime/sinks/fanout_sink.h"
#include "runtime/sinks/redis_feature_sink.h"

#include <pipec/plan.pb.h>

#include <atomic>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pipec::runtime {

/// Which of a job's outputs to build (`pipec run --sink`).
enum class SinkMode {
    Auto,      // the features' sinks as configured (Redis, Kafka, stdout); a local Redis that is down: stdout instead
    Redis,     // only the Redis sinks
    Stdout,    // a table on the output stream
    JsonLines, // JSON lines on the output stream
};

/// Parses `auto` | `redis` | `stdout` | `jsonl`.
std::optional<SinkMode> parseSinkMode(std::string_view name);

struct SinkFactoryOptions {
    SinkMode mode = SinkMode::Auto;
    /// The job's Kafka cluster: where a `kafka` sink without `bootstrap_servers` writes.
    std::string brokers;
    /// Set when the job stops: a Redis sink that cannot deliver then gives up instead of retrying forever.
    const std::atomic<bool>* cancel = nullptr;
    /// Where the table and JSON-lines sinks write (stdout for the CLI); must outlive the sinks.
    std::ostream* output = nullptr;
    /// One line per sink built ("writing features to Redis sink …") and per fallback; default stderr.
    std::function<void(const std::string&)> log;
};

/// Builds the sinks a job writes to, as chosen by `options.mode`. Throws UserError when that leaves nothing to write
/// to: consuming (and committing offsets) without a sink would drop every row.
FanoutSink buildSinks(const plan::Job& job, const SinkFactoryOptions& options);

/// The settings of each Redis sink of `job` (by sink name), with the features it materializes: address, key format,
/// password, and per feature its column and TTL. buildSinks connects sinks with them; `pipec test` formats its
/// recorded features with them, so both read the environment's sinks the same way.
std::map<std::string, RedisFeatureSinkOptions> redisFeatureSinkOptions(const plan::Job& job);

/// The topic a `kafka` sink writes to: its `topic` setting, or the feature's name.
std::string kafkaSinkTopic(const plan::Sink& sink);

} // namespace pipec::runtime
