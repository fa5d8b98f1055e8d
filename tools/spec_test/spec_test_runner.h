#pragma once

#include "runtime/sinks/recording_feature_sink.h"
#include "tools/spec_test/json_scalar.h"
#include "tools/spec_test/spec_test_file.h"

#include <pipec/plan.pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pipec::spec_test {

/// How long a partition may deliver nothing before it stops holding the watermark back: `pipec run`'s default
/// `--idle-timeout`.
inline constexpr int64_t kIdleTimeoutMs = 30'000;

/// An event the job rejected, and why (the Kafka job's bad-record reason).
struct RejectedEvent {
    SourceLocation location;
    std::string reason;  // e.g. `undecodable_payload`
    std::string detail;
    bool deadLettered = true;  // tombstones are counted but not dead-lettered
};

/// What one test run produced.
struct TestOutcome {
    std::vector<plan::OutputColumn> columns;
    std::vector<std::vector<JsonScalar>> rows;  // emitted rows as `pipec run --output` writes them, in order
    /// What each Redis feature sink holds at the end, by sink name, then by key.
    std::map<std::string, std::map<std::string, runtime::RecordingFeatureSink::HeldKey>> features;
    uint64_t late = 0;
    uint64_t deadLetters = 0;
    std::vector<RejectedEvent> rejected;
};

/// Runs one test with the job's compiled plan through the production runtime: events decoded as `pipec run --input`
/// (fields) or the Kafka job (`_raw` records) decode them, with the same bad-record rules; the job's operator chain
/// driven by a PipelineExecutor; the watermark of a one-partition Kafka task (KafkaPartitionWatermarks) on a
/// virtual wall clock that only `idle` steps move; results written to the sinks of the job's environment, recorded
/// by RecordingFeatureSink (the Redis sink's formatting and write guard) instead of sent.
TestOutcome runTest(const plan::Job& job, const TestCase& test);

} // namespace pipec::spec_test
