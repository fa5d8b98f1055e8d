#include "runtime/formats/record_decoder.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <cstring>
#include <stdexcept>
#include <unordered_map>

namespace pipec::runtime {

/// One message level of the wire decoder: which field numbers hold wanted columns or lead to nested levels.
struct RecordDecoder::Level {
    std::unordered_map<int32_t, std::vector<int>> leaves;          // field number → row columns read from it
    std::unordered_map<int32_t, std::unique_ptr<Level>> children;  // field number → nested message level
    bool present = false;
    // A direct table for small field numbers (almost all of them), so the hot loop does no hashing: one entry (one
    // load) says whether a field is wanted at all.
    static constexpr int32_t kDirect = 256;
    struct Slot {
        const std::vector<int>* leaf = nullptr;
        Level* child = nullptr;
    };
    std::vector<Slot> direct;

    void buildDirect() {
        direct.assign(kDirect, Slot{});
        for (const auto& [number, columns] : leaves)
            if (number < kDirect) direct[static_cast<size_t>(number)].leaf = &columns;
        for (auto& [number, child] : children) {
            if (number < kDirect) direct[static_cast<size_t>(number)].child = child.get();
            child->buildDirect();
        }
    }
    Slot slotFor(int32_t number) const {
        if (number < kDirect) [[likely]] return direct[static_cast<size_t>(number)];
        Slot slot;
        if (auto it = leaves.find(number); it != leaves.end()) slot.leaf = &it->second;
        if (auto it = children.find(number); it != children.end()) slot.child = it->second.get();
        return slot;
    }
};

namespace {

bool readVarint(const uint8_t*& p, const uint8_t* end, uint64_t& value) {
    if (p < end && *p < 0x80) [[likely]] {  // tags and small values: one byte
        value = *p++;
        return true;
    }
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) return false;
        uint8_t byte = *p++;
        value |= static_cast<uint64_t>(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return true;
    }
    return false;
}

bool skipField(uint32_t wireType, const uint8_t*& p, const uint8_t* end, int depth) {
    uint64_t value;
    switch (wireType) {
    case 0: return readVarint(p, end, value);
    case 1:
        if (end - p < 8) return false;
        p += 8;
        return true;
    case 2:
        if (!readVarint(p, end, value) || value > static_cast<uint64_t>(end - p)) return false;
        p += value;
        return true;
    case 3: {  // a group: skip fields until the matching end-group tag
        if (depth > 64) return false;
        while (p < end) {
            uint64_t tag;
            if (!readVarint(p, end, tag)) return false;
            if ((tag & 7) == 4) return true;
            if (!skipField(static_cast<uint32_t>(tag & 7), p, end, depth + 1)) return false;
        }
        return false;
    }
    case 5:
        if (end - p < 4) return false;
        p += 4;
        return true;
    default: return false;
    }
}

uint32_t expectedWireType(plan::FieldKind kind) {
    switch (kind) {
    case plan::FIELD_FIXED64:
    case plan::FIELD_SFIXED64:
    case plan::FIELD_DOUBLE: return 1;
    case plan::FIELD_FIXED32:
    case plan::FIELD_SFIXED32:
    case plan::FIELD_FLOAT: return 5;
    case plan::FIELD_STRING:
    case plan::FIELD_BYTES:
    case plan::FIELD_TIMESTAMP:
    case plan::FIELD_WRAPPER: return 2;
    default: return 0;
    }
}

/// Reads one scalar of `kind` (wire type already checked) into `value`.
bool readScalar(plan::FieldKind kind, const uint8_t*& p, const uint8_t* end, Value& value) {
    uint64_t raw = 0;
    value.isNull = false;
    switch (kind) {
    case plan::FIELD_DOUBLE: {
        if (end - p < 8) return false;
        std::memcpy(&value.d, p, 8);
        p += 8;
        return true;
    }
    case plan::FIELD_FLOAT: {
        if (end - p < 4) return false;
        float f;
        std::memcpy(&f, p, 4);
        value.d = f;
        p += 4;
        return true;
    }
    case plan::FIELD_FIXED64:
    case plan::FIELD_SFIXED64: {
        if (end - p < 8) return false;
        std::memcpy(&raw, p, 8);
        value.i = static_cast<int64_t>(raw);
        p += 8;
        return true;
    }
    case plan::FIELD_FIXED32: {
        if (end - p < 4) return false;
        uint32_t u;
        std::memcpy(&u, p, 4);
        value.i = u;
        p += 4;
        return true;
    }
    case plan::FIELD_SFIXED32: {
        if (end - p < 4) return false;
        int32_t s;
        std::memcpy(&s, p, 4);
        value.i = s;
        p += 4;
        return true;
    }
    case plan::FIELD_STRING:
    case plan::FIELD_BYTES: {
        if (!readVarint(p, end, raw) || raw > static_cast<uint64_t>(end - p)) return false;
        value.s.assign(reinterpret_cast<const char*>(p), raw);
        p += raw;
        return true;
    }
    default: break;
    }
    if (!readVarint(p, end, raw)) return false;
    switch (kind) {
    case plan::FIELD_INT32: value.i = static_cast<int32_t>(static_cast<uint32_t>(raw)); break;
    case plan::FIELD_UINT32: value.i = static_cast<uint32_t>(raw); break;
    case plan::FIELD_SINT32: {
        uint32_t n = static_cast<uint32_t>(raw);
        value.i = static_cast<int32_t>((n >> 1) ^ (~(n & 1) + 1));
        break;
    }
    case plan::FIELD_SINT64: value.i = static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1)); break;
    case plan::FIELD_BOOL: value.i = raw != 0; break;
    default: value.i = static_cast<int64_t>(raw); break;  // INT64, UINT64 (bit pattern), ENUM number
    }
    return true;
}

