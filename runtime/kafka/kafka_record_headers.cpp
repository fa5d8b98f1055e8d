#include "runtime/kafka/kafka_record_headers.h"

#include <cstdint>

namespace pipec::runtime {

namespace {

/// Reads a zigzag-encoded varint of at most 32 significant bits (Kafka's varint) at `position`.
bool readVarint(std::string_view bytes, size_t& position, int64_t& value) {
    uint64_t raw = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (position >= bytes.size()) return false;
        const auto byte = static_cast<uint8_t>(bytes[position++]);
        raw |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            value = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
            return true;
        }
    }
    return false;  // longer than a Kafka varint may be
}

bool readBytes(std::string_view bytes, size_t& position, int64_t length, std::string_view& out) {
    if (length < 0 || static_cast<uint64_t>(length) > bytes.size() - position) return false;
    out = bytes.substr(position, static_cast<size_t>(length));
    position += static_cast<size_t>(length);
    return true;
}

} // namespace

bool parseKafkaHeaderSection(std::string_view section, std::vector<HeaderView>& out) {
    size_t position = 0;
    int64_t count = 0;
    if (!readVarint(section, position, count) || count < 0) return false;
    // Each header takes at least two bytes (two length varints): a larger count cannot be right. librdkafka refuses
    // more than 100000 headers; so does this parser, to give the same result.
    if (count > 100000 || static_cast<uint64_t>(count) > (section.size() - position) / 2) return false;
    for (int64_t i = 0; i < count; ++i) {
        int64_t nameLength = 0;
        int64_t valueLength = 0;
        std::string_view name;
        std::string_view value;
        if (!readVarint(section, position, nameLength) || !readBytes(section, position, nameLength, name)) return false;
        if (!readVarint(section, position, valueLength)) return false;
        if (valueLength != -1 && !readBytes(section, position, valueLength, value)) return false;
        // librdkafka hands names out as C strings: a name ends at its first NUL byte there, and so it does here.
        out.emplace_back(name.substr(0, name.find('\0')), value);
    }
    return position == section.size();
}

} // namespace pipec::runtime
