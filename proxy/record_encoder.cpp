#include "proxy/record_encoder.h"

#include "proxy/json_message_check.h"

#include <fmt/format.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include <memory>

namespace pipec::proxy {
namespace {

namespace protobuf = google::protobuf;

ProduceError unprocessable(std::string message) {
    return ProduceError{422, 422, std::move(message), "schema_mismatch"};
}

bool isEnvelopeHeader(const std::string &name) {
    return name == runtime::kHeaderCreatedAt || name == runtime::kHeaderSource || name == runtime::kHeaderEncoding ||
           name == runtime::kHeaderSchema;
}

/// The Confluent wire-format prefix: magic byte 0, the big-endian schema id, the message-index list [0] (one 0 byte).
std::string confluentPrefix(int32_t schemaId) {
    std::string prefix(1, '\0');
    for (int shift = 24; shift >= 0; shift -= 8)
        prefix.push_back(static_cast<char>((schemaId >> shift) & 0xff));
    prefix.push_back('\0');
    return prefix;
}

std::variant<std::string, ProduceError> encodeTypedValue(const RecordData &value, const TopicType &type) {
    // The directory's prototype (a factory per call otherwise, for callers without a directory).
    std::unique_ptr<protobuf::DynamicMessageFactory> ownFactory;
    const protobuf::Message *prototype = type.prototype;
    if (prototype == nullptr) {
        ownFactory = std::make_unique<protobuf::DynamicMessageFactory>();
        prototype = ownFactory->GetPrototype(type.message);
    }
    std::unique_ptr<protobuf::Message> message(prototype->New());
    const std::string &name = type.message->full_name();
    switch (value.type) {
    case DataType::Absent:
        return unprocessable(fmt::format("topic `{}` carries `{}` events: a value is required", type.topic, name));
    case DataType::String:
        return unprocessable(
            fmt::format("topic `{}` carries `{}` events: send the value as JSON (or PROTOBUF, or BINARY "
                        "Protobuf), not STRING",
                        type.topic, name));
    case DataType::Binary:
        if (!message->ParseFromString(value.bytes))
            return unprocessable(fmt::format("$: the BINARY value is not a binary `{}` message", name));
        break;
    case DataType::Json:
    case DataType::Protobuf: {
        if (auto error = checkJsonMessage(value.json, type.message)) return unprocessable(*error);
        protobuf::util::JsonParseOptions options;
        if (auto status = protobuf::util::JsonStringToMessage(
                value.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), message.get(), options);
            !status.ok())
            return unprocessable(fmt::format("$: does not match `{}`: {}", name, std::string(status.message())));
        break;
    }
    }
    std::string payload;
    switch (type.encoding) {
    case runtime::PayloadEncoding::Json: {
        if (!protobuf::util::MessageToJsonString(*message, &payload).ok())
            return unprocessable(fmt::format("$: cannot print the value as `{}` JSON", name));
        return payload;
    }
    case runtime::PayloadEncoding::ConfluentProtobuf:
        payload = confluentPrefix(type.schemaId);
        break;
    case runtime::PayloadEncoding::Protobuf:
    case runtime::PayloadEncoding::Unspecified:
        break;
    }
    message->AppendToString(&payload);
    return payload;
}

} // namespace

std::variant<EncodedRecord, ProduceError> encodeRecord(const ProduceRecordRequest &request, const std::string &topic,
                                                       const TopicType *type, const RecordContext &context) {
    EncodedRecord record;
    record.topic = topic;
    record.partition = request.partition;
    record.timestampMs = request.timestampMs.value_or(0);
    record.keyType = request.key.type;
    record.valueType = request.value.type;

    switch (request.key.type) {
    case DataType::Absent:
        break;
    case DataType::Binary:
    case DataType::String:
        record.key = request.key.bytes;
        break;
    case DataType::Json:
        // A JSON string key is its text (so `"101"` keys like `pipec produce --key` does); other JSON is its text form.
        record.key = request.key.json.is_string()
                         ? request.key.json.get<std::string>()
                         : request.key.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        break;
    case DataType::Protobuf:
        return unprocessable("PROTOBUF keys are not supported: send the key as BINARY, STRING or JSON");
    }

    runtime::EventEnvelope envelope;
    envelope.source = context.clientName;
    if (type != nullptr) {
        auto payload = encodeTypedValue(request.value, *type);
        if (auto *error = std::get_if<ProduceError>(&payload)) return *error;
        record.value = std::move(std::get<std::string>(payload));
        envelope.encoding = type->encoding;
        envelope.schema = type->encoding == runtime::PayloadEncoding::ConfluentProtobuf ? std::to_string(type->schemaId)
                                                                                        : type->message->full_name();
    } else {
        switch (request.value.type) {
        case DataType::Absent:
            break;
        case DataType::Binary:
        case DataType::String:
            record.value = request.value.bytes;
            break;
        case DataType::Json:
            record.value = request.value.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            envelope.encoding = runtime::PayloadEncoding::Json;
            break;
        case DataType::Protobuf:
            return unprocessable(
                fmt::format("topic `{}` has no proto_class in the specs: PROTOBUF values need one", topic));
        }
    }

    // The creation time: the record's own header, then the request's, when valid; else when the proxy received it.
    std::optional<int64_t> createdAt;
    for (const auto &[name, value] : request.headers)
        if (name == runtime::kHeaderCreatedAt) createdAt = runtime::parseEpochMillis(value); // the last one wins
    if (!createdAt && !context.requestCreatedAt.empty())
        createdAt = runtime::parseEpochMillis(context.requestCreatedAt);
    envelope.createdAtMs = createdAt.value_or(context.receiveTimeMs);

    record.headers = runtime::encodeEnvelope(envelope);
    for (const auto &[name, value] : request.headers)
        if (!isEnvelopeHeader(name)) record.headers.emplace_back(name, value);
    return record;
}

} // namespace pipec::proxy
