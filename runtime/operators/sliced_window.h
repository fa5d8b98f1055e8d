#pragma once

#include "runtime/operators/window_operator.h"

#include <map>

namespace pipec::runtime {

/// TUMBLE and HOP windows by slicing: time is cut into slices of width gcd(size, slide), aligned to the epoch. Each
/// row updates exactly one slice accumulator of its key; a window, when it fires, merges the slices it spans. The
/// per-row cost does not depend on size/slide, and state is O(keys × live slices), not O(keys × windows).
/// TUMBLE is the case slide = size (one slice per window).
class SlicedWindow : public WindowOperator {
public:
    SlicedWindow(const plan::WindowAggregate& window, int64_t size, int64_t slide);

    WindowAdd add(const Row& row, int64_t time, int64_t watermark) override;
    void fire(int64_t watermark, const Emit& emit) override;
    void write(StateWriter& writer) const override;
    void read(StateReader& reader) override;

private:
    /// The keys that received rows in one slice, and their accumulators (keys.size() × aggregates, row-major).
    struct Slice {
        std::vector<uint32_t> keys;
        std::vector<Accumulator> accumulators;
        std::unordered_map<uint32_t, uint32_t> positions;  // key index → position in `keys`
    };

    Slice& sliceFor(int64_t start);
    uint32_t positionFor(Slice& slice, int64_t start, uint32_t key);
    void emitWindow(int64_t start, const Emit& emit);
    int64_t firstWindowCovering(int64_t sliceStart) const;

    int64_t size_;
    int64_t slide_;
    int64_t width_;
    std::vector<AggregateFunction> aggregates_;
    GroupKeyTable keys_;
    std::map<int64_t, Slice> slices_;
    int64_t firedUpTo_ = INT64_MIN;  // every window with end − 1 ≤ firedUpTo_ has fired

    // Hot-path caches (not state): the last slice used, and each key's position in its latest slice.
    int64_t cachedSliceStart_ = INT64_MIN;
    Slice* cachedSlice_ = nullptr;
    std::vector<std::pair<int64_t, uint32_t>> keyPositions_;

    // Scratch for merging a window's slices per key.
    std::vector<Accumulator> windowAccumulators_;
    std::vector<uint64_t> keyStamps_;
    std::vector<uint32_t> touchedKeys_;
    uint64_t stamp_ = 0;
    Row output_;
};

} // namespace pipec::runtime
