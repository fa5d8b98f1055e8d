#include "runtime/exchange/exchange_codec.h"

#include "runtime/core/hash.h"

#include <cstring>
#include <stdexcept>

namespace pipec::runtime {

namespace {

void putVarint(uint64_t value, std::string& out) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>(value | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}
uint64_t zigzag(int64_t value) { return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63); }
int64_t unzigzag(uint64_t value) { return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1); }

/// Reads what the put functions wrote; every read fails (returns false) past the end.
struct Cursor {
    std::string_view bytes;
    bool varint(uint64_t& value) {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (bytes.empty()) return false;
            uint8_t byte = static_cast<uint8_t>(bytes[0]);
            bytes.remove_prefix(1);
            value |= static_cast<uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return true;
        }
        return false;
    }
    bool signedVarint(int64_t& value) {
        uint64_t raw;
        if (!varint(raw)) return false;
        value = unzigzag(raw);
        return true;
    }
    bool take(size_t size, std::string_view& out) {
        if (bytes.size() < size) return false;
        out = bytes.substr(0, size);
        bytes.remove_prefix(size);
        return true;
    }
};

void putTag(uint8_t kind, uint32_t tag, std::string& out) {
    out.push_back(static_cast<char>(kind));
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(tag >> (8 * i)));
}

uint32_t readTag(std::string_view record) {
    uint32_t tag = 0;
    for (int i = 0; i < 4; ++i) tag |= static_cast<uint32_t>(static_cast<uint8_t>(record[1 + i])) << (8 * i);
    return tag;
}

constexpr size_t kHeaderSize = 5;

} // namespace

uint32_t rowFormatTag(std::string_view hex) {
    if (hex.size() < 8) return 0;
    uint32_t tag = 0;
    for (size_t i = 0; i < 8; ++i) {
        char c = hex[i];
        uint32_t digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
        if (digit == 16) return 0;
        tag = tag << 4 | digit;
    }
    return tag;
}

ExchangeCodec::ExchangeCodec(const plan::Pipeline& pipeline)
    : sourceWidth_(static_cast<size_t>(pipeline.source().columns_size())), formatTag_(rowFormatTag(pipeline.exchange().row_format())) {
    const plan::Exchange& exchange = pipeline.exchange();
    if (exchange.columns_size() != exchange.column_types_size())
        throw std::invalid_argument("the plan's exchange lists columns and types of different lengths");
    for (int i = 0; i < exchange.columns_size(); ++i) {
        int column = exchange.columns(i);
        if (column < 1 || static_cast<size_t>(column) >= sourceWidth_)
            throw std::invalid_argument("the plan's exchange carries a column the source does not have");
        columns_.push_back(column);
        types_.push_back(exchange.column_types(i));
    }
}

void ExchangeCodec::encodeRow(const Row& row, int32_t partition, int64_t offset, std::string& out) const {
    putTag(kRow, formatTag_, out);
    putVarint(static_cast<uint32_t>(partition), out);
    putVarint(static_cast<uint64_t>(offset), out);
    putVarint(zigzag(row[0].i), out);
    const size_t bitmapAt = out.size();
    out.append((columns_.size() + 7) / 8, '\0');
    for (size_t i = 0; i < columns_.size(); ++i) {
        const Value& value = row[static_cast<size_t>(columns_[i])];
        if (value.isNull) {
            out[bitmapAt + i / 8] = static_cast<char>(out[bitmapAt + i / 8] | (1 << (i % 8)));
            continue;
        }
        switch (types_[i]) {
        case plan::FLOAT: {
            float f = static_cast<float>(value.d);
            char bytes[4];
            std::memcpy(bytes, &f, 4);
            out.append(bytes, 4);
            break;
        }
        case plan::DOUBLE: {
            char bytes[8];
            std::memcpy(bytes, &value.d, 8);
            out.append(bytes, 8);
            break;
        }
        case plan::VARCHAR:
        case plan::BYTES:
            putVarint(value.s.size(), out);
            out.append(value.s);
            break;
        default:
            putVarint(zigzag(value.i), out);
            break;
        }
    }
}

