#include "runtime/operators/sliced_window.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace pipec::runtime {

SlicedWindow::SlicedWindow(const plan::WindowAggregate& window, int64_t size, int64_t slide, bool cumulative)
    : size_(size), slide_(slide), width_(std::gcd(size, slide)), cumulative_(cumulative), keys_(window) {
    if (size <= 0 || slide <= 0) throw std::invalid_argument("window size and slide must be positive");
    if (cumulative && size % slide != 0) throw std::invalid_argument("a CUMULATE window's max size must be a multiple of its step");
    for (const auto& aggregate : window.aggregates()) {
        aggregates_.emplace_back(aggregate);
        invertible_ = invertible_ && aggregates_.back().invertible();
    }
}

int64_t SlicedWindow::firstWindowCovering(int64_t sliceStart) const {
    // Window [s, s + size) covers slice [a, a + width) when s ≤ a and a + width ≤ s + size.
    int64_t lowest = sliceStart + width_ - size_;
    return -floorDivide(-lowest, slide_) * slide_;  // ceil(lowest / slide) · slide
}

SlicedWindow::Slice& SlicedWindow::sliceFor(int64_t start) {
    if (cachedSlice_ && cachedSliceStart_ == start) return *cachedSlice_;
    auto [it, inserted] = slices_.try_emplace(start);
    if (inserted && it != slices_.begin()) {
        // A new slice will most likely hold about as many keys as the one before it.
        size_t expected = std::prev(it)->second.keys.size();
        it->second.keys.reserve(expected);
        it->second.rows.reserve(expected);
        it->second.flags.reserve(expected);
        it->second.accumulators.reserve(expected * aggregates_.size());
    }
    cachedSlice_ = &it->second;
    cachedSliceStart_ = start;
    return *cachedSlice_;
}

uint32_t SlicedWindow::positionFor(Slice& slice, int64_t start, uint32_t key) {
    auto& latest = keyPositions_[key];
    if (latest.first == start) return latest.second;
    auto append = [&] {
        uint32_t position = static_cast<uint32_t>(slice.keys.size());
        slice.keys.push_back(key);
        slice.rows.push_back(0);
        slice.accumulators.resize(slice.accumulators.size() + aggregates_.size());
        slice.flags.push_back(0);
        if (slice.indexed) slice.positions.emplace(key, position);
        return position;
    };
    if (start > latest.first) {
        // In order: the key has never reached this slice, so no lookup is needed.
        latest = {start, append()};
        return latest.second;
    }
    // Out of order: find the key in an older slice through its (lazily built) index.
    if (!slice.indexed) {
        slice.positions.reserve(slice.keys.size() * 2);
        for (uint32_t j = 0; j < slice.keys.size(); ++j) slice.positions.emplace(slice.keys[j], j);
        slice.indexed = true;
    }
    auto it = slice.positions.find(key);
    return it != slice.positions.end() ? it->second : append();
}

void SlicedWindow::growKeyState() {
    size_t keyCount = keys_.size();
    if (keyPositions_.size() >= keyCount) return;
    size_t capacity = std::max<size_t>(keyCount, keyPositions_.size() * 2);
    keyPositions_.resize(capacity, {INT64_MIN, 0});
    keyStamps_.resize(capacity, 0);
    running_.resize(capacity * aggregates_.size());
    runningRows_.resize(capacity, 0);
    activeKeys_.resize((capacity + 63) / 64, 0);
}

