#include "runtime/operators/partitioned_executor.h"

#include <algorithm>
#include <stdexcept>

namespace pipec::runtime {

PartitionedExecutor::PartitionedExecutor(const plan::Pipeline& plan, RowSink& sink)
    : plan_(plan), laneSink_(sink), main_(plan, sink) {
    main_.setExternalWatermark(true);
}

PartitionedExecutor::~PartitionedExecutor() = default;

void PartitionedExecutor::openLane(int32_t origin, int64_t floor, int64_t emittedUpTo) {
    if (origin < 0) throw std::invalid_argument("a lane needs a partition origin");
    if (lanes_.size() <= static_cast<size_t>(origin)) lanes_.resize(static_cast<size_t>(origin) + 1);
    Lane& lane = lanes_[static_cast<size_t>(origin)];
    if (lane.executor) lateInClosedLanes_ += lane.executor->stats().lateRowsDropped;
    else ++laneCount_;
    lane.executor = std::make_unique<PipelineExecutor>(plan_, laneSink_);
    lane.executor->setExternalWatermark(true);
    lane.executor->advanceWatermark(floor);
    lane.emittedUpTo = std::max(floor, emittedUpTo);
    if (lane.emittedUpTo > floor) lane.executor->suppressUpTo(lane.emittedUpTo);
    // The target was computed without this partition, whose times are not known yet: the minimum over the partitions
    // is unknown until the caller sets it again (lanes keep their watermarks meanwhile).
    laneTarget_ = INT64_MIN;
}

void PartitionedExecutor::resumeMain(int64_t floor, int64_t emittedUpTo) {
    main_.advanceWatermark(floor);
    mainEmittedUpTo_ = emittedUpTo > main_.stats().watermark ? emittedUpTo : INT64_MIN;
    main_.suppressUpTo(mainEmittedUpTo_);
}

void PartitionedExecutor::process(Row& row, int32_t origin) {
    if (!hasLane(origin)) return main_.process(row, origin);
    PipelineExecutor& lane = *lanes_[static_cast<size_t>(origin)].executor;
    lane.advanceWatermark(laneTarget_);  // as if it had followed the target eagerly: lateness is judged the same
    lane.process(row, origin);
}

void PartitionedExecutor::advanceLanes() {
    if (laneCount_ == 0) return;
    for (auto& lane : lanes_)
        if (lane.executor) lane.executor->advanceWatermark(laneTarget_);
}

void PartitionedExecutor::discardOrigins(const std::vector<int32_t>& origins) {
    main_.discardOrigins([&](int32_t origin) { return std::find(origins.begin(), origins.end(), origin) != origins.end(); });
    for (int32_t origin : origins) {
        if (!hasLane(origin)) continue;
        auto& lane = lanes_[static_cast<size_t>(origin)].executor;
        lateInClosedLanes_ += lane->stats().lateRowsDropped;
        lane.reset();
        --laneCount_;
    }
}

void PartitionedExecutor::finish() {
    main_.finish();
    for (auto& lane : lanes_)
        if (lane.executor) lane.executor->finish();
}

uint64_t PartitionedExecutor::lateRows() const {
    uint64_t late = main_.stats().lateRowsDropped + lateInClosedLanes_;
    for (const auto& lane : lanes_)
        if (lane.executor) late += lane.executor->stats().lateRowsDropped;
    return late;
}

bool PartitionedExecutor::complete(int64_t time, int32_t origin) const {
    const Lane* lane = laneOf(origin);
    return lane ? lane->executor->complete(time) : main_.complete(time);
}

int64_t PartitionedExecutor::watermarkOf(int32_t origin) const {
    const Lane* lane = laneOf(origin);
    return std::max(lane ? lane->executor->stats().watermark : main_.stats().watermark,
                    lane ? lane->emittedUpTo : mainEmittedUpTo_);
}

int64_t PartitionedExecutor::resumeFloorOf(int32_t origin) const {
    const Lane* lane = laneOf(origin);
    return lane ? lane->executor->resumeFloor() : main_.resumeFloor();
}

} // namespace pipec::runtime