void setDefault(plan::FieldKind kind, plan::TypeId type, Value& value) {
    value.isNull = false;
    value.i = 0;
    value.d = 0;
    value.s.clear();
    if (kind == plan::FIELD_ENUM) value.s.clear();  // replaced by the zero value's name by the caller
    (void)type;
}

} // namespace

RecordDecoder::RecordDecoder(const plan::Source& source) : source_(source) {
    for (const auto& file : source_.descriptors().file()) {
        if (!pool_.BuildFile(file)) throw std::invalid_argument(fmt::format("plan descriptor `{}` does not build", file.name()));
    }
    descriptor_ = pool_.FindMessageTypeByName(source_.message_type());
    if (!descriptor_) throw std::invalid_argument(fmt::format("message `{}` is not in the plan's descriptors", source_.message_type()));
    factory_ = std::make_unique<google::protobuf::DynamicMessageFactory>(&pool_);
    root_ = std::make_unique<Level>();
    levels_.push_back(root_.get());
    root_->present = true;
    columns_.resize(static_cast<size_t>(source_.columns_size()));
    for (int c = 1; c < source_.columns_size(); ++c) {
        const plan::SourceColumn& column = source_.columns(c);
        ColumnInfo& info = columns_[static_cast<size_t>(c)];
        info.kind = column.kind();
        info.wrappedKind = column.wrapped_kind();
        info.type = column.type();
        for (int e = 0; e < column.enum_names_size() && e < column.enum_numbers_size(); ++e)
            info.enumNames.emplace_back(column.enum_numbers(e), column.enum_names(e));
        const google::protobuf::Descriptor* message = descriptor_;
        Level* level = root_.get();
        const google::protobuf::FieldDescriptor* field = nullptr;
        for (int step = 0; step < column.field_path_size(); ++step) {
            int number = column.field_path(step);
            field = message ? message->FindFieldByNumber(number) : nullptr;
            if (step + 1 == column.field_path_size()) break;
            auto& child = level->children[number];
            if (!child) {
                child = std::make_unique<Level>();
                levels_.push_back(child.get());
            }
            level = child.get();
            info.ancestors.push_back(level);
            message = field ? field->message_type() : nullptr;
        }
        if (column.field_path_size() == 0) throw std::invalid_argument(fmt::format("source column `{}` has no field path", column.name()));
        info.leafHasPresence = field ? field->has_presence() : column.has_presence();
        if (info.kind == plan::FIELD_TIMESTAMP || info.kind == plan::FIELD_WRAPPER) info.leafHasPresence = true;
        level->leaves[column.field_path(column.field_path_size() - 1)].push_back(c);
    }
    seen_.assign(columns_.size(), false);
    root_->buildDirect();
}

RecordDecoder::~RecordDecoder() = default;

