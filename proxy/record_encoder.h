#pragma once

#include "proxy/produce_request.h"
#include "proxy/topic_directory.h"
#include "runtime/sources/envelope.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace pipec::proxy {

/// A record ready for the Kafka producer: payload encoded, envelope headers attached.
struct EncodedRecord {
    std::string topic;
    std::optional<int32_t> partition;
    std::optional<std::string> key;   // nullopt: a NULL key
    std::optional<std::string> value; // nullopt: a NULL value (untyped topics only)
    runtime::HeaderList headers;
    int64_t timestampMs = 0; // 0: the producer's clock
    DataType keyType = DataType::Absent;
    DataType valueType = DataType::Absent;
};

/// What the encoder knows about the request a record came in.
struct RecordContext {
    std::string clientName;       // `event-source`: the authenticated client
    int64_t receiveTimeMs = 0;    // `event-created-at` when the client gives none (or an invalid one)
    std::string requestCreatedAt; // the request's `Event-Created-At` HTTP header, if any
};

/// Encodes one record for `topic`: for a typed topic (`type` not null) the value is checked against the message
/// and written in the topic's encoding; an untyped topic passes BINARY/STRING/JSON through. The envelope headers
/// (docs/event-envelope.md) are set by the proxy: `event-created-at` from the record's header, else the request's,
/// when it is decimal epoch milliseconds, else the receive time; `event-source` the client's name (a client cannot
/// claim another's); `event-encoding` and `event-schema` as produced. The client's other headers follow them.
/// A record that does not fit is a 422 with the field path and the reason.
std::variant<EncodedRecord, ProduceError> encodeRecord(const ProduceRecordRequest &request, const std::string &topic,
                                                       const TopicType *type, const RecordContext &context);

} // namespace pipec::proxy
