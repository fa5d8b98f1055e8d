#pragma once

#include <cstddef>
#include <string_view>

namespace pipec {

/// The offset of the first byte that does not belong to a well-formed UTF-8 sequence (overlong forms, surrogates and
/// code points above U+10FFFF included), or of the first NUL byte; npos when `text` is valid. Protobuf refuses to parse
/// a `string` field that is not valid UTF-8, and ANTLR refuses such SQL, so every user string is checked with this
/// before it reaches either.
size_t firstInvalidUtf8(std::string_view text);

} // namespace pipec