void ExchangeCodec::encodeMarker(const Marker& marker, uint32_t formatTag, std::string& out) {
    putTag(kMarker, formatTag, out);
    putVarint(static_cast<uint32_t>(marker.partitions), out);
    putVarint(marker.entries.size(), out);
    for (const MarkerEntry& entry : marker.entries) {
        putVarint(static_cast<uint32_t>(entry.partition), out);
        uint8_t flags = (entry.watermark ? 1 : 0) | (entry.idle ? 2 : 0) | (entry.end ? 4 : 0);
        out.push_back(static_cast<char>(flags));
        if (entry.watermark) putVarint(zigzag(*entry.watermark), out);
    }
}

ExchangeCodec::Kind ExchangeCodec::kind(std::string_view record) const {
    if (record.size() < kHeaderSize) return Kind::Corrupt;
    uint8_t kind = static_cast<uint8_t>(record[0]);
    if (kind != kRow && kind != kMarker) return Kind::Corrupt;
    if (readTag(record) != formatTag_) return Kind::WrongFormat;
    return kind == kRow ? Kind::Row : Kind::Marker;
}

bool ExchangeCodec::decodeRow(std::string_view record, Row& row, int32_t& partition, int64_t& offset) const {
    if (record.size() < kHeaderSize || static_cast<uint8_t>(record[0]) != kRow) return false;
    Cursor in{record.substr(kHeaderSize)};
    uint64_t rawPartition, rawOffset;
    int64_t time;
    if (!in.varint(rawPartition) || !in.varint(rawOffset) || !in.signedVarint(time)) return false;
    if (rawPartition > INT32_MAX || rawOffset > static_cast<uint64_t>(INT64_MAX)) return false;
    partition = static_cast<int32_t>(rawPartition);
    offset = static_cast<int64_t>(rawOffset);
    if (row.size() != sourceWidth_) row.resize(sourceWidth_);
    for (Value& value : row) value.isNull = true;
    row[0] = Value::ofInt(time);
    std::string_view bitmap;
    if (!in.take((columns_.size() + 7) / 8, bitmap)) return false;
    for (size_t i = 0; i < columns_.size(); ++i) {
        Value& value = row[static_cast<size_t>(columns_[i])];
        if (static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8) & 1) continue;
        value.isNull = false;
        std::string_view bytes;
        switch (types_[i]) {
        case plan::FLOAT: {
            if (!in.take(4, bytes)) return false;
            float f;
            std::memcpy(&f, bytes.data(), 4);
            value.d = f;
            break;
        }
        case plan::DOUBLE:
            if (!in.take(8, bytes)) return false;
            std::memcpy(&value.d, bytes.data(), 8);
            break;
        case plan::VARCHAR:
        case plan::BYTES: {
            uint64_t size;
            if (!in.varint(size) || !in.take(size, bytes)) return false;
            value.s.assign(bytes);
            break;
        }
        default:
            if (!in.signedVarint(value.i)) return false;
            break;
        }
    }
    return in.bytes.empty();
}

bool ExchangeCodec::decodeMarker(std::string_view record, Marker& marker) {
    if (record.size() < kHeaderSize || static_cast<uint8_t>(record[0]) != kMarker) return false;
    Cursor in{record.substr(kHeaderSize)};
    uint64_t partitions, count;
    if (!in.varint(partitions) || !in.varint(count)) return false;
    if (partitions > INT32_MAX || count > partitions) return false;
    marker.partitions = static_cast<int32_t>(partitions);
    marker.entries.resize(count);
    for (MarkerEntry& entry : marker.entries) {
        uint64_t partition;
        std::string_view flags;
        if (!in.varint(partition) || partition >= partitions || !in.take(1, flags)) return false;
        entry.partition = static_cast<int32_t>(partition);
        uint8_t bits = static_cast<uint8_t>(flags[0]);
        entry.idle = bits & 2;
        entry.end = bits & 4;
        entry.watermark.reset();
        if (bits & 1) {
            int64_t watermark;
            if (!in.signedVarint(watermark)) return false;
            entry.watermark = watermark;
        }
    }
    return in.bytes.empty();
}

int32_t ExchangeCodec::partitionOf(std::string_view keyBytes, int32_t partitions) {
    return static_cast<int32_t>(fnv1a64(keyBytes) % static_cast<uint64_t>(partitions));
}

} // namespace pipec::runtime
