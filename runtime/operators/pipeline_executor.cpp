#include "runtime/operators/pipeline_executor.h"

#include <algorithm>
#include <stdexcept>

namespace pipec::runtime {

namespace {
constexpr uint64_t kSnapshotVersion = 2;

void openSink(const plan::Pipeline& plan, RowSink& sink) {
    std::vector<plan::OutputColumn> columns(plan.output_columns().begin(), plan.output_columns().end());
    sink.open(columns);
}
} // namespace

PipelineExecutor::PipelineExecutor(const plan::Pipeline& plan, RowSink& sink)
    : jobName_(plan.job_name()), chain_(plan, sink), delay_(std::max<int64_t>(0, plan.source().watermark_delay_ms())) {
    openSink(plan, sink);
}

PipelineExecutor::~PipelineExecutor() = default;

void PipelineExecutor::process(Row& row) {
    int64_t time = row[0].i;
    if (row[0].isNull || time <= -kEventTimeLimit || time >= kEventTimeLimit) {
        ++rowsOutOfRange_;
        return;
    }
    // A batch of one: the watermark moves after every row, so which rows are late does not depend on batching.
    batch_.clear();
    batch_.append(time).swap(row);
    chain_.process(batch_);
    batch_.rows[0].swap(row);  // a batch of one is never reordered: give the caller its row back
    if (!external_ && time > maxEventTime_) {
        maxEventTime_ = time;
        advanceWatermark(time - delay_);
    }
}

void PipelineExecutor::advanceWatermark(int64_t watermark) { chain_.advanceWatermark(watermark); }

void PipelineExecutor::finish() { chain_.finish(); }

PipelineStats PipelineExecutor::stats() const {
    ChainStats chain = chain_.stats();
    PipelineStats stats;
    stats.rowsIn = chain.rowsIn + rowsOutOfRange_;
    stats.rowsFiltered = chain.rowsFiltered;
    stats.lateRowsDropped = chain.lateRowsDropped;
    stats.rowsOutOfRange = rowsOutOfRange_;
    stats.rowsOut = chain.rowsOut;
    stats.windowsFired = chain.windowsFired;
    stats.watermark = chain_.watermark();
    return stats;
}

std::string PipelineExecutor::snapshot() const {
    StateWriter writer;
    writer.writeU64(kSnapshotVersion);
    writer.writeString(jobName_);
    writer.writeI64(maxEventTime_);
    writer.writeU64(rowsOutOfRange_);
    chain_.snapshot(writer);
    return writer.take();
}

void PipelineExecutor::restore(std::string_view bytes) {
    StateReader reader(bytes);
    if (reader.readU64() != kSnapshotVersion) throw std::runtime_error("snapshot version not supported");
    if (reader.readString() != jobName_) throw std::runtime_error("snapshot belongs to another job");
    maxEventTime_ = reader.readI64();
    rowsOutOfRange_ = reader.readU64();
    chain_.restore(reader);
    if (!reader.atEnd()) throw std::runtime_error("corrupt snapshot: trailing bytes");
}

} // namespace pipec::runtime