bool RecordDecoder::decodeLevel(const Level& level, const uint8_t* p, const uint8_t* end, Row& row, std::string* error, int depth) {
    if (depth > 32) {
        if (error) *error = "message nested too deeply";
        return false;
    }
    while (p < end) {
        uint64_t tag;
        if (!readVarint(p, end, tag)) {
            if (error) *error = "truncated field tag";
            return false;
        }
        uint32_t wireType = static_cast<uint32_t>(tag & 7);
        int32_t number = static_cast<int32_t>(tag >> 3);
        if (number <= 0 || wireType == 4 || wireType > 5) {
            if (error) *error = fmt::format("invalid field tag {} (wire type {})", tag >> 3, wireType);
            return false;
        }
        const Level::Slot slot = level.slotFor(number);
        const std::vector<int>* leaf = slot.leaf;
        Level* child = slot.child;
        if (!leaf && !child) {
            // Most fields of an event are not wanted: skipped here, inline, for the common wire types.
            bool skipped;
            switch (wireType) {
            case 0: {  // a varint: at most 10 bytes
                const uint8_t* limit = end - p > 10 ? p + 10 : end;
                while (p < limit && (*p & 0x80)) ++p;
                skipped = p < limit;
                p += skipped;
                break;
            }
            case 2: {
                uint64_t length;
                skipped = readVarint(p, end, length) && length <= static_cast<uint64_t>(end - p);
                if (skipped) p += length;
                break;
            }
            case 1:
                skipped = end - p >= 8;
                p += skipped ? 8 : 0;
                break;
            case 5:
                skipped = end - p >= 4;
                p += skipped ? 4 : 0;
                break;
            default: skipped = skipField(wireType, p, end, 0); break;
            }
            if (!skipped) [[unlikely]] {
                if (error) *error = fmt::format("truncated field {}", number);
                return false;
            }
            continue;
        }
        if (child && wireType == 2) {
            uint64_t length;
            if (!readVarint(p, end, length) || length > static_cast<uint64_t>(end - p)) {
                if (error) *error = fmt::format("truncated message field {}", number);
                return false;
            }
            child->present = true;
            if (!decodeLevel(*child, p, p + length, row, error, depth + 1)) return false;
            p += length;
            continue;
        }
        if (!leaf) {
            if (!skipField(wireType, p, end, 0)) {
                if (error) *error = fmt::format("truncated field {}", number);
                return false;
            }
            continue;
        }
        const ColumnInfo& info = columns_[static_cast<size_t>(leaf->front())];
        if (wireType != expectedWireType(info.kind)) {
            // A field of another type under the same number: protobuf parsers treat it as unknown and skip it.
            if (!skipField(wireType, p, end, 0)) {
                if (error) *error = fmt::format("truncated field {}", number);
                return false;
            }
            continue;
        }
        const uint8_t* fieldStart = p;
        for (int column : *leaf) {
            p = fieldStart;
            const ColumnInfo& target = columns_[static_cast<size_t>(column)];
            Value& value = row[static_cast<size_t>(column)];
            if (target.kind == plan::FIELD_TIMESTAMP || target.kind == plan::FIELD_WRAPPER) {
                uint64_t length;
                if (!readVarint(p, end, length) || length > static_cast<uint64_t>(end - p)) {
                    if (error) *error = fmt::format("truncated message field {}", number);
                    return false;
                }
                const uint8_t* inner = p;
                const uint8_t* innerEnd = p + length;
                p = innerEnd;
                int64_t seconds = 0, nanos = 0;
                Value wrapped;
                setDefault(target.wrappedKind, target.type, wrapped);
                while (inner < innerEnd) {
                    uint64_t innerTag;
                    if (!readVarint(inner, innerEnd, innerTag)) {
                        if (error) *error = fmt::format("truncated field {}", number);
                        return false;
                    }
                    uint32_t innerWire = static_cast<uint32_t>(innerTag & 7);
                    uint64_t innerNumber = innerTag >> 3;
                    if (target.kind == plan::FIELD_TIMESTAMP && innerWire == 0 && (innerNumber == 1 || innerNumber == 2)) {
                        uint64_t raw;
                        if (!readVarint(inner, innerEnd, raw)) {
                            if (error) *error = "truncated timestamp";
                            return false;
                        }
                        (innerNumber == 1 ? seconds : nanos) = innerNumber == 1 ? static_cast<int64_t>(raw) : static_cast<int32_t>(raw);
                        continue;
                    }
                    if (target.kind == plan::FIELD_WRAPPER && innerNumber == 1 && innerWire == expectedWireType(target.wrappedKind)) {
                        if (!readScalar(target.wrappedKind, inner, innerEnd, wrapped)) {
                            if (error) *error = fmt::format("truncated wrapper field {}", number);
                            return false;
                        }
                        continue;
                    }
                    if (innerWire == 4 || innerWire > 5 || !skipField(innerWire, inner, innerEnd, 0)) {
                        if (error) *error = fmt::format("malformed message field {}", number);
                        return false;
                    }
                }
                if (target.kind == plan::FIELD_TIMESTAMP) {
                    if (seconds > (int64_t{1} << 52) || seconds < -(int64_t{1} << 52)) {
                        if (error) *error = "timestamp out of range";
                        return false;
                    }
                    int64_t millisFromNanos = nanos >= 0 ? nanos / 1'000'000 : -((-nanos + 999'999) / 1'000'000);
                    value.isNull = false;
                    value.i = seconds * 1000 + millisFromNanos;
                } else {
                    std::string text = std::move(value.s);
                    value = std::move(wrapped);
                    (void)text;
                }
            } else if (!readScalar(target.kind, p, end, value)) {
                if (error) *error = fmt::format("truncated field {}", number);
                return false;
            }
            seen_[static_cast<size_t>(column)] = true;
        }
    }
    return true;
}

RecordDecoder::Status RecordDecoder::decodeProtobuf(std::string_view payload, int64_t envelopeTimeMs, Row& row, std::string* error) {
    size_t columnCount = columns_.size();
    row.resize(columnCount);
    for (size_t c = 0; c < columnCount; ++c) {
        row[c].isNull = true;
        row[c].s.clear();
        seen_[c] = false;
    }
    for (Level* level : levels_) level->present = false;
    root_->present = true;
    const auto* begin = reinterpret_cast<const uint8_t*>(payload.data());
    if (!decodeLevel(*root_, begin, begin + payload.size(), row, error, 0)) return Status::Malformed;
    for (size_t c = 1; c < columnCount; ++c) {
        const ColumnInfo& info = columns_[c];
        Value& value = row[c];
        if (seen_[c]) {
            if (info.kind == plan::FIELD_ENUM || (info.kind == plan::FIELD_WRAPPER && info.wrappedKind == plan::FIELD_ENUM)) {
                int64_t number = value.i;
                value.s = std::to_string(number);
                for (const auto& [enumNumber, name] : info.enumNames)
                    if (enumNumber == number) value.s = name;
            }
            continue;
        }
        bool ancestorsPresent = true;
        for (const Level* ancestor : info.ancestors) ancestorsPresent = ancestorsPresent && ancestor->present;
        if (!ancestorsPresent || info.leafHasPresence) {
            value.isNull = true;
            continue;
        }
        setDefault(info.kind, info.type, value);
        if (info.kind == plan::FIELD_ENUM) {
            value.s = "0";
            for (const auto& [enumNumber, name] : info.enumNames)
                if (enumNumber == 0) value.s = name;
        }
    }
    Value& time = row[0];
    int timeColumn = source_.time_column();
    if (timeColumn >= 1 && static_cast<size_t>(timeColumn) < columnCount) {
        const Value& field = row[static_cast<size_t>(timeColumn)];
        if (field.isNull) return Status::MissingTime;
        time = Value::ofInt(field.i);
    } else {
        if (envelopeTimeMs == INT64_MIN) return Status::MissingTime;
        time = Value::ofInt(envelopeTimeMs);
    }
    return Status::Ok;
}

RecordDecoder::Status RecordDecoder::decodeJson(std::string_view json, int64_t envelopeTimeMs, Row& row, std::string* error) {
    std::unique_ptr<google::protobuf::Message> message(factory_->GetPrototype(descriptor_)->New());
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(json, message.get(), options);
    if (!status.ok()) {
        if (error) *error = fmt::format("not a {} in JSON: {}", source_.message_type(), std::string(status.message()));
        return Status::Malformed;
    }
    scratch_.clear();
    message->SerializeToString(&scratch_);
    return decodeProtobuf(scratch_, envelopeTimeMs, row, error);
}

std::optional<std::string_view> stripConfluentFraming(std::string_view payload) {
    if (payload.size() < 6 || payload[0] != '\0') return std::nullopt;
    const auto* p = reinterpret_cast<const uint8_t*>(payload.data()) + 5;
    const auto* end = reinterpret_cast<const uint8_t*>(payload.data()) + payload.size();
    uint64_t raw;
    if (!readVarint(p, end, raw)) return std::nullopt;
    int64_t count = static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
    if (count < 0 || count > 64) return std::nullopt;
    for (int64_t i = 0; i < count; ++i)
        if (!readVarint(p, end, raw)) return std::nullopt;
    return payload.substr(static_cast<size_t>(p - reinterpret_cast<const uint8_t*>(payload.data())));
}

} // namespace pipec::runtime
