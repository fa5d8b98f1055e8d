// String functions: LOWER, UPPER, CONCAT, CHAR_LENGTH, TRIM/LTRIM/RTRIM, SUBSTRING, POSITION, REGEXP,
// REGEXP_EXTRACT, SPLIT_INDEX. Positions and lengths count characters (code points), not bytes.
#include "runtime/core/function_implementations.h"

#include <fmt/format.h>

#include <cctype>
#include <list>
#include <memory>
#include <regex>
#include <unordered_map>

namespace pipec::runtime::functions {

namespace {

bool isContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

/// The byte offsets where each character of `text` starts, plus text.size() at the end.
std::vector<size_t> characterOffsets(std::string_view text) {
    std::vector<size_t> offsets;
    for (size_t i = 0; i < text.size(); ++i)
        if (!isContinuation(static_cast<unsigned char>(text[i]))) offsets.push_back(i);
    offsets.push_back(text.size());
    return offsets;
}

std::vector<std::string_view> characters(std::string_view text) {
    std::vector<size_t> offsets = characterOffsets(text);
    std::vector<std::string_view> result;
    for (size_t i = 0; i + 1 < offsets.size(); ++i) result.push_back(text.substr(offsets[i], offsets[i + 1] - offsets[i]));
    return result;
}

/// A compiled pattern, cached per thread: the pattern is nearly always a literal, compiled once per worker.
/// Patterns follow ECMAScript syntax (std::regex), which agrees with Java's for the classes, groups, quantifiers and
/// anchors feature queries use; nullptr for an invalid pattern.
const std::regex* compiledPattern(const std::string& pattern) {
    thread_local std::unordered_map<std::string, std::unique_ptr<std::regex>> cache;
    auto it = cache.find(pattern);
    if (it != cache.end()) return it->second.get();
    if (cache.size() >= 256) cache.clear();
    std::unique_ptr<std::regex> compiled;
    try {
        compiled = std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
    }
    return cache.emplace(pattern, std::move(compiled)).first->second.get();
}

Value trimCharacters(std::string_view text, std::string_view set, bool leading, bool trailing) {
    std::vector<std::string_view> remove = characters(set);
    auto removable = [&](std::string_view character) {
        for (auto candidate : remove)
            if (candidate == character) return true;
        return false;
    };
    std::vector<std::string_view> chars = characters(text);
    size_t begin = 0, end = chars.size();
    while (leading && begin < end && removable(chars[begin])) ++begin;
    while (trailing && end > begin && removable(chars[end - 1])) --end;
    if (begin == end) return Value::ofString("");
    size_t from = static_cast<size_t>(chars[begin].data() - text.data());
    size_t to = static_cast<size_t>(chars[end - 1].data() - text.data()) + chars[end - 1].size();
    return Value::ofString(std::string(text.substr(from, to - from)));
}

} // namespace

Value lower(const CallFrame& call) {
    std::string s = call.value(0).s;
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Value::ofString(std::move(s));
}

Value upper(const CallFrame& call) {
    std::string s = call.value(0).s;
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Value::ofString(std::move(s));
}

Value concat(const CallFrame& call) {
    std::string result;
    for (size_t i = 0; i < call.size(); ++i) result += call.value(i).s;
    return Value::ofString(std::move(result));
}

Value charLength(const CallFrame& call) {
    int64_t length = 0;
    for (unsigned char c : call.value(0).s) length += !isContinuation(c);
    return Value::ofInt(length);
}

Value trim(const CallFrame& call) {
    // trim(s) removes spaces at both ends; trim(side, characters, s) is TRIM(side characters FROM s).
    if (call.size() == 1) return trimCharacters(call.value(0).s, " ", true, true);
    const std::string& side = call.value(0).s;
    return trimCharacters(call.value(2).s, call.value(1).s, side != "TRAILING", side != "LEADING");
}

Value trimLeading(const CallFrame& call) { return trimCharacters(call.value(0).s, " ", true, false); }
Value trimTrailing(const CallFrame& call) { return trimCharacters(call.value(0).s, " ", false, true); }

Value substring(const CallFrame& call) {
    // Flink's SUBSTRING: position 1 is the first character, 0 counts as 1, a negative position counts from the end;
    // a negative length is NULL.
    const std::string& text = call.value(0).s;
    int64_t position = call.value(1).i;
    int64_t length = INT64_MAX;
    if (call.size() > 2) {
        length = call.value(2).i;
        if (length < 0) return Value::null();
    }
    std::vector<size_t> offsets = characterOffsets(text);
    int64_t count = static_cast<int64_t>(offsets.size()) - 1;
    int64_t start = 0;
    if (position > 0) {
        start = position - 1;
        if (start >= count) return Value::ofString("");
    } else if (position < 0) {
        start = count + position;
        if (start < 0) return Value::ofString("");
    }
    int64_t end = count - start < length ? count : start + length;
    size_t from = offsets[static_cast<size_t>(start)], to = offsets[static_cast<size_t>(end)];
    return Value::ofString(text.substr(from, to - from));
}

Value position(const CallFrame& call) {
    // POSITION(needle IN haystack): the 1-based character position of the first occurrence, 0 when there is none.
    const std::string& needle = call.value(0).s;
    const std::string& haystack = call.value(1).s;
    size_t at = haystack.find(needle);
    if (at == std::string::npos) return Value::ofInt(0);
    int64_t characterIndex = 0;
    for (size_t i = 0; i < at; ++i) characterIndex += !isContinuation(static_cast<unsigned char>(haystack[i]));
    return Value::ofInt(characterIndex + 1);
}

Value regexpMatches(const CallFrame& call) {
    // REGEXP(s, pattern): TRUE when any substring of s matches (Java's Matcher.find()).
    const std::regex* pattern = compiledPattern(call.value(1).s);
    if (!pattern) return Value::null();
    return Value::ofBool(std::regex_search(call.value(0).s, *pattern));
}

Value regexpExtract(const CallFrame& call) {
    // REGEXP_EXTRACT(s, pattern [, group]): the group (default 0, the whole match) of the first match; NULL when
    // nothing matches, the group does not exist or did not take part in the match.
    const std::regex* pattern = compiledPattern(call.value(1).s);
    if (!pattern) return Value::null();
    int64_t group = call.size() > 2 ? call.value(2).i : 0;
    std::smatch match;
    const std::string& text = call.value(0).s;
    if (!std::regex_search(text, match, *pattern)) return Value::null();
    if (group < 0 || group >= static_cast<int64_t>(match.size()) || !match[static_cast<size_t>(group)].matched) return Value::null();
    return Value::ofString(match[static_cast<size_t>(group)].str());
}

Value splitIndex(const CallFrame& call) {
    // SPLIT_INDEX(s, separator, index): the index-th (from 0) piece of s split at every occurrence of separator
    // (adjacent separators give empty pieces); NULL for a negative index or one past the last piece, and for an
    // empty s. An empty separator splits at whitespace, as Flink's (Apache Commons') splitter does.
    const std::string& text = call.value(0).s;
    const std::string& separator = call.value(1).s;
    int64_t index = call.value(2).i;
    if (index < 0 || text.empty()) return Value::null();
    std::vector<std::string> pieces;
    if (separator.empty()) {
        std::string piece;
        for (char c : text) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                pieces.push_back(piece);
                piece.clear();
            } else {
                piece += c;
            }
        }
        pieces.push_back(piece);
    } else {
        size_t from = 0;
        while (true) {
            size_t at = text.find(separator, from);
            if (at == std::string::npos) {
                pieces.push_back(text.substr(from));
                break;
            }
            pieces.push_back(text.substr(from, at - from));
            from = at + separator.size();
        }
    }
    if (index >= static_cast<int64_t>(pieces.size())) return Value::null();
    return Value::ofString(pieces[static_cast<size_t>(index)]);
}

