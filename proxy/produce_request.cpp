#include "proxy/produce_request.h"

#include "proxy/base64_codec.h"
#include "runtime/sources/envelope.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace pipec::proxy {
namespace {

using Json = nlohmann::json;

ProduceError badRequest(std::string message) {
    return {400, 400, std::move(message)};
}

std::string mediaType(std::string_view contentType) {
    std::string type(contentType.substr(0, contentType.find(';')));
    type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }), type.end());
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
    return type;
}

std::optional<DataType> parseTypeName(const std::string &name) {
    if (name == "BINARY") return DataType::Binary;
    if (name == "JSON") return DataType::Json;
    if (name == "STRING") return DataType::String;
    if (name == "PROTOBUF") return DataType::Protobuf;
    return std::nullopt;
}

/// Decodes the data of a key or value in `type`; an error message (naming `what`) when it does not fit.
std::optional<std::string> decodeData(const Json &data, DataType type, const std::string &what, RecordData &out) {
    out.type = type;
    switch (type) {
    case DataType::Binary: {
        if (!data.is_string()) return fmt::format("`{}` must be a base64 string for type BINARY", what);
        auto bytes = decodeBase64(data.get_ref<const std::string &>());
        if (!bytes) return fmt::format("`{}` is not valid base64", what);
        out.bytes = std::move(*bytes);
        return std::nullopt;
    }
    case DataType::String:
        if (!data.is_string()) return fmt::format("`{}` must be a string for type STRING", what);
        out.bytes = data.get<std::string>();
        return std::nullopt;
    case DataType::Json:
    case DataType::Protobuf:
        out.json = data;
        return std::nullopt;
    case DataType::Absent:
        return std::nullopt;
    }
    return std::nullopt;
}

/// A v3 `key` or `value`: `{"type"?, "data"}`; absent or null data is a NULL key or value.
std::optional<std::string> parseV3Data(const Json &record, const std::string &what, RecordData &out) {
    auto member = record.find(what);
    if (member == record.end() || member->is_null()) return std::nullopt;
    if (!member->is_object()) return fmt::format("`{}` must be an object {{\"type\", \"data\"}}", what);
    for (const auto &[name, _] : member->items())
        if (name != "type" && name != "data" && name != "schema_id" && name != "schema_version" && name != "subject" &&
            name != "subject_name_strategy" && name != "schema")
            return fmt::format("unknown member `{}.{}`", what, name);
    for (const char *registry : {"schema_id", "schema_version", "subject", "subject_name_strategy", "schema"})
        if (member->contains(registry))
            return fmt::format(
                "`{}.{}`: the proxy takes schemas from the specs' proto_class, not from a schema registry", what,
                registry);
    DataType type = DataType::Json;
    if (auto typeMember = member->find("type"); typeMember != member->end() && !typeMember->is_null()) {
        if (!typeMember->is_string()) return fmt::format("`{}.type` must be a string", what);
        auto parsed = parseTypeName(typeMember->get<std::string>());
        if (!parsed)
            return fmt::format("`{}.type` `{}` is not supported (BINARY, JSON, STRING, PROTOBUF)", what,
                               typeMember->get<std::string>());
        type = *parsed;
    }
    auto data = member->find("data");
    if (data == member->end() || data->is_null()) return std::nullopt; // a NULL key or value
    return decodeData(*data, type, what + ".data", out);
}

std::optional<std::string> parsePartition(const Json &value, std::optional<int32_t> &partition, const char *name) {
    if (value.is_null()) return std::nullopt;
    if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > INT32_MAX)
        return fmt::format("`{}` must be a non-negative integer", name);
    partition = static_cast<int32_t>(value.get<int64_t>());
    return std::nullopt;
}

ParsedRecord parseV3Record(const Json &record) {
    ParsedRecord parsed;
    auto refuse = [&](std::string message) {
        parsed.error = badRequest(std::move(message));
        return parsed;
    };
    if (!record.is_object()) return refuse("a record must be a JSON object");
    ProduceRecordRequest request;
    for (const auto &[name, member] : record.items()) {
        if (name == "partition_id") {
            if (auto error = parsePartition(member, request.partition, "partition_id")) return refuse(*error);
        } else if (name == "headers") {
            if (member.is_null()) continue;
            if (!member.is_array()) return refuse("`headers` must be an array of {\"name\", \"value\"}");
            for (const auto &header : member) {
                if (!header.is_object() || !header.contains("name") || !header["name"].is_string())
                    return refuse("each header needs a string `name`");
                std::string value;
                if (auto text = header.find("value"); text != header.end() && !text->is_null()) {
                    if (!text->is_string()) return refuse("a header `value` must be a base64 string");
                    auto bytes = decodeBase64(text->get_ref<const std::string &>());
                    if (!bytes)
                        return refuse(
                            fmt::format("header `{}`: `value` is not valid base64", header["name"].get<std::string>()));
                    value = std::move(*bytes);
                }
                request.headers.emplace_back(header["name"].get<std::string>(), std::move(value));
            }
        } else if (name == "key" || name == "value") {
            if (auto error = parseV3Data(record, name, name == "key" ? request.key : request.value))
                return refuse(*error);
        } else if (name == "timestamp") {
            if (member.is_null()) continue;
            std::optional<int64_t> time =
                member.is_string() ? runtime::parseIsoTimestamp(member.get<std::string>()) : std::nullopt;
            if (!time) return refuse("`timestamp` must be an ISO-8601 date-time (2026-01-01T00:00:00Z)");
            request.timestampMs = time;
        } else {
            return refuse(fmt::format("unknown member `{}` in a produce record", name));
        }
    }
    parsed.record = std::move(request);
    return parsed;
}

} // namespace

