#include "runtime/operators/sliced_window.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace pipec::runtime {

SlicedWindow::SlicedWindow(const plan::WindowAggregate& window, int64_t size, int64_t slide)
    : size_(size), slide_(slide), width_(std::gcd(size, slide)), keys_(window) {
    if (size <= 0 || slide <= 0) throw std::invalid_argument("window size and slide must be positive");
    for (const auto& aggregate : window.aggregates()) aggregates_.emplace_back(aggregate);
}

int64_t SlicedWindow::firstWindowCovering(int64_t sliceStart) const {
    // Window [s, s + size) covers slice [a, a + width) when s ≤ a and a + width ≤ s + size.
    int64_t lowest = sliceStart + width_ - size_;
    return -floorDivide(-lowest, slide_) * slide_;  // ceil(lowest / slide) · slide
}

SlicedWindow::Slice& SlicedWindow::sliceFor(int64_t start) {
    if (cachedSlice_ && cachedSliceStart_ == start) return *cachedSlice_;
    cachedSlice_ = &slices_[start];
    cachedSliceStart_ = start;
    return *cachedSlice_;
}

uint32_t SlicedWindow::positionFor(Slice& slice, int64_t start, uint32_t key) {
    if (key >= keyPositions_.size()) keyPositions_.resize(key + 1, {INT64_MIN, 0});
    auto& cached = keyPositions_[key];
    if (cached.first == start) return cached.second;
    auto [it, inserted] = slice.positions.emplace(key, static_cast<uint32_t>(slice.keys.size()));
    if (inserted) {
        slice.keys.push_back(key);
        slice.accumulators.resize(slice.accumulators.size() + aggregates_.size());
    }
    cached = {start, it->second};
    return it->second;
}

WindowAdd SlicedWindow::add(const Row& row, int64_t time, int64_t watermark) {
    // The windows holding `time` start at multiples of slide in (time − size, time].
    int64_t lastStart = floorDivide(time, slide_) * slide_;
    int64_t firstStart = (floorDivide(time - size_, slide_) + 1) * slide_;
    if (firstStart > lastStart) return WindowAdd::NoWindow;  // size < slide: a gap between windows
    int64_t fired = std::max(watermark, firedUpTo_);
    if (lastStart + size_ - 1 <= fired) return WindowAdd::Late;  // every window of this row has fired
    int64_t sliceStart = floorDivide(time, width_) * width_;
    uint32_t key = keys_.lookup(row);
    Slice& slice = sliceFor(sliceStart);
    uint32_t position = positionFor(slice, sliceStart, key);
    Accumulator* accumulators = &slice.accumulators[static_cast<size_t>(position) * aggregates_.size()];
    for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].update(accumulators[a], row);
    return WindowAdd::Added;
}

void SlicedWindow::emitWindow(int64_t start, const Emit& emit) {
    ++stamp_;
    touchedKeys_.clear();
    size_t aggregateCount = aggregates_.size();
    if (keyStamps_.size() < keys_.size()) {
        keyStamps_.resize(keys_.size(), 0);
        windowAccumulators_.resize(keys_.size() * aggregateCount);
    }
    for (auto it = slices_.lower_bound(start); it != slices_.end() && it->first < start + size_; ++it) {
        const Slice& slice = it->second;
        for (size_t j = 0; j < slice.keys.size(); ++j) {
            uint32_t key = slice.keys[j];
            Accumulator* window = &windowAccumulators_[static_cast<size_t>(key) * aggregateCount];
            if (keyStamps_[key] != stamp_) {
                keyStamps_[key] = stamp_;
                touchedKeys_.push_back(key);
                for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].reset(window[a]);
            }
            const Accumulator* part = &slice.accumulators[j * aggregateCount];
            for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].merge(window[a], part[a]);
        }
    }
    std::sort(touchedKeys_.begin(), touchedKeys_.end());
    for (uint32_t key : touchedKeys_) {
        const Row& keyValues = keys_.values(key);
        output_.assign(keyValues.begin(), keyValues.end());
        const Accumulator* window = &windowAccumulators_[static_cast<size_t>(key) * aggregateCount];
        for (size_t a = 0; a < aggregateCount; ++a) output_.push_back(aggregates_[a].result(window[a]));
        output_.push_back(Value::ofInt(start));
        output_.push_back(Value::ofInt(start + size_));
        emit(output_);
    }
}

void SlicedWindow::fire(int64_t watermark, const Emit& emit) {
    if (watermark <= firedUpTo_) return;
    if (!slices_.empty()) {
        // The first window not fired yet (end − 1 > firedUpTo_), moved forward to the first one holding data.
        int64_t start = firstWindowCovering(slices_.begin()->first);
        if (firedUpTo_ != INT64_MIN) start = std::max(start, -floorDivide(-(firedUpTo_ + 2 - size_), slide_) * slide_);
        while (!slices_.empty() && start + size_ - 1 <= watermark) {
            emitWindow(start, emit);
            // Slices before the next window's start are covered by no later window.
            int64_t next = start + slide_;
            for (auto it = slices_.begin(); it != slices_.end() && it->first < next;) {
                if (cachedSlice_ == &it->second) cachedSlice_ = nullptr;
                it = slices_.erase(it);
            }
            start = next;
            if (!slices_.empty()) start = std::max(start, firstWindowCovering(slices_.begin()->first));
        }
    }
    firedUpTo_ = watermark;
}

void SlicedWindow::write(StateWriter& writer) const {
    writer.writeI64(firedUpTo_);
    keys_.write(writer);
    writer.writeU64(slices_.size());
    for (const auto& [start, slice] : slices_) {
        writer.writeI64(start);
        writer.writeU64(slice.keys.size());
        for (size_t j = 0; j < slice.keys.size(); ++j) {
            writer.writeU64(slice.keys[j]);
            for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].write(writer, slice.accumulators[j * aggregates_.size() + a]);
        }
    }
}

void SlicedWindow::read(StateReader& reader) {
    firedUpTo_ = reader.readI64();
    keys_.read(reader);
    slices_.clear();
    cachedSlice_ = nullptr;
    cachedSliceStart_ = INT64_MIN;
    keyPositions_.clear();
    uint64_t sliceCount = reader.readCount(16);
    for (uint64_t s = 0; s < sliceCount; ++s) {
        int64_t start = reader.readI64();
        Slice& slice = slices_[start];
        uint64_t keyCount = reader.readCount(8);
        for (uint64_t j = 0; j < keyCount; ++j) {
            uint64_t key = reader.readU64();
            if (key >= keys_.size()) throw std::runtime_error("corrupt snapshot: key index");
            slice.positions.emplace(static_cast<uint32_t>(key), static_cast<uint32_t>(slice.keys.size()));
            slice.keys.push_back(static_cast<uint32_t>(key));
            slice.accumulators.resize(slice.accumulators.size() + aggregates_.size());
            for (size_t a = 0; a < aggregates_.size(); ++a)
                aggregates_[a].read(reader, slice.accumulators[j * aggregates_.size() + a]);
        }
    }
}

} // namespace pipec::runtime