namespace {

bool isVarchar(plan::TypeId type) { return type == plan::VARCHAR; }

/// A constant pattern is compiled when the query is compiled, so a typo is an error there, not NULLs at run time.
bool checkConstantPattern(CallTyping& typing, size_t i) {
    auto pattern = constantString(typing, i);
    if (!pattern || compiledPattern(*pattern)) return true;
    try {
        std::regex check(*pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
        typing.error = fmt::format("invalid regular expression '{}': {}", *pattern, error.what());
        typing.errorArgument = i;
        typing.wrongKind = true;
        return false;
    }
    return true;
}

} // namespace

bool typeVarcharToVarchar(CallTyping& typing) {
    for (size_t i = 0; i < typing.argumentTypes.size(); ++i)
        if (!requireArgument(typing, i, isVarchar, plan::VARCHAR, "VARCHAR")) return false;
    typing.result = plan::VARCHAR;
    return true;
}

bool typeConcat(CallTyping& typing) { return typeVarcharToVarchar(typing); }

bool typeCharLength(CallTyping& typing) {
    if (!requireArgument(typing, 0, isVarchar, plan::VARCHAR, "VARCHAR")) return false;
    typing.result = plan::INT;
    return true;
}

bool typeTrim(CallTyping& typing) {
    if (!typeVarcharToVarchar(typing)) return false;
    if (typing.argumentTypes.size() == 3) {
        auto side = constantString(typing, 0);
        if (!side || (*side != "BOTH" && *side != "LEADING" && *side != "TRAILING")) {
            typing.error = "TRIM's side must be BOTH, LEADING or TRAILING";
            typing.errorArgument = 0;
            typing.wrongKind = true;
            return false;
        }
    }
    return true;
}

bool typeSubstring(CallTyping& typing) {
    if (!requireArgument(typing, 0, isVarchar, plan::VARCHAR, "VARCHAR")) return false;
    for (size_t i = 1; i < typing.argumentTypes.size(); ++i)
        if (!requireArgument(typing, i, isIntegerType, plan::BIGINT, "integer")) return false;
    typing.result = plan::VARCHAR;
    return true;
}

bool typePosition(CallTyping& typing) {
    if (!typeVarcharToVarchar(typing)) return false;
    typing.result = plan::INT;
    return true;
}

bool typeRegexp(CallTyping& typing) {
    if (!typeVarcharToVarchar(typing) || !checkConstantPattern(typing, 1)) return false;
    typing.result = plan::BOOLEAN;
    return true;
}

bool typeRegexpExtract(CallTyping& typing) {
    for (size_t i = 0; i < 2; ++i)
        if (!requireArgument(typing, i, isVarchar, plan::VARCHAR, "VARCHAR")) return false;
    if (typing.argumentTypes.size() > 2 && !requireArgument(typing, 2, isIntegerType, plan::BIGINT, "integer")) return false;
    if (!checkConstantPattern(typing, 1)) return false;
    typing.result = plan::VARCHAR;
    return true;
}

bool typeSplitIndex(CallTyping& typing) {
    for (size_t i = 0; i < 2; ++i)
        if (!requireArgument(typing, i, isVarchar, plan::VARCHAR, "VARCHAR")) return false;
    if (!requireArgument(typing, 2, isIntegerType, plan::BIGINT, "integer")) return false;
    typing.result = plan::VARCHAR;
    return true;
}

} // namespace pipec::runtime::functions