std::string_view dataTypeName(DataType type) {
    switch (type) {
    case DataType::Absent:
        return "NULL";
    case DataType::Binary:
        return "BINARY";
    case DataType::Json:
        return "JSON";
    case DataType::String:
        return "STRING";
    case DataType::Protobuf:
        return "PROTOBUF";
    }
    return "";
}

V3RecordReader::Step V3RecordReader::next(ParsedRecord &record) {
    input_ >> std::ws;
    if (input_.peek() == std::char_traits<char>::eof()) return Step::End;
    if (count_ == maxRecords_) return Step::TooMany;
    Json value;
    try {
        // Reads exactly one JSON value and leaves the stream after it: concatenated JSON, as Confluent streams it.
        input_ >> value;
    } catch (const Json::exception &error) {
        record = ParsedRecord{std::nullopt,
                              badRequest(fmt::format("malformed JSON in record {}: {}", count_, error.what()))};
        return Step::Malformed;
    }
    ++count_;
    record = parseV3Record(value);
    return Step::Record;
}

ParsedBody parseV3Body(std::string_view body, size_t maxRecords) {
    ParsedBody parsed;
    std::istringstream input{std::string(body)};
    V3RecordReader reader(input, maxRecords);
    for (;;) {
        ParsedRecord record;
        V3RecordReader::Step step = reader.next(record);
        if (step == V3RecordReader::Step::End) break;
        if (step == V3RecordReader::Step::TooMany) {
            parsed.error = ProduceError{413, 413, fmt::format("more than {} records in one request", maxRecords)};
            return parsed;
        }
        if (step == V3RecordReader::Step::Malformed) {
            if (reader.count() == 0)
                parsed.error = record.error;
            else
                parsed.records.push_back(std::move(record));
            parsed.streaming = reader.count() > 0;
            return parsed;
        }
        parsed.records.push_back(std::move(record));
    }
    if (reader.count() == 0) parsed.error = badRequest("the request body holds no record");
    parsed.streaming = reader.count() > 1;
    return parsed;
}

ParsedBody parseV2Body(std::string_view body, DataType embedded, size_t maxRecords) {
    ParsedBody parsed;
    Json request;
    try {
        request = Json::parse(body);
    } catch (const Json::exception &error) {
        parsed.error = ProduceError{400, 400, fmt::format("malformed JSON: {}", error.what())};
        return parsed;
    }
    if (!request.is_object() || !request.contains("records") || !request["records"].is_array()) {
        parsed.error = ProduceError{422, 422, "the body must be an object with a `records` array", "malformed"};
        return parsed;
    }
    for (const char *registry : {"key_schema", "key_schema_id", "value_schema", "value_schema_id"})
        if (request.contains(registry) && !request[registry].is_null()) {
            parsed.error = ProduceError{422, 42205,
                                        fmt::format("`{}`: the proxy takes schemas from the specs' proto_class, "
                                                    "not from a schema registry",
                                                    registry),
                                        "malformed"};
            return parsed;
        }
    const Json &records = request["records"];
    if (records.empty()) {
        parsed.error = ProduceError{422, 422, "`records` is empty", "malformed"};
        return parsed;
    }
    if (records.size() > maxRecords) {
        parsed.error = ProduceError{413, 413, fmt::format("more than {} records in one request", maxRecords)};
        return parsed;
    }
    for (const Json &record : records) {
        ParsedRecord item;
        auto refuse = [&](std::string message) {
            item.error = ProduceError{422, 422, std::move(message), "malformed"};
        };
        ProduceRecordRequest request;
        std::optional<std::string> error;
        if (!record.is_object()) error = "a record must be a JSON object";
        for (auto it = record.begin(); !error && record.is_object() && it != record.end(); ++it) {
            if (it.key() == "partition")
                error = parsePartition(it.value(), request.partition, "partition");
            else if (it.key() == "key" && !it.value().is_null())
                error = decodeData(it.value(), embedded, "key", request.key);
            else if (it.key() == "value" && !it.value().is_null())
                error = decodeData(it.value(), embedded, "value", request.value);
            else if (it.key() != "key" && it.key() != "value")
                error = fmt::format("unknown member `{}` in a record", it.key());
        }
        if (error) {
            // Confluent's v2 names base64 problems in the binary format as 422 too.
            refuse(*error);
        } else {
            item.record = std::move(request);
        }
        parsed.records.push_back(std::move(item));
    }
    return parsed;
}

std::optional<DataType> v2EmbeddedFormat(std::string_view contentType) {
    std::string type = mediaType(contentType);
    if (type == "application/vnd.kafka.json.v2+json") return DataType::Json;
    if (type == "application/vnd.kafka.binary.v2+json") return DataType::Binary;
    return std::nullopt;
}

bool isJsonContentType(std::string_view contentType) {
    return mediaType(contentType) == "application/json";
}

} // namespace pipec::proxy
