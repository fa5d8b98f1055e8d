#pragma once

#include "runtime/kafka/kafka_job_status.h"

#include <pipec/plan.pb.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace pipec::runtime {

/// The repartition topic of a job run by a group: `<group>-<job>-repartition`.
std::string repartitionTopicName(const std::string& groupId, const std::string& jobName);
/// The consumer group of a job's second stage: `<group>-<job>-stage2`.
std::string stageTwoGroupName(const std::string& groupId, const std::string& jobName);

struct ExchangeSourceOptions {
    std::string brokers;
    std::string groupId;                  // the job's group: stage 1 commits the source offsets there
    std::string repartitionTopic;         // empty: repartitionTopicName(groupId, job)
    std::string deadLetterTopic;
    int64_t idleTimeoutMs = 30000;
    int64_t maxFutureSkewMs = 3'600'000;
    bool untilEnd = false;                // stop at the end of every assigned partition, marking it ended
    int64_t markerIntervalMs = 200;       // how often each source partition's watermark marker goes out
    int64_t commitIntervalMs = 1000;      // wait for the repartition records' acknowledgements, then commit
    int sessionTimeoutMs = 6000;
    std::string instanceId{};
    size_t batchSize = 1000;
    std::map<std::string, std::string> properties;
    int64_t lagIntervalMs = 5000;
    std::function<void(const std::string&)> log;
};

/// Stage 1 of a plan with a repartition exchange (docs/exchange.md): a consumer-group member that reads the source
/// topic, admits records exactly as a Kafka job does (bad ones counted and dead-lettered), applies the plan's WHERE,
/// and produces each row's carried columns to the repartition partition of its GROUP BY key. Every `markerIntervalMs`
/// it writes, for each source partition it reads, a watermark marker to every repartition partition. Source offsets
/// are committed only after every repartition record before them was acknowledged, so a crash re-produces at most
/// what came after the last commit — which stage 2 recognises by source partition and offset and drops.
/// Stage 1 keeps no state: its restart cost is the records since its last commit.
class ExchangeSourceJob {
public:
    ExchangeSourceJob(const plan::Pipeline& pipeline, ExchangeSourceOptions options, JobStatus& status);
    ~ExchangeSourceJob();
    ExchangeSourceJob(const ExchangeSourceJob&) = delete;
    ExchangeSourceJob& operator=(const ExchangeSourceJob&) = delete;

    /// Runs until `stop` or, with `untilEnd`, until every assigned partition is drained and marked ended. Throws on a
    /// fatal error without committing what the repartition topic did not acknowledge.
    int run(std::atomic<bool>& stop);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace pipec::runtime
