#pragma once

#include "runtime/sources/envelope.h"

#include <string_view>
#include <vector>

namespace pipec::runtime {

/// Parses the headers section of a Kafka record (record batch format v2, KIP-82): a zigzag varint count, then per
/// header a zigzag varint name length, the name, a zigzag varint value length (-1: null, read as empty) and the
/// value. As librdkafka's own parse: at most 100000 headers, and a name ends at its first NUL byte. Appends views
/// into `section` to `out`. Returns false, leaving `out` in an unspecified state, when the
/// section is malformed or has bytes left over; nothing is read outside `section`.
bool parseKafkaHeaderSection(std::string_view section, std::vector<HeaderView>& out);

} // namespace pipec::runtime
