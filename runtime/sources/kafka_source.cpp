#include "runtime/sources/kafka_source.h"

#include <algorithm>

#include "runtime/operators/pipeline_executor.h"
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
    void flush() override { inner_.flush(); }

private:
    RowSink& inner_;
    std::atomic<uint64_t>& rows_;
};

/// The production processor: the plan's record decoder feeding the pipeline executor.
class ExecutorProcessor : public KafkaRecordProcessor {
public:
    ExecutorProcessor(const plan::Pipeline& pipeline, RowSink& sink)
        : decoder_(pipeline.source()), executor_(pipeline, sink) {
        executor_.setExternalWatermark(true);
    }

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
    void process(Row& row) override { executor_.process(row); }
    void processFrom(Row& row, int32_t origin) override { executor_.process(row, origin); }
    void discardOrigins(const std::vector<int32_t>& origins) override {
        executor_.discardOrigins([&](int32_t origin) { return std::find(origins.begin(), origins.end(), origin) != origins.end(); });
    }
    void advanceWatermark(int64_t watermarkMs) override { executor_.advanceWatermark(watermarkMs); }
    void finish() override { executor_.finish(); }
    uint64_t lateRows() const override { return executor_.stats().lateRowsDropped; }
    bool complete(int64_t time) const override { return executor_.complete(time); }
    int64_t completionGranularity() const override { return executor_.completionGranularity(); }

private:
    RecordDecoder decoder_;
    PipelineExecutor executor_;
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
