#include "runtime/sources/kafka_source.h"

#include "runtime/operators/partitioned_executor.h"
#include "runtime/operators/record_decoder.h"

namespace pipec::runtime {
namespace {

/// Counts the rows the executor emits on their way to the real sink.
class CountingSink : public RowSink {
public:
    CountingSink(RowSink& inner, std::atomic<uint64_t>& rows) : inner_(inner), rows_(rows) {}
    void open(const std::vector<plan::OutputColumn>& columns) override { inner_.open(columns); }
    void write(const Row& row) override {
        inner_.write(row);
        rows_++;
    }
    void writeWindowed(const Row& row, int64_t windowEndMs) override {
        inner_.writeWindowed(row, windowEndMs);
        rows_++;
    }
    void flush() override { inner_.flush(); }
    void health(std::vector<SinkHealth>& out) const override { inner_.health(out); }

private:
    RowSink& inner_;
    std::atomic<uint64_t>& rows_;
};

/// The production processor: the plan's record decoder feeding the pipeline executor.
class ExecutorProcessor : public KafkaRecordProcessor {
public:
    ExecutorProcessor(const plan::Pipeline& pipeline, RowSink& sink)
        : decoder_(pipeline.source()), executor_(pipeline, sink) {}

    DecodeOutcome decode(PayloadEncoding encoding, std::string_view payload, int64_t envelopeTimeMs, Row& row,
                         std::string& error) override {
        RecordDecoder::Status status = encoding == PayloadEncoding::Json
                                           ? decoder_.decodeJson(payload, envelopeTimeMs, row, &error)
                                           : decoder_.decodeProtobuf(payload, envelopeTimeMs, row, &error);
        switch (status) {
        case RecordDecoder::Status::Ok: return DecodeOutcome::Decoded;
        case RecordDecoder::Status::MissingTime: return DecodeOutcome::MissingTime;
        case RecordDecoder::Status::Malformed: break;
        }
        return DecodeOutcome::Undecodable;
    }
    bool stripConfluentFraming(std::string_view& payload) override {
        std::optional<std::string_view> stripped = runtime::stripConfluentFraming(payload);
        if (!stripped) return false;
        payload = *stripped;
        return true;
    }
    void process(Row& row) override { executor_.process(row, -1); }
    void processFrom(Row& row, int32_t origin) override { executor_.process(row, origin); }
    void discardOrigins(const std::vector<int32_t>& origins) override { executor_.discardOrigins(origins); }
    void advanceWatermark(int64_t watermarkMs) override { executor_.advanceWatermark(watermarkMs); }
    void finish() override { executor_.finish(); }
    uint64_t lateRows() const override { return executor_.lateRows(); }
    bool complete(int64_t time, int32_t origin) const override { return executor_.complete(time, origin); }
    int64_t completionGranularity() const override { return executor_.completionGranularity(); }
    void resumeMain(int64_t floorMs, int64_t emittedUpToMs) override { executor_.resumeMain(floorMs, emittedUpToMs); }
    void openLane(int32_t origin, int64_t floorMs, int64_t emittedUpToMs) override {
        executor_.openLane(origin, floorMs, emittedUpToMs);
    }
    size_t laneCount() const override { return executor_.laneCount(); }
    void setLaneWatermark(int64_t watermarkMs) override { executor_.setLaneTarget(watermarkMs); }
    void advanceLanes() override { executor_.advanceLanes(); }
    int64_t watermarkOf(int32_t origin, int64_t) const override { return executor_.watermarkOf(origin); }
    int64_t resumeFloorOf(int32_t origin, int64_t) const override { return executor_.resumeFloorOf(origin); }

private:
    RecordDecoder decoder_;
    PartitionedExecutor executor_;
};

} // namespace

int runKafkaJob(const plan::Pipeline& pipeline, const KafkaJobOptions& options, RowSink& sink,
                std::atomic<bool>& stop, JobStatus& status) {
    // The executor opens the sink with the plan's output columns.
    CountingSink countingSink(sink, status.rowsOut);
    ExecutorProcessor processor(pipeline, countingSink);
    return runKafkaLoop(pipeline, processor, options, countingSink, stop, status);
}

} // namespace pipec::runtime