WindowAdd SlicedWindow::add(const Row& row, int64_t time, int64_t watermark) {
    int64_t fired = std::max(watermark, firedUpTo_);
    if (cumulative_) {
        // The windows holding `time` end at the multiples of step in (time, cycle end]; the last is the cycle's.
        if (cycleEnd(time) - 1 <= fired) return WindowAdd::Late;
    } else {
        // The windows holding `time` start at multiples of slide in (time − size, time].
        int64_t lastStart = floorDivide(time, slide_) * slide_;
        int64_t firstStart = (floorDivide(time - size_, slide_) + 1) * slide_;
        if (firstStart > lastStart) return WindowAdd::NoWindow;  // size < slide: a gap between windows
        if (lastStart + size_ - 1 <= fired) return WindowAdd::Late;  // every window of this row has fired
    }
    int64_t sliceStart = floorDivide(time, width_) * width_;
    uint32_t key = keys_.lookup(row);
    growKeyState();
    Slice& slice = sliceFor(sliceStart);
    uint32_t position = positionFor(slice, sliceStart, key);
    if ((slice.flags[position] & kDirty) == 0) {
        slice.flags[position] |= kDirty;
        slice.dirty.push_back(position);
    }
    size_t aggregateCount = aggregates_.size();
    Accumulator* accumulators = &slice.accumulators[static_cast<size_t>(position) * aggregateCount];
    ++slice.rows[position];
    for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].update(accumulators[a], row, time);
    // A row (partly late) for a slice already inside the running window updates that window too, so that
    // subtracting the slice later stays exact.
    int64_t runningEnd = cumulative_ ? runningEnd_ : runningStart_ + size_;
    if ((invertible_ || cumulative_) && runningStart_ != kNoWindow && sliceStart >= runningStart_ && sliceStart < runningEnd) {
        Accumulator* running = &running_[static_cast<size_t>(key) * aggregateCount];
        for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].update(running[a], row, time);
        if (runningRows_[key]++ == 0) activeKeys_[key / 64] |= uint64_t{1} << (key % 64);
    }
    return WindowAdd::Added;
}

void SlicedWindow::emitKey(uint32_t key, const Accumulator* accumulators, int64_t start, int64_t end, const Emit& emit) {
    const Row& keyValues = keys_.values(key);
    output_.resize(keyValues.size() + aggregates_.size() + 2);
    size_t column = 0;
    for (const auto& value : keyValues) output_[column++] = value;
    for (size_t a = 0; a < aggregates_.size(); ++a) output_[column++] = aggregates_[a].result(accumulators[a]);
    output_[column++] = Value::ofInt(start);
    output_[column] = Value::ofInt(end);
    emit(output_);
}

void SlicedWindow::emitMerged(int64_t start, const Emit& emit) {
    ++stamp_;
    size_t aggregateCount = aggregates_.size();
    for (auto it = slices_.lower_bound(start); it != slices_.end() && it->first < start + size_; ++it) {
        const Slice& slice = it->second;
        for (size_t j = 0; j < slice.keys.size(); ++j) {
            uint32_t key = slice.keys[j];
            Accumulator* window = &running_[static_cast<size_t>(key) * aggregateCount];
            if (keyStamps_[key] != stamp_) {
                keyStamps_[key] = stamp_;
                activeKeys_[key / 64] |= uint64_t{1} << (key % 64);
                for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].reset(window[a]);
            }
            const Accumulator* part = &slice.accumulators[j * aggregateCount];
            for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].merge(window[a], part[a]);
        }
    }
    // Emit in key order (first arrival) and clear the bitmap as we go.
    for (size_t word = 0; word < activeKeys_.size(); ++word) {
        while (activeKeys_[word]) {
            int bit = __builtin_ctzll(activeKeys_[word]);
            activeKeys_[word] &= activeKeys_[word] - 1;
            uint32_t key = static_cast<uint32_t>(word * 64 + static_cast<size_t>(bit));
            emitKey(key, &running_[static_cast<size_t>(key) * aggregateCount], start, start + size_, emit);
        }
    }
}

void SlicedWindow::applySlices(int64_t from, int64_t to, bool add) {
    size_t aggregateCount = aggregates_.size();
    for (auto it = slices_.lower_bound(from); it != slices_.end() && it->first < to; ++it) {
        const Slice& slice = it->second;
        for (size_t j = 0; j < slice.keys.size(); ++j) {
            uint32_t key = slice.keys[j];
            Accumulator* running = &running_[static_cast<size_t>(key) * aggregateCount];
            const Accumulator* part = &slice.accumulators[j * aggregateCount];
            if (add) {
                for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].merge(running[a], part[a]);
                if (runningRows_[key] == 0) activeKeys_[key / 64] |= uint64_t{1} << (key % 64);
                runningRows_[key] += slice.rows[j];
            } else {
                for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].subtract(running[a], part[a]);
                runningRows_[key] -= slice.rows[j];
                if (runningRows_[key] == 0) activeKeys_[key / 64] &= ~(uint64_t{1} << (key % 64));
            }
        }
    }
}

