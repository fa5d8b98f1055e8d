#include "runtime/operators/pipeline_executor.h"

#include <stdexcept>

namespace pipec::runtime {

namespace {
constexpr uint64_t kSnapshotVersion = 1;
} // namespace

PipelineExecutor::PipelineExecutor(const plan::Pipeline& plan, RowSink& sink) : plan_(plan), sink_(sink) {
    for (const auto& filter : plan_.filters()) filters_.push_back(CompiledExpression::compile(filter));
    for (const auto& output : plan_.outputs()) {
        outputs_.push_back(CompiledExpression::compile(output));
        outputColumns_.push_back(output.kind_case() == plan::Expr::kColumn ? output.column() : -1);
    }
    delay_ = std::max<int64_t>(0, plan_.source().watermark_delay_ms());
    if (plan_.has_window() && plan_.window().kind() != plan::WINDOW_NONE) {
        window_ = WindowOperator::create(plan_.window());
        if (plan_.window().has_having()) having_ = CompiledExpression::compile(plan_.window().having());
        emit_ = [this](Row& row) { emitAggregate(row); };
    }
    std::vector<plan::OutputColumn> columns(plan_.output_columns().begin(), plan_.output_columns().end());
    sink_.open(columns);
    output_.resize(outputs_.size());
}

PipelineExecutor::~PipelineExecutor() = default;

void PipelineExecutor::writeOutput(const Row& input) {
    for (size_t i = 0; i < outputs_.size(); ++i) {
        // Most outputs are plain columns: copy them without going through the evaluator.
        int column = outputColumns_[i];
        if (column >= 0 && static_cast<size_t>(column) < input.size()) output_[i] = input[static_cast<size_t>(column)];
        else output_[i] = outputs_[i].evaluate(input);
    }
    ++stats_.rowsOut;
    // Minimal hook (wip-redis, for the runtime rewrite to carry into its window operator chain): with a window, the
    // input is an aggregate row ending with [window_start, window_end], and the sink is told the window end so that
    // Redis keeps the latest window per key (RowSink::writeWindowed).
    if (window_) sink_.writeWindowed(output_, input.back().i);
    else sink_.write(output_);
}

void PipelineExecutor::emitAggregate(Row& row) {
    // Aggregate rows end with [window_start, window_end].
    if (suppressUpTo_ != INT64_MIN && !row.empty() && row.back().i - 1 <= suppressUpTo_) return;
    ++stats_.windowsFired;
    if (having_ && !having_->evaluatePredicate(row)) return;
    writeOutput(row);
}

void PipelineExecutor::discardOrigins(const std::function<bool(int32_t)>& drop) {
    if (window_) window_->discard(drop);
}

void PipelineExecutor::process(Row& row, int32_t origin) {
    ++stats_.rowsIn;
    int64_t time = row[0].i;
    if (row[0].isNull || time <= -kEventTimeLimit || time >= kEventTimeLimit) {
        ++stats_.rowsOutOfRange;
        return;
    }
    bool passes = true;
    for (const auto& filter : filters_) {
        if (!filter.evaluatePredicate(row)) {
            passes = false;
            break;
        }
    }
    if (!passes) {
        ++stats_.rowsFiltered;
    } else if (window_) {
        if (window_->add(row, time, stats_.watermark, origin) == WindowAdd::Late) ++stats_.lateRowsDropped;
    } else {
        writeOutput(row);
    }
    if (!external_ && time > maxEventTime_) {
        maxEventTime_ = time;
        advanceWatermark(time - delay_);
    }
}

void PipelineExecutor::advanceWatermark(int64_t watermark) {
    if (watermark <= stats_.watermark) return;
    stats_.watermark = watermark;
    if (window_) window_->fire(watermark, emit_);
}

void PipelineExecutor::finish() { advanceWatermark(INT64_MAX); }

int64_t PipelineExecutor::completionGranularity() const {
    if (!window_) return 1;
    const auto& window = plan_.window();
    switch (window.kind()) {
    case plan::HOP: return std::max<int64_t>(1, window.slide_ms());
    case plan::TUMBLE: return std::max<int64_t>(1, window.size_ms());
    default: return std::max<int64_t>(1, window.gap_ms());
    }
}

std::string PipelineExecutor::snapshot() const {
    StateWriter writer;
    writer.writeU64(kSnapshotVersion);
    writer.writeString(plan_.job_name());
    writer.writeI64(maxEventTime_);
    writer.writeI64(stats_.watermark);
    for (uint64_t counter : {stats_.rowsIn, stats_.rowsFiltered, stats_.lateRowsDropped, stats_.rowsOutOfRange, stats_.rowsOut,
                             stats_.windowsFired})
        writer.writeU64(counter);
    writer.writeBool(window_ != nullptr);
    if (window_) window_->write(writer);
    return writer.take();
}

void PipelineExecutor::restore(std::string_view bytes) {
    StateReader reader(bytes);
    if (reader.readU64() != kSnapshotVersion) throw std::runtime_error("snapshot version not supported");
    if (reader.readString() != plan_.job_name()) throw std::runtime_error("snapshot belongs to another job");
    maxEventTime_ = reader.readI64();
    stats_.watermark = reader.readI64();
    for (uint64_t* counter : {&stats_.rowsIn, &stats_.rowsFiltered, &stats_.lateRowsDropped, &stats_.rowsOutOfRange,
                              &stats_.rowsOut, &stats_.windowsFired})
        *counter = reader.readU64();
    bool hasWindow = reader.readBool();
    if (hasWindow != (window_ != nullptr)) throw std::runtime_error("snapshot does not match the plan");
    if (window_) window_->read(reader);
    if (!reader.atEnd()) throw std::runtime_error("corrupt snapshot: trailing bytes");
}

} // namespace pipec::runtime
