#include "runtime/operators/partitioned_executor.h"

#include <algorithm>
#include <stdexcept>

namespace pipec::runtime {

PartitionedExecutor::PartitionedExecutor(const plan::Pipeline& plan, RowSink& sink)
    : plan_(plan), laneSink_(sink), main_(plan, sink) {
    main_.setExternalWatermark(true);
}

PartitionedExecutor::~PartitionedExecutor() = default;

void PartitionedExecutor::openLane(int32_t origin, int64_t floor) {
    if (origin < 0) throw std::invalid_argument("a lane needs a partition origin");
    if (lanes_.size() <= static_cast<size_t>(origin)) lanes_.resize(static_cast<size_t>(origin) + 1);
    auto& lane = lanes_[static_cast<size_t>(origin)];
    if (lane) lateInClosedLanes_ += lane->stats().lateRowsDropped;
    else ++laneCount_;
    lane = std::make_unique<PipelineExecutor>(plan_, laneSink_);
    lane->setExternalWatermark(true);
    lane->advanceWatermark(floor);
    // The target was computed without this partition, whose times are not known yet: the minimum over the partitions
    // is unknown until the caller sets it again (lanes keep their watermarks meanwhile).
    laneTarget_ = INT64_MIN;
}

void PartitionedExecutor::process(Row& row, int32_t origin) {
    if (!hasLane(origin)) return main_.process(row, origin);
    PipelineExecutor& lane = *lanes_[static_cast<size_t>(origin)];
    lane.advanceWatermark(laneTarget_);  // as if it had followed the target eagerly: lateness is judged the same
    lane.process(row, origin);
}

void PartitionedExecutor::advanceLanes() {
    if (laneCount_ == 0) return;
    for (auto& lane : lanes_)
        if (lane) lane->advanceWatermark(laneTarget_);
}

void PartitionedExecutor::discardOrigins(const std::vector<int32_t>& origins) {
    main_.discardOrigins([&](int32_t origin) { return std::find(origins.begin(), origins.end(), origin) != origins.end(); });
    for (int32_t origin : origins) {
        if (!hasLane(origin)) continue;
        auto& lane = lanes_[static_cast<size_t>(origin)];
        lateInClosedLanes_ += lane->stats().lateRowsDropped;
        lane.reset();
        --laneCount_;
    }
}

void PartitionedExecutor::finish() {
    main_.finish();
    for (auto& lane : lanes_)
        if (lane) lane->finish();
}

uint64_t PartitionedExecutor::lateRows() const {
    uint64_t late = main_.stats().lateRowsDropped + lateInClosedLanes_;
    for (const auto& lane : lanes_)
        if (lane) late += lane->stats().lateRowsDropped;
    return late;
}

bool PartitionedExecutor::complete(int64_t time, int32_t origin) const {
    return hasLane(origin) ? lanes_[static_cast<size_t>(origin)]->complete(time) : main_.complete(time);
}

int64_t PartitionedExecutor::watermarkOf(int32_t origin) const {
    return hasLane(origin) ? lanes_[static_cast<size_t>(origin)]->stats().watermark : main_.stats().watermark;
}

} // namespace pipec::runtime