void SlicedWindow::advanceRunning(int64_t start) {
    if (runningStart_ == kNoWindow || start - runningStart_ >= size_) {
        // Nothing shared with the previous window: start over from the slices.
        for (auto& accumulator : running_) accumulator = Accumulator();
        std::fill(runningRows_.begin(), runningRows_.end(), 0);
        std::fill(activeKeys_.begin(), activeKeys_.end(), 0);
        applySlices(start, start + size_, true);
    } else {
        applySlices(runningStart_, start, false);
        applySlices(runningStart_ + size_, start + size_, true);
    }
    runningStart_ = start;
}

void SlicedWindow::emitRunning(int64_t start, int64_t end, const Emit& emit) {
    size_t aggregateCount = aggregates_.size();
    for (size_t word = 0; word < activeKeys_.size(); ++word) {
        uint64_t bits = activeKeys_[word];
        while (bits) {
            int bit = __builtin_ctzll(bits);
            bits &= bits - 1;
            uint32_t key = static_cast<uint32_t>(word * 64 + static_cast<size_t>(bit));
            emitKey(key, &running_[static_cast<size_t>(key) * aggregateCount], start, end, emit);
        }
    }
}

void SlicedWindow::purgeBefore(int64_t start) {
    for (auto it = slices_.begin(); it != slices_.end() && it->first < start;) {
        if (cachedSlice_ == &it->second) cachedSlice_ = nullptr;
        const Slice& slice = it->second;
        if (slice.logged > 0) {
            // Its checkpointed entries expire at the next checkpoint.
            Retired retired{it->first, {}};
            retired.keys.reserve(slice.logged);
            for (size_t j = 0; j < slice.keys.size(); ++j)
                if (slice.flags[j] & kLogged) retired.keys.push_back(slice.keys[j]);
            retired_.push_back(std::move(retired));
        }
        it = slices_.erase(it);
    }
}

int64_t SlicedWindow::nextCumulativeEnd(int64_t firedUpTo) const {
    if (slices_.empty()) return INT64_MAX;
    // The first slice's window, or the first window not fired yet (its cycle's earlier slices are still kept).
    int64_t end = slices_.begin()->first + slide_;
    if (firedUpTo != INT64_MIN) end = std::max(end, -floorDivide(-(firedUpTo + 2), slide_) * slide_);
    return end;
}

void SlicedWindow::fireCumulative(int64_t watermark, const Emit& emit) {
    const size_t aggregateCount = aggregates_.size();
    int64_t done = firedUpTo_;
    for (int64_t end = nextCumulativeEnd(done); end != INT64_MAX && end - 1 <= watermark; end = nextCumulativeEnd(done)) {
        int64_t start = floorDivide(end - 1, size_) * size_;
        if (runningStart_ != start) {
            // A new cycle (or the first window after a restore): start over from the cycle's slices.
            for (size_t i = 0; i < running_.size(); ++i) aggregates_[i % aggregateCount].reset(running_[i]);
            std::fill(runningRows_.begin(), runningRows_.end(), 0);
            std::fill(activeKeys_.begin(), activeKeys_.end(), 0);
            runningStart_ = start;
            runningEnd_ = start;
        }
        applySlices(runningEnd_, end, true);
        runningEnd_ = end;
        emitRunning(start, end, emit);
        done = end - 1;
        if (end == start + size_) {
            // The cycle's last window: its slices are in no later window.
            purgeBefore(end);
            runningStart_ = kNoWindow;
        }
    }
}

int64_t SlicedWindow::nextTimer() const {
    if (cumulative_) {
        int64_t end = nextCumulativeEnd(firedUpTo_);
        return end == INT64_MAX ? INT64_MAX : end - 1;
    }
    if (slices_.empty()) return INT64_MAX;
    // As fire() starts: the first window not fired yet that may hold data (no window with data starts earlier).
    int64_t start = firstWindowCovering(slices_.begin()->first);
    if (firedUpTo_ != INT64_MIN) start = std::max(start, -floorDivide(-(firedUpTo_ + 2 - size_), slide_) * slide_);
    return start + size_ - 1;
}

