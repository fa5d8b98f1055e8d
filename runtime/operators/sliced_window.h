#pragma once

#include "runtime/operators/window_operator.h"

#include <map>

namespace pipec::runtime {

/// TUMBLE and HOP windows by slicing: time is cut into slices of width gcd(size, slide), aligned to the epoch. Each
/// row updates exactly one slice accumulator of its key, so the per-row cost does not depend on size/slide, and state
/// is O(keys × live slices), not O(keys × windows). TUMBLE is the case slide = size (one slice per window).
///
/// Firing: when every aggregate is invertible (COUNT, and SUM/AVG over integers), each key keeps a running
/// accumulator over the current window; moving to the next window adds the slices entering it and subtracts the
/// ones leaving, so a fired window costs O(keys) instead of O(keys × slices per window). Otherwise (MIN/MAX, DISTINCT,
/// floating-point sums) the window merges the slices it spans, which is exact for every aggregate.
/// Keys are emitted in the order they first reached the operator.
///
/// CUMULATE (`cumulative`): slices of one step; the windows of a cycle [s, s + size) (s a multiple of size) are
/// [s, s + k·step) for k = 1 … size / step, fired in order of their end. Each key's running accumulator only grows
/// within a cycle (the next window adds one slice), so it works for every aggregate; it starts over at the next cycle,
/// and the cycle's slices are kept until its last window fires (a restore rebuilds the running state from them).
class SlicedWindow : public WindowOperator {
public:
    SlicedWindow(const plan::WindowAggregate& window, int64_t size, int64_t slide, bool cumulative = false);

    WindowAdd add(const Row& row, int64_t time, int64_t watermark) override;
    void fire(int64_t watermark, const Emit& emit) override;
    void write(StateWriter& writer) const override;
    void read(StateReader& reader) override;
    int64_t firedUpTo() const override { return firedUpTo_; }
    int64_t nextTimer() const override;
    GroupKeyTable& groupKeys() override { return keys_; }
    void writeMeta(StateWriter& writer) const override { writer.writeI64(firedUpTo_); }
    void readMeta(StateReader& reader) override;
    void writeKeyedState(KeyedStateSink& out, bool all) override;
    bool restoreKey(std::string_view key, std::string_view state) override;
    void restoreFinished() override;
    bool complete(int64_t time, int64_t watermark) const override {
        // The last window holding `time` starts at floor(time / slide) · slide (CUMULATE: ends with its cycle).
        if (cumulative_) return cycleEnd(time) - 1 <= watermark;
        return floorDivide(time, slide_) * slide_ + size_ - 1 <= watermark;
    }

private:
    /// The keys that received rows in one slice: their row counts and accumulators (keys × aggregates, row-major).
    struct Slice {
        std::vector<uint32_t> keys;
        std::vector<int64_t> rows;
        std::vector<Accumulator> accumulators;
        /// key index → position in `keys`; built only when a row arrives out of order for this slice.
        std::unordered_map<uint32_t, uint32_t> positions;
        bool indexed = false;
        // Incremental checkpoints: per position kDirty (rows since the last checkpoint) and kLogged (the changelog
        // holds an entry of this writer for it); the dirty positions in order, and how many are logged.
        std::vector<uint8_t> flags;
        std::vector<uint32_t> dirty;
        uint32_t logged = 0;
    };
    static constexpr uint8_t kDirty = 1;
    static constexpr uint8_t kLogged = 2;
    /// The slices purged since the last checkpoint that have logged entries: those entries expire at the next one.
    struct Retired {
        int64_t start;
        std::vector<uint32_t> keys;
    };

    Slice& sliceFor(int64_t start);
    /// True while some window holding the slice starting at `start` has not fired.
    bool sliceLive(int64_t start) const {
        if (cumulative_) return cycleEnd(start) - 1 > firedUpTo_;
        return floorDivide(start, slide_) * slide_ + size_ - 1 > firedUpTo_;
    }
    /// CUMULATE: the end of the cycle (the largest window) holding `time`.
    int64_t cycleEnd(int64_t time) const { return floorDivide(time, size_) * size_ + size_; }
    /// CUMULATE: the end of the first window not fired yet that holds data; INT64_MAX without slices.
    int64_t nextCumulativeEnd(int64_t firedUpTo) const;
    void fireCumulative(int64_t watermark, const Emit& emit);
    void resetDerived();
    uint32_t positionFor(Slice& slice, int64_t start, uint32_t key);
    int64_t firstWindowCovering(int64_t sliceStart) const;
    void growKeyState();
    void emitKey(uint32_t key, const Accumulator* accumulators, int64_t start, int64_t end, const Emit& emit);

    // The merging path.
    void emitMerged(int64_t start, const Emit& emit);
    // The incremental path.
    void advanceRunning(int64_t start);
    void applySlices(int64_t from, int64_t to, bool add);
    void emitRunning(int64_t start, int64_t end, const Emit& emit);
    void purgeBefore(int64_t start);
    /// A checkpoint entry's key: the slice start (8 bytes, big-endian with the sign flipped, so entries sort by time),
    /// then the GROUP BY key as GroupKeyTable::encodeKey writes it.
    const std::string& entryKey(int64_t start, uint32_t key);

    int64_t size_;
    int64_t slide_;
    int64_t width_;
    bool cumulative_;
    std::vector<AggregateFunction> aggregates_;
    bool invertible_ = true;
    GroupKeyTable keys_;
    std::map<int64_t, Slice> slices_;
    int64_t firedUpTo_ = INT64_MIN;  // every window with end − 1 ≤ firedUpTo_ has fired

    // Derived state, rebuilt from the slices after a restore.
    static constexpr int64_t kNoWindow = INT64_MIN;
    int64_t runningStart_ = kNoWindow;   // the window the running accumulators describe
    int64_t runningEnd_ = kNoWindow;     // CUMULATE: its end (the slices before it are in the running state)
    std::vector<Accumulator> running_;   // keys × aggregates
    std::vector<int64_t> runningRows_;   // rows per key in the running window
    std::vector<uint64_t> activeKeys_;   // bitmap of keys with rows in the current window

    // Hot-path caches: the last slice used, and each key's position in its latest slice.
    int64_t cachedSliceStart_ = INT64_MIN;
    Slice* cachedSlice_ = nullptr;
    std::vector<std::pair<int64_t, uint32_t>> keyPositions_;  // per key: its latest slice and its position there
    std::vector<uint64_t> keyStamps_;
    uint64_t stamp_ = 0;
    Row output_;

    // Checkpoints.
    std::vector<Retired> retired_;
    std::vector<std::string> encodedKeys_;  // GroupKeyTable::encodeKey per key, filled as keys are checkpointed
    std::string entryKey_;
    StateWriter entryState_;
};

} // namespace pipec::runtime
