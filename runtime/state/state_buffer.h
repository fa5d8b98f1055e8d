#pragma once

#include "runtime/core/value.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pipec::runtime {

/// Appends operator state as compact little-endian binary (snapshots for checkpoints and restarts).
class StateWriter {
public:
    void writeU64(uint64_t value) { bytes_.append(reinterpret_cast<const char*>(&value), sizeof value); }
    void writeI64(int64_t value) { writeU64(static_cast<uint64_t>(value)); }
    void writeF64(double value) {
        uint64_t bits;
        std::memcpy(&bits, &value, sizeof bits);
        writeU64(bits);
    }
    void writeBool(bool value) { bytes_.push_back(value ? 1 : 0); }
    void writeString(std::string_view value) {
        writeU64(value.size());
        bytes_.append(value);
    }
    void writeValue(const Value& value) {
        writeBool(value.isNull);
        writeI64(value.i);
        writeF64(value.d);
        writeString(value.s);
    }
    const std::string& bytes() const { return bytes_; }
    std::string take() { return std::move(bytes_); }
    void clear() { bytes_.clear(); }

private:
    std::string bytes_;
};

/// Reads what StateWriter wrote; throws std::runtime_error on truncated or corrupt input.
class StateReader {
public:
    explicit StateReader(std::string_view bytes) : bytes_(bytes) {}
    uint64_t readU64() {
        need(sizeof(uint64_t));
        uint64_t value;
        std::memcpy(&value, bytes_.data() + position_, sizeof value);
        position_ += sizeof value;
        return value;
    }
    int64_t readI64() { return static_cast<int64_t>(readU64()); }
    double readF64() {
        uint64_t bits = readU64();
        double value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }
    bool readBool() {
        need(1);
        return bytes_[position_++] != 0;
    }
    std::string readString() {
        uint64_t size = readU64();
        need(size);
        std::string value(bytes_.substr(position_, size));
        position_ += size;
        return value;
    }
    Value readValue() {
        Value value;
        value.isNull = readBool();
        value.i = readI64();
        value.d = readF64();
        value.s = readString();
        return value;
    }
    /// A count that must fit what is left (guards allocations against corrupt sizes).
    uint64_t readCount(size_t minimumBytesEach) {
        uint64_t count = readU64();
        if (minimumBytesEach && count > (bytes_.size() - position_) / minimumBytesEach) throw std::runtime_error("corrupt snapshot: bad count");
        return count;
    }
    bool atEnd() const { return position_ == bytes_.size(); }

private:
    void need(uint64_t size) const {
        if (size > bytes_.size() - position_) throw std::runtime_error("corrupt snapshot: truncated");
    }
    std::string_view bytes_;
    size_t position_ = 0;
};

} // namespace pipec::runtime
