#pragma once

// The implementations and type rules the function catalog (function_catalog.cpp) points at, one family per file:
// operator_functions.cpp, numeric_functions.cpp, string_functions.cpp, time_functions.cpp. Only the catalog
// includes this header; everything else reaches a function through its catalog entry.

#include "runtime/core/function_catalog.h"

#include <optional>
#include <string_view>

namespace pipec::runtime::functions {

// ---- operators and conditional functions (operator_functions.cpp) ----
enum class ArithmeticOp { Add, Subtract, Multiply, Divide, Modulo };
template <ArithmeticOp op> Value arithmetic(const CallFrame& call);
Value negate(const CallFrame& call);
enum class ComparisonOp { Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual };
template <ComparisonOp op> Value comparison(const CallFrame& call);
Value logicalAnd(const CallFrame& call);
Value logicalOr(const CallFrame& call);
Value logicalNot(const CallFrame& call);
Value isNull(const CallFrame& call);
Value isNotNull(const CallFrame& call);
Value isTrue(const CallFrame& call);
Value isFalse(const CallFrame& call);
Value in(const CallFrame& call);
Value notIn(const CallFrame& call);
Value between(const CallFrame& call);
Value notBetween(const CallFrame& call);
Value like(const CallFrame& call);
Value notLike(const CallFrame& call);
Value caseWhen(const CallFrame& call);
Value cast(const CallFrame& call);
Value coalesce(const CallFrame& call);
Value ifThenElse(const CallFrame& call);
Value nullIf(const CallFrame& call);
bool typeCoalesce(CallTyping& typing);
bool typeIf(CallTyping& typing);
bool typeNullIf(CallTyping& typing);
bool typeIntegerModulo(CallTyping& typing);

/// Orders two non-NULL values of one type (-1, 0, 1).
int compareValues(const Value& a, const Value& b, plan::TypeId type);

// ---- numeric functions (numeric_functions.cpp) ----
Value absolute(const CallFrame& call);
Value round(const CallFrame& call);
Value floor(const CallFrame& call);
Value ceil(const CallFrame& call);
Value power(const CallFrame& call);
Value squareRoot(const CallFrame& call);
bool typeSameNumeric(CallTyping& typing);
bool typeRound(CallTyping& typing);
bool typeDoubleArguments(CallTyping& typing);

// ---- string functions (string_functions.cpp) ----
Value lower(const CallFrame& call);
Value upper(const CallFrame& call);
Value concat(const CallFrame& call);
Value charLength(const CallFrame& call);
Value trim(const CallFrame& call);
Value trimLeading(const CallFrame& call);
Value trimTrailing(const CallFrame& call);
Value substring(const CallFrame& call);
Value position(const CallFrame& call);
Value regexpMatches(const CallFrame& call);
Value regexpExtract(const CallFrame& call);
Value splitIndex(const CallFrame& call);
bool typeVarcharToVarchar(CallTyping& typing);
bool typeConcat(CallTyping& typing);
bool typeCharLength(CallTyping& typing);
bool typeTrim(CallTyping& typing);
bool typeSubstring(CallTyping& typing);
bool typePosition(CallTyping& typing);
bool typeRegexp(CallTyping& typing);
bool typeRegexpExtract(CallTyping& typing);
bool typeSplitIndex(CallTyping& typing);

// ---- time functions (time_functions.cpp); TIMESTAMP is epoch milliseconds, read in UTC ----
Value extract(const CallFrame& call);
Value year(const CallFrame& call);
Value quarter(const CallFrame& call);
Value month(const CallFrame& call);
Value week(const CallFrame& call);
Value dayOfMonth(const CallFrame& call);
Value dayOfYear(const CallFrame& call);
Value dayOfWeek(const CallFrame& call);
Value hour(const CallFrame& call);
Value minute(const CallFrame& call);
Value second(const CallFrame& call);
Value floorTime(const CallFrame& call);
Value ceilTime(const CallFrame& call);
Value dateFormat(const CallFrame& call);
Value timestampAdd(const CallFrame& call);
Value timestampDiff(const CallFrame& call);
Value toTimestampLtz(const CallFrame& call);
Value toTimestamp(const CallFrame& call);
Value unixTimestamp(const CallFrame& call);
Value unixTimestampNow(const CallFrame& call);
bool typeExtract(CallTyping& typing);
bool typeTimestampPart(CallTyping& typing);
bool typeFloorCeilTime(CallTyping& typing);
bool typeDateFormat(CallTyping& typing);
bool typeTimestampAdd(CallTyping& typing);
bool typeTimestampDiff(CallTyping& typing);
bool typeToTimestampLtz(CallTyping& typing);
bool typeToTimestamp(CallTyping& typing);
bool typeUnixTimestamp(CallTyping& typing);
bool typeUnixTimestampNow(CallTyping& typing);

// ---- helpers the families share ----
/// Requires argument `i` to be of a type `accept` takes (TYPE_NULL always fits) and casts it to `target`.
/// The message names the function as `typing.name`: "ROUND expects integer arguments, found VARCHAR".
bool requireArgument(CallTyping& typing, size_t i, bool (*accept)(plan::TypeId), plan::TypeId target, std::string_view what);
/// `YYYY-MM-DD[( |T)HH:MM:SS[.fff]]` as UTC epoch milliseconds (CAST to TIMESTAMP, TO_TIMESTAMP without a format).
std::optional<int64_t> parseTimestampText(std::string_view text);
/// The string value of a literal argument, or nullopt when the argument is not a non-NULL string literal.
std::optional<std::string> constantString(const CallTyping& typing, size_t i);

} // namespace pipec::runtime::functions
