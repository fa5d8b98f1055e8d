#include "tools/spec_test/spec_test_runner.h"

#include "runtime/formats/record_decoder.h"
#include "runtime/kafka/kafka_job_status.h"
#include "runtime/kafka/kafka_partition_watermarks.h"
#include "runtime/kafka/record_admission.h"
#include "runtime/operators/pipeline_executor.h"
#include "runtime/sinks/fanout_sink.h"
#include "runtime/sinks/json_lines_sink.h"
#include "runtime/sinks/sink_factory.h"
#include "runtime/sources/envelope.h"
#include "runtime/sources/event_time_guard.h"

#include <fmt/format.h>

#include <limits>
#include <memory>

namespace pipec::spec_test {
namespace {

using runtime::BadRecordReason;
using runtime::Row;

/// Records every emitted row as the JSON values `pipec run --output` writes.
class RowRecorder : public runtime::RowSink {
public:
    explicit RowRecorder(TestOutcome& outcome) : outcome_(outcome) {}
    void open(const std::vector<plan::OutputColumn>& columns) override { outcome_.columns = columns; }
    void write(const Row& row) override {
        std::vector<JsonScalar> values;
        for (size_t i = 0; i < outcome_.columns.size() && i < row.size(); ++i) {
            scratch_.clear();
            runtime::appendJsonValue(scratch_, row[i], outcome_.columns[i].type());
            values.push_back(JsonScalar::fromJson(scratch_));
        }
        outcome_.rows.push_back(std::move(values));
    }
    void flush() override {}

private:
    TestOutcome& outcome_;
    std::string scratch_;
};

/// A decoded event, or why it was rejected.
struct DecodedEvent {
    Row row;
    std::optional<BadRecordReason> rejected;
    std::string detail;
};

/// Decodes one event with the rules of the path it stands for. Fields: `pipec run --input`'s JSON line (`_time` as the
/// envelope time, the Protobuf JSON mapping). `_raw`: the Kafka job's record, through the Kafka job's own admission
/// (RecordAdmission: tombstone, empty value, envelope headers, encoding and schema, Confluent framing, payload, time
/// range); its wall-clock guard is off here, the replay's guard below decides on times in the future.
DecodedEvent decode(runtime::RecordDecoder& decoder, runtime::RecordAdmission& admission, const EventStep& event) {
    DecodedEvent result;
    auto reject = [&](BadRecordReason reason, std::string detail) {
        result.rejected = reason;
        result.detail = std::move(detail);
        return result;
    };
    if (event.raw) {
        std::vector<runtime::HeaderView> headers;
        for (const auto& [name, value] : event.headers) headers.emplace_back(name, value);
        runtime::SourceRecordView record{!event.value.has_value(), event.key, event.value ? std::string_view(*event.value) : std::string_view(),
                                         headers};
        runtime::Rejection rejection;
        if (!admission.admit(record, 0, result.row, rejection)) return reject(rejection.reason, std::move(rejection.detail));
        return result;
    }
    std::string error;
    std::string json = event.json;
    bool timeOk = true;
    std::optional<int64_t> envelopeTime = runtime::extractEnvelopeTime(json, timeOk);
    if (!timeOk) return reject(BadRecordReason::InvalidCreatedAt, "`_time` is neither epoch millis nor an ISO-8601 timestamp");
    runtime::RecordDecoder::Status status =
        decoder.decodeJson(json, envelopeTime.value_or(std::numeric_limits<int64_t>::min()), result.row, &error);
    if (status == runtime::RecordDecoder::Status::MissingTime)
        return reject(BadRecordReason::MissingTime, "no event time (add `_time` or set the source's time_field)");
    if (status != runtime::RecordDecoder::Status::Ok) return reject(BadRecordReason::UndecodablePayload, error);
    if (result.row.empty() || result.row[0].isNull) return reject(BadRecordReason::MissingTime, "the time field is NULL");
    int64_t time = result.row[0].i;
    if (time <= -runtime::kEventTimeLimit || time >= runtime::kEventTimeLimit)
        return reject(BadRecordReason::TimeOutOfRange, fmt::format("event time {} ms", time));
    return result;
}

} // namespace

TestOutcome runTest(const plan::Job& job, const TestCase& test) {
    TestOutcome outcome;
    const plan::Pipeline& pipeline = job.pipeline();
    const plan::Source& source = pipeline.source();
    int64_t clockMs = 0;  // the virtual wall clock: only `idle` steps move it

    runtime::FanoutSink sinks;
    sinks.add(std::make_unique<RowRecorder>(outcome));
    std::vector<runtime::RecordingFeatureSink*> featureSinks;
    for (const auto& [name, options] : runtime::redisFeatureSinkOptions(job)) {
        auto sink = std::make_unique<runtime::RecordingFeatureSink>(options, [&clockMs] { return clockMs; });
        featureSinks.push_back(sink.get());
        sinks.add(std::move(sink));
    }
    runtime::PipelineExecutor executor(pipeline, sinks);
    executor.setExternalWatermark(true);

    // Decode every event first: the replay's time guard decides on a record with the records after it (up to
    // eight), whatever steps lie in between, and its verdicts depend only on the sequence of event times.
    runtime::RecordDecoder decoder(source);
    runtime::RecordAdmission admission(source, 0);
    std::vector<DecodedEvent> decoded;
    runtime::ReplayTimeGuard guard;
    for (const auto& step : test.steps) {
        if (const auto* event = std::get_if<EventStep>(&step)) {
            decoded.push_back(decode(decoder, admission, *event));
            if (!decoded.back().rejected) guard.push(decoded.back().row[0].i);
        }
    }
    guard.finish();
    for (auto& event : decoded) {
        if (event.rejected || guard.pop() == runtime::TimeVerdict::Accepted) continue;
        event.rejected = BadRecordReason::TimeInFuture;
        event.detail = fmt::format("event time {} ms is more than {} ms ahead of the events before and after it", event.row[0].i,
                                   runtime::EventTimeGuard::kDefaultMaxFutureSkewMs);
    }

    // The watermark of a Kafka task with one partition: the maximum event time seen, less the delay.
    const runtime::TopicPartition partition(source.topic(), 0);
    runtime::KafkaPartitionWatermarks watermarks(kIdleTimeoutMs);
    watermarks.assign(partition, clockMs);
    const int64_t delay = std::max<int64_t>(0, source.watermark_delay_ms());
    auto propagate = [&] {
        if (auto minimum = watermarks.currentMinimum()) executor.advanceWatermark(*minimum - delay);
    };

    size_t next = 0;
    for (const auto& step : test.steps) {
        if (const auto* event = std::get_if<EventStep>(&step)) {
            DecodedEvent& current = decoded[next++];
            if (current.rejected) {
                bool deadLettered = runtime::isDeadLettered(*current.rejected);
                if (deadLettered) ++outcome.deadLetters;
                outcome.rejected.push_back(
                    RejectedEvent{event->location, std::string(runtime::badRecordReasonName(*current.rejected)), current.detail, deadLettered});
                continue;
            }
            int64_t time = current.row[0].i;
            executor.process(current.row);
            auto& state = watermarks.state(partition);
            watermarks.observe(state, time, clockMs);
            if (watermarks.watermarkBaseAfter(state, clockMs)) propagate();
        } else if (const auto* watermark = std::get_if<WatermarkStep>(&step)) {
            executor.advanceWatermark(watermark->watermarkMs);
        } else if (const auto* idle = std::get_if<IdleStep>(&step)) {
            // Each step is at most 2^60 ms (a duration's limit), but many of them could overflow the clock.
            if (__builtin_add_overflow(clockMs, idle->durationMs, &clockMs)) clockMs = std::numeric_limits<int64_t>::max();
            if (watermarks.watermarkBase(clockMs)) propagate();
        }
    }
    if (test.end == End::Flush) executor.finish();
    sinks.flush();

    outcome.late = executor.stats().lateRowsDropped;
    for (const auto* sink : featureSinks) outcome.features[sink->name()] = sink->held();
    return outcome;
}

} // namespace pipec::spec_test
