#pragma once

#include "runtime/operators/pipeline_executor.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace pipec::runtime {

/// The pipeline of one Kafka consumer-group member: the job's executor for the partitions that share the member's
/// watermark, plus a lane (an executor of its own) for each partition taken over at a different committed watermark.
///
/// Why lanes: a partition that moves between members arrives with the watermark its previous owner committed
/// (every window of its keys up to there was emitted) and is re-read from the committed offset. When that watermark
/// is below the member's, the windows in between were never emitted for its keys: fed to the job's executor, their
/// records would be late and those windows lost. When it is above, the previous owner already emitted the windows in
/// between: the job's executor would emit them again from part of their records. A lane starts at the committed
/// watermark and from then on follows the one the job would have had with the partition all along (the minimum over
/// the active partitions, this one included, never lower than the lane's own), so it emits exactly the windows
/// the previous owner did not. Keys are assumed to live in one partition (a topic keyed by the entity), as for the
/// rest of consumer-group processing: a lane holds only its partition's keys.
///
/// Origins are small non-negative partition numbers given by the caller.
class PartitionedExecutor {
public:
    PartitionedExecutor(const plan::Pipeline& plan, RowSink& sink);
    ~PartitionedExecutor();

    /// The records of `origin` from now on go to a lane of their own whose watermark starts at `floor`; windows
    /// ending by `emittedUpTo` + 1 (the previous owner's watermark, >= floor) are not emitted again. Replaces any lane
    /// the origin had (its state must have been discarded first). Clears the lane target: it did not include the new
    /// partition.
    void openLane(int32_t origin, int64_t floor, int64_t emittedUpTo);
    /// The job's executor itself continues from a commit, as a lane would: its watermark moves up to `floor` (never
    /// back), and windows ending by `emittedUpTo` + 1 are not emitted again. For a member that owns nothing yet (its
    /// executor holds no state) and whose partitions all committed the same watermark and floor: a restarted
    /// session job then needs no lane per partition. Replaces what an earlier call set.
    void resumeMain(int64_t floor, int64_t emittedUpTo);
    bool hasLane(int32_t origin) const {
        return origin >= 0 && static_cast<size_t>(origin) < lanes_.size() && lanes_[static_cast<size_t>(origin)].executor;
    }
    size_t laneCount() const { return laneCount_; }

    void process(Row& row, int32_t origin);
    /// The job watermark (the job's executor; it never goes back).
    void advanceWatermark(int64_t watermark) { main_.advanceWatermark(watermark); }
    /// The watermark the job would have now with every assigned partition: the minimum over the active partitions
    /// minus the delay, which may be below the job watermark while a lane catches up. Lanes move to it lazily (before
    /// their next row, and in advanceLanes), never below their floor and never back. INT64_MIN: unknown (a partition
    /// has no times yet), the lanes wait.
    void setLaneTarget(int64_t watermark) { laneTarget_ = watermark; }
    void advanceLanes();
    /// Drops the open state of these origins, lanes included (partitions revoked from this member).
    void discardOrigins(const std::vector<int32_t>& origins);
    void finish();

    uint64_t lateRows() const;
    /// True when a row of `origin` with this event time can no longer change the output.
    bool complete(int64_t time, int32_t origin) const;
    /// Every window of `origin`'s keys up to this watermark has been emitted (committed with its offsets).
    int64_t watermarkOf(int32_t origin) const;
    /// The lane floor for whoever reads `origin` again from its commit position (committed too; see
    /// PipelineExecutor::resumeFloor). At most watermarkOf(origin).
    int64_t resumeFloorOf(int32_t origin) const;
    int64_t watermark() const { return main_.stats().watermark; }
    int64_t completionGranularity() const { return main_.completionGranularity(); }

private:
    /// Lanes share the job's sink, which the job's executor already opened.
    class LaneSink : public RowSink {
    public:
        explicit LaneSink(RowSink& inner) : inner_(inner) {}
        void open(const std::vector<plan::OutputColumn>&) override {}
        void write(const Row& row) override { inner_.write(row); }
        void writeWindowed(const Row& row, int64_t windowEndMs) override { inner_.writeWindowed(row, windowEndMs); }
        void flush() override { inner_.flush(); }
        void health(std::vector<SinkHealth>& out) const override { inner_.health(out); }

    private:
        RowSink& inner_;
    };

    plan::Pipeline plan_;
    LaneSink laneSink_;
    PipelineExecutor main_;
    int64_t mainEmittedUpTo_ = INT64_MIN;  // see resumeMain
    struct Lane {
        std::unique_ptr<PipelineExecutor> executor;
        int64_t emittedUpTo;
    };
    const Lane* laneOf(int32_t origin) const { return hasLane(origin) ? &lanes_[static_cast<size_t>(origin)] : nullptr; }

    std::vector<Lane> lanes_;  // by origin; no executor: the origin uses the job's executor
    size_t laneCount_ = 0;
    int64_t laneTarget_ = INT64_MIN;
    uint64_t lateInClosedLanes_ = 0;  // late rows of lanes dropped since, so the count never goes back
};

} // namespace pipec::runtime
