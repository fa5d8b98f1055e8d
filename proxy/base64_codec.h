#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pipec::proxy {

/// Decodes standard base64 (RFC 4648 §4, `=` padding required, no whitespace), as Confluent's REST Proxy expects
/// for BINARY data and header values. nullopt when the text is not strictly base64: a client's mistake must be a
/// 400, never silently different bytes.
std::optional<std::string> decodeBase64(std::string_view text);

/// Encodes bytes as standard base64 with padding.
std::string encodeBase64(std::string_view bytes);

} // namespace pipec::proxy
