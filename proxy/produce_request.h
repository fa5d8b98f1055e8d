#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipec::proxy {

/// The embedded format of a record key or value, as a client names it (v3 `type`, or the v2 content type).
enum class DataType {
    Absent,   // no key / no value (NULL)
    Binary,   // base64 in the request, raw bytes on Kafka
    Json,     // a JSON value: checked against the topic's message when the topic is typed
    String,   // a JSON string, its UTF-8 bytes on Kafka
    Protobuf, // a JSON value in the Protobuf JSON mapping of the topic's message (typed topics only)
};

std::string_view dataTypeName(DataType type);

/// A key or a value of one record, decoded from the request (base64 already undone).
struct RecordData {
    DataType type = DataType::Absent;
    std::string bytes;   // Binary, String
    nlohmann::json json; // Json, Protobuf
};

/// One record of a produce request, whatever the API version.
struct ProduceRecordRequest {
    std::optional<int32_t> partition;
    std::vector<std::pair<std::string, std::string>> headers; // decoded values, in request order
    RecordData key;
    RecordData value;
    std::optional<int64_t> timestampMs; // v3 `timestamp`: the Kafka record timestamp (default: produce time)
};

/// A request-level or record-level refusal: the HTTP status, Confluent's error code and the message.
struct ProduceError {
    ProduceError() = default;
    ProduceError(int status, int code, std::string text, std::string why = "")
        : httpStatus(status), errorCode(code), message(std::move(text)), reason(std::move(why)) {}

    int httpStatus = 400;
    int errorCode = 400;
    std::string message;
    std::string reason; // for the metrics (`malformed`, `schema_mismatch`, …); empty: derived from the status
};

/// One record of a request as parsed: the record, or why it cannot be produced.
struct ParsedRecord {
    std::optional<ProduceRecordRequest> record;
    ProduceError error; // when `record` is empty
};

/// A parsed request body.
struct ParsedBody {
    std::vector<ParsedRecord> records;
    /// The body as a whole is unusable (not JSON, too many records): nothing of it is produced.
    std::optional<ProduceError> error;
    /// v3 only: the body held more than one JSON object (Confluent's streaming mode).
    bool streaming = false;
};

/// Reads the records of a v3 body one at a time from a stream (a buffered body, or one still arriving): concatenated
/// JSON objects, `{…}{…}` or one per line, each read as soon as its last byte is there.
class V3RecordReader {
public:
    enum class Step {
        Record,    // `record` holds the next record (or its record-level error)
        End,       // no more records (whitespace to the end)
        TooMany,   // a record beyond `maxRecords` begins: nothing of it was read
        Malformed, // JSON that does not parse: `record.error` says where; the rest cannot be framed
    };
    V3RecordReader(std::istream &input, size_t maxRecords) : input_(input), maxRecords_(maxRecords) {}
    Step next(ParsedRecord &record);
    /// Records read so far (with their errors).
    size_t count() const { return count_; }

private:
    std::istream &input_;
    size_t maxRecords_;
    size_t count_ = 0;
};

/// Parses a v3 body: one JSON object, or several concatenated (streaming mode: `{…}{…}` or one per line). A record
/// that is JSON but not a valid record gets its own error; JSON that does not parse ends the body there (the rest
/// cannot be framed): the records before it keep their verdicts, and one error stands for the rest.
ParsedBody parseV3Body(std::string_view body, size_t maxRecords);

/// Parses a v2 body `{"records": [{"key"?, "value", "partition"?}, …]}` whose embedded format (`json` or `binary`)
/// comes from the content type.
ParsedBody parseV2Body(std::string_view body, DataType embedded, size_t maxRecords);

/// The embedded format named by a v2 content type: `application/vnd.kafka.json.v2+json` → Json,
/// `application/vnd.kafka.binary.v2+json` → Binary; nullopt for anything else (415). Parameters (`; charset=…`) are
/// ignored.
std::optional<DataType> v2EmbeddedFormat(std::string_view contentType);

/// True for `application/json` (parameters ignored), the only content type of v3 produce requests.
bool isJsonContentType(std::string_view contentType);

} // namespace pipec::proxy
