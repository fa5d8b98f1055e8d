#pragma once

#include "runtime/core/value.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <pipec/plan.pb.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::runtime {

/// Turns one event payload into a source row: row[0] = `_time`, then one value per plan::Source column.
/// The binary path reads only the field numbers the plan needs, straight off the Protobuf wire format, in one pass
/// and without allocating for numeric columns; everything else is skipped. JSON payloads (the Protobuf JSON
/// mapping) are parsed with the schema and then take the same path.
class RecordDecoder {
public:
    enum class Status { Ok, Malformed, MissingTime };

    explicit RecordDecoder(const plan::Source& source);
    ~RecordDecoder();

    Status decodeProtobuf(std::string_view payload, int64_t envelopeTimeMs, Row& row, std::string* error);
    Status decodeJson(std::string_view json, int64_t envelopeTimeMs, Row& row, std::string* error);
    const google::protobuf::Descriptor* descriptor() const { return descriptor_; }

    struct Level;

private:
    bool decodeLevel(const Level& level, const uint8_t* begin, const uint8_t* end, Row& row, std::string* error, int depth);

    plan::Source source_;
    google::protobuf::DescriptorPool pool_;
    const google::protobuf::Descriptor* descriptor_ = nullptr;
    std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
    std::unique_ptr<Level> root_;
    std::vector<Level*> levels_;             // every level, to reset presence per record
    struct ColumnInfo {
        plan::FieldKind kind;
        plan::FieldKind wrappedKind;
        plan::TypeId type;
        bool leafHasPresence;                // the field itself tracks presence (else absent = default)
        std::vector<const Level*> ancestors; // nested message levels that must be present for a non-NULL value
        std::vector<std::pair<int32_t, std::string>> enumNames;
    };
    std::vector<ColumnInfo> columns_;       // index = row column
    std::vector<bool> seen_;
    std::string scratch_;
};

/// Removes the Confluent Schema Registry framing (magic byte 0, 4-byte schema id, message-index array);
/// nullopt when the payload does not carry it or is truncated.
std::optional<std::string_view> stripConfluentFraming(std::string_view payload);

} // namespace pipec::runtime