void SlicedWindow::fire(int64_t watermark, const Emit& emit) {
    if (watermark <= firedUpTo_) return;
    if (watermark < nextTimer()) {
        // No window due (the common case: the watermark moves within a slide). The running state needs no cleanup
        // either: only firing removes slices.
        firedUpTo_ = watermark;
        return;
    }
    if (cumulative_) {
        fireCumulative(watermark, emit);
    } else if (!slices_.empty()) {
        // The first window not fired yet (end − 1 > firedUpTo_), moved forward to the first one holding data.
        int64_t start = firstWindowCovering(slices_.begin()->first);
        if (firedUpTo_ != INT64_MIN) start = std::max(start, -floorDivide(-(firedUpTo_ + 2 - size_), slide_) * slide_);
        while (!slices_.empty() && start + size_ - 1 <= watermark) {
            int64_t next = start + slide_;
            if (invertible_) {
                advanceRunning(start);
                emitRunning(start, start + size_, emit);
                // Slices before the running window were subtracted already; the window's own first slides stay
                // until the next advance subtracts them.
                purgeBefore(start);
            } else {
                emitMerged(start, emit);
                // Slices before the next window's start are covered by no later window.
                purgeBefore(next);
            }
            start = next;
            auto first = slices_.lower_bound(invertible_ ? start : INT64_MIN);
            if (first == slices_.end()) break;
            start = std::max(start, firstWindowCovering(first->first));
        }
        if (invertible_ && runningStart_ != kNoWindow) {
            // Past the last fired window the running state only matters while its slices live.
            bool anyLive = slices_.lower_bound(runningStart_ + slide_) != slices_.end();
            if (!anyLive) {
                purgeBefore(INT64_MAX);
                runningStart_ = kNoWindow;
            }
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
            writer.writeI64(slice.rows[j]);
            for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].write(writer, slice.accumulators[j * aggregates_.size() + a]);
        }
    }
}

void SlicedWindow::read(StateReader& reader) {
    firedUpTo_ = reader.readI64();
    keys_.read(reader);
    slices_.clear();
    retired_.clear();
    encodedKeys_.clear();
    resetDerived();
    uint64_t sliceCount = reader.readCount(16);
    for (uint64_t s = 0; s < sliceCount; ++s) {
        int64_t start = reader.readI64();
        Slice& slice = slices_[start];
        uint64_t keyCount = reader.readCount(16);
        for (uint64_t j = 0; j < keyCount; ++j) {
            uint64_t key = reader.readU64();
            if (key >= keys_.size()) throw std::runtime_error("corrupt snapshot: key index");
            keyPositions_[key] = {start, static_cast<uint32_t>(slice.keys.size())};  // slices are read in time order
            slice.keys.push_back(static_cast<uint32_t>(key));
            slice.rows.push_back(reader.readI64());
            slice.flags.push_back(0);
            slice.accumulators.resize(slice.accumulators.size() + aggregates_.size());
            for (size_t a = 0; a < aggregates_.size(); ++a)
                aggregates_[a].read(reader, slice.accumulators[j * aggregates_.size() + a]);
        }
    }
}

void SlicedWindow::resetDerived() {
    cachedSlice_ = nullptr;
    cachedSliceStart_ = INT64_MIN;
    keyPositions_.clear();
    keyStamps_.clear();
    running_.clear();
    runningRows_.clear();
    activeKeys_.clear();
    runningStart_ = kNoWindow;  // rebuilt from the slices at the next firing
    growKeyState();
}

void SlicedWindow::readMeta(StateReader& reader) {
    firedUpTo_ = reader.readI64();
    slices_.clear();
    retired_.clear();
    encodedKeys_.clear();
    resetDerived();
}

const std::string& SlicedWindow::entryKey(int64_t start, uint32_t key) {
    if (encodedKeys_.size() <= key) encodedKeys_.resize(std::max<size_t>(keys_.size(), key + 1));
    std::string& encoded = encodedKeys_[key];
    if (encoded.empty()) encoded = keys_.encodeKey(key);  // (empty only without GROUP BY keys: then cheap)
    entryKey_.clear();
    const uint64_t ordered = static_cast<uint64_t>(start) ^ (uint64_t{1} << 63);
    for (int b = 7; b >= 0; --b) entryKey_.push_back(static_cast<char>((ordered >> (8 * b)) & 0xff));
    entryKey_ += encoded;
    return entryKey_;
}

