#pragma once

#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace pipec::proxy {

/// Checks a JSON value against a Protobuf message in the Protobuf JSON mapping (field names in either style: the
/// `.proto` name or the lowerCamelCase JSON name), before anything is encoded, so that a refused record can say
/// where and why: `$.store_id: expected an integer`. Returns nothing when the value fits. Protobuf's own JSON parser
/// still does the encoding; this check exists for the message a client can act on.
std::optional<std::string> checkJsonMessage(const nlohmann::json &value, const google::protobuf::Descriptor *message);

} // namespace pipec::proxy