// An entry is one key's part of one slice: (rows, accumulators), keyed by (slice start, key). A checkpoint writes the
// parts that received rows since the previous one; a part whose slice left every window (fired) expires: the restored
// watermark drops it, and its records are removed once this checkpoint is committed.
void SlicedWindow::writeKeyedState(KeyedStateSink& out, bool all) {
    const size_t aggregateCount = aggregates_.size();
    auto put = [&](int64_t start, Slice& slice, uint32_t position) {
        entryState_.clear();
        entryState_.writeI64(slice.rows[position]);
        for (size_t a = 0; a < aggregateCount; ++a)
            aggregates_[a].write(entryState_, slice.accumulators[static_cast<size_t>(position) * aggregateCount + a]);
        out.put(entryKey(start, slice.keys[position]), entryState_.bytes());
        if ((slice.flags[position] & kLogged) == 0) ++slice.logged;
        slice.flags[position] = kLogged;
    };
    if (all) {
        // A writer's first checkpoint: nothing of it is logged yet, every live part is written.
        retired_.clear();
        for (auto& [start, slice] : slices_) {
            slice.dirty.clear();
            slice.logged = 0;
            std::fill(slice.flags.begin(), slice.flags.end(), 0);
            if (!sliceLive(start)) continue;
            for (uint32_t position = 0; position < slice.keys.size(); ++position) put(start, slice, position);
        }
        return;
    }
    for (const Retired& retired : retired_)
        for (uint32_t key : retired.keys) out.expire(entryKey(retired.start, key));
    retired_.clear();
    for (auto& [start, slice] : slices_) {
        if (!sliceLive(start)) {
            // Fired, kept only for the running window's next subtraction.
            if (slice.logged > 0) {
                for (uint32_t position = 0; position < slice.keys.size(); ++position)
                    if (slice.flags[position] & kLogged) out.expire(entryKey(start, slice.keys[position]));
            }
            slice.logged = 0;
            std::fill(slice.flags.begin(), slice.flags.end(), 0);
            slice.dirty.clear();
            continue;
        }
        for (uint32_t position : slice.dirty) put(start, slice, position);
        slice.dirty.clear();
    }
}

bool SlicedWindow::restoreKey(std::string_view key, std::string_view state) {
    if (key.size() < 8) throw std::runtime_error("corrupt checkpoint: a window entry without its slice");
    uint64_t ordered = 0;
    for (size_t b = 0; b < 8; ++b) ordered = (ordered << 8) | static_cast<unsigned char>(key[b]);
    const int64_t start = static_cast<int64_t>(ordered ^ (uint64_t{1} << 63));
    if (floorDivide(start, width_) * width_ != start) throw std::runtime_error("corrupt checkpoint: slice start");
    if (!sliceLive(start)) return false;  // fired after this entry was written
    StateReader reader(state);
    const int64_t rows = reader.readI64();
    const size_t aggregateCount = aggregates_.size();
    std::vector<Accumulator> accumulators(aggregateCount);
    for (size_t a = 0; a < aggregateCount; ++a) aggregates_[a].read(reader, accumulators[a]);
    if (!reader.atEnd()) throw std::runtime_error("corrupt checkpoint: trailing bytes in a window entry");
    const uint32_t index = keys_.findOrInsertEncoded(key.substr(8));
    growKeyState();
    auto& latest = keyPositions_[index];
    // TaskCheckpointer::restore gives entries in order of slice (see entryKey), in which a key's part of a slice
    // comes once; any order restores right, as positionFor finds a key in older slices through their index.
    if (latest.first == start) throw std::runtime_error("corrupt checkpoint: a key appears twice in a slice");
    Slice& slice = slices_[start];
    const uint32_t position = static_cast<uint32_t>(slice.keys.size());
    slice.keys.push_back(index);
    slice.rows.push_back(rows);
    slice.flags.push_back(0);
    for (auto& accumulator : accumulators) slice.accumulators.push_back(std::move(accumulator));
    if (start > latest.first) latest = {start, position};
    return true;
}

void SlicedWindow::restoreFinished() {
    cachedSlice_ = nullptr;
    cachedSliceStart_ = INT64_MIN;
    runningStart_ = kNoWindow;
    growKeyState();
}

} // namespace pipec::runtime
