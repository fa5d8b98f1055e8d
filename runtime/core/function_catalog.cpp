#include "runtime/core/function_catalog.h"

#include "runtime/core/function_implementations.h"

#include <fmt/format.h>

#include <algorithm>

namespace pipec::runtime {

namespace {

using namespace functions;
using enum NullHandling;

constexpr size_t kMany = 64;

/// An operator: its own syntax (typed by the binder), printed infix when `infix` is set.
FunctionDefinition op(std::string_view planName, std::string_view infix, size_t minimum, size_t maximum, Implementation implementation,
                      NullHandling nulls, std::string_view flink) {
    return FunctionDefinition{planName, {}, CallSyntax::Operator, minimum, maximum, nullptr, implementation, nulls, flink, true, infix, -1,
                              flink};
}

/// A function called by name.
FunctionDefinition fn(std::string_view planName, std::vector<std::string_view> sqlNames, size_t minimum, size_t maximum, TypeRule rule,
                      Implementation implementation, NullHandling nulls, std::string_view signature, CallSyntax syntax = CallSyntax::Arguments,
                      int unitArgument = -1) {
    std::string_view flink = sqlNames.front();
    return FunctionDefinition{planName, std::move(sqlNames), syntax, minimum, maximum, rule, implementation, nulls, flink, true, {}, unitArgument,
                              signature};
}

std::vector<FunctionDefinition> buildCatalog() {
    std::vector<FunctionDefinition> catalog = {
        // ---- operators and predicates (typed by the binder's rules for their syntax) ----
        op("add", "+", 2, 2, arithmetic<ArithmeticOp::Add>, Strict, "+"),
        op("subtract", "-", 2, 2, arithmetic<ArithmeticOp::Subtract>, Strict, "-"),
        op("multiply", "*", 2, 2, arithmetic<ArithmeticOp::Multiply>, Strict, "*"),
        op("divide", "/", 2, 2, arithmetic<ArithmeticOp::Divide>, StrictMayBeNull, "/"),
        op("modulo", "%", 2, 2, arithmetic<ArithmeticOp::Modulo>, StrictMayBeNull, "%"),
        op("negate", "", 1, 1, negate, Strict, "-"),
        op("equal", "=", 2, 2, comparison<ComparisonOp::Equal>, Strict, "="),
        op("not_equal", "<>", 2, 2, comparison<ComparisonOp::NotEqual>, Strict, "<>"),
        op("less", "<", 2, 2, comparison<ComparisonOp::Less>, Strict, "<"),
        op("less_equal", "<=", 2, 2, comparison<ComparisonOp::LessEqual>, Strict, "<="),
        op("greater", ">", 2, 2, comparison<ComparisonOp::Greater>, Strict, ">"),
        op("greater_equal", ">=", 2, 2, comparison<ComparisonOp::GreaterEqual>, Strict, ">="),
        op("and", "AND", 2, kMany, logicalAnd, Custom, "AND"),
        op("or", "OR", 2, kMany, logicalOr, Custom, "OR"),
        op("not", "", 1, 1, logicalNot, Strict, "NOT"),
        op("is_null", "", 1, 1, isNull, Custom, "IS NULL"),
        op("is_not_null", "", 1, 1, isNotNull, Custom, "IS NOT NULL"),
        op("is_true", "", 1, 1, isTrue, Custom, "IS TRUE"),
        op("is_false", "", 1, 1, isFalse, Custom, "IS FALSE"),
        op("in", "", 2, kMany, in, Custom, "IN"),
        op("not_in", "", 2, kMany, notIn, Custom, "NOT IN"),
        op("between", "", 3, 3, between, Custom, "BETWEEN"),
        op("not_between", "", 3, 3, notBetween, Custom, "NOT BETWEEN"),
        op("like", "", 2, 3, like, Strict, "LIKE"),
        op("not_like", "", 2, 3, notLike, Strict, "NOT LIKE"),
        op("case", "", 1, kMany, caseWhen, Custom, "CASE"),
        op("cast", "", 1, 1, cast, StrictMayBeNull, "CAST"),

        // ---- conditional functions ----
        fn("coalesce", {"COALESCE"}, 1, kMany, typeCoalesce, coalesce, Custom, "COALESCE(a, b, …)"),
        fn("if", {"IF"}, 3, 3, typeIf, ifThenElse, Custom, "IF(condition, a, b)"),
        fn("nullif", {"NULLIF"}, 2, 2, typeNullIf, nullIf, Custom, "NULLIF(a, b)"),

        // ---- numeric functions ----
        fn("abs", {"ABS"}, 1, 1, typeSameNumeric, absolute, Strict, "ABS(x)"),
        fn("round", {"ROUND"}, 1, 2, typeRound, round, Strict, "ROUND(x [, places])"),
        fn("floor", {"FLOOR"}, 1, 1, typeSameNumeric, floor, Strict, "FLOOR(x)"),
        fn("ceil", {"CEIL", "CEILING"}, 1, 1, typeSameNumeric, ceil, Strict, "CEIL(x)"),
        fn("modulo", {"MOD"}, 2, 2, typeIntegerModulo, arithmetic<ArithmeticOp::Modulo>, StrictMayBeNull, "MOD(a, b)"),
        fn("power", {"POWER"}, 2, 2, typeDoubleArguments, power, StrictMayBeNull, "POWER(x, y)"),
        fn("sqrt", {"SQRT"}, 1, 1, typeDoubleArguments, squareRoot, StrictMayBeNull, "SQRT(x)"),

        // ---- string functions ----
        fn("lower", {"LOWER"}, 1, 1, typeVarcharToVarchar, lower, Strict, "LOWER(s)"),
        fn("upper", {"UPPER"}, 1, 1, typeVarcharToVarchar, upper, Strict, "UPPER(s)"),
        fn("concat", {"CONCAT"}, 1, kMany, typeConcat, concat, Strict, "CONCAT(s, …)"),
        fn("char_length", {"CHAR_LENGTH", "CHARACTER_LENGTH"}, 1, 1, typeCharLength, charLength, Strict, "CHAR_LENGTH(s)"),
        fn("trim", {"TRIM"}, 1, 1, typeTrim, trim, Strict, "TRIM(s)"),
        fn("trim", {"TRIM"}, 3, 3, typeTrim, trim, Strict, "TRIM([BOTH | LEADING | TRAILING] [characters] FROM s)", CallSyntax::From),
        fn("ltrim", {"LTRIM"}, 1, 1, typeVarcharToVarchar, trimLeading, Strict, "LTRIM(s)"),
        fn("rtrim", {"RTRIM"}, 1, 1, typeVarcharToVarchar, trimTrailing, Strict, "RTRIM(s)"),
        fn("substring", {"SUBSTRING", "SUBSTR"}, 2, 3, typeSubstring, substring, StrictMayBeNull, "SUBSTRING(s, start [, length])"),
        fn("substring", {"SUBSTRING"}, 2, 3, typeSubstring, substring, StrictMayBeNull, "SUBSTRING(s FROM start [FOR length])",
           CallSyntax::From),
        fn("position", {"POSITION"}, 2, 2, typePosition, position, Strict, "POSITION(needle IN s)", CallSyntax::In),
        fn("regexp", {"REGEXP"}, 2, 2, typeRegexp, regexpMatches, StrictMayBeNull, "REGEXP(s, pattern)"),
        fn("regexp_extract", {"REGEXP_EXTRACT"}, 2, 3, typeRegexpExtract, regexpExtract, StrictMayBeNull, "REGEXP_EXTRACT(s, pattern [, group])"),
        fn("split_index", {"SPLIT_INDEX"}, 3, 3, typeSplitIndex, splitIndex, StrictMayBeNull, "SPLIT_INDEX(s, separator, index)"),

        // ---- time functions (UTC) ----
        fn("extract", {"EXTRACT"}, 2, 2, typeExtract, extract, Strict, "EXTRACT(unit FROM ts)", CallSyntax::From, 0),
        fn("year", {"YEAR"}, 1, 1, typeTimestampPart, year, Strict, "YEAR(ts)"),
        fn("quarter", {"QUARTER"}, 1, 1, typeTimestampPart, quarter, Strict, "QUARTER(ts)"),
        fn("month", {"MONTH"}, 1, 1, typeTimestampPart, month, Strict, "MONTH(ts)"),
        fn("week", {"WEEK"}, 1, 1, typeTimestampPart, week, Strict, "WEEK(ts)"),
        fn("dayofmonth", {"DAYOFMONTH"}, 1, 1, typeTimestampPart, dayOfMonth, Strict, "DAYOFMONTH(ts)"),
        fn("dayofyear", {"DAYOFYEAR"}, 1, 1, typeTimestampPart, dayOfYear, Strict, "DAYOFYEAR(ts)"),
        fn("dayofweek", {"DAYOFWEEK"}, 1, 1, typeTimestampPart, dayOfWeek, Strict, "DAYOFWEEK(ts)"),
        fn("hour", {"HOUR"}, 1, 1, typeTimestampPart, hour, Strict, "HOUR(ts)"),
        fn("minute", {"MINUTE"}, 1, 1, typeTimestampPart, minute, Strict, "MINUTE(ts)"),
        fn("second", {"SECOND"}, 1, 1, typeTimestampPart, second, Strict, "SECOND(ts)"),
        fn("floor_time", {"FLOOR"}, 2, 2, typeFloorCeilTime, floorTime, Strict, "FLOOR(ts TO unit)", CallSyntax::To, 1),
        fn("ceil_time", {"CEIL", "CEILING"}, 2, 2, typeFloorCeilTime, ceilTime, Strict, "CEIL(ts TO unit)", CallSyntax::To, 1),
        fn("date_format", {"DATE_FORMAT"}, 2, 2, typeDateFormat, dateFormat, StrictMayBeNull, "DATE_FORMAT(ts, pattern)"),
        fn("timestampadd", {"TIMESTAMPADD"}, 3, 3, typeTimestampAdd, timestampAdd, StrictMayBeNull, "TIMESTAMPADD(unit, n, ts)",
           CallSyntax::Arguments, 0),
        fn("timestampdiff", {"TIMESTAMPDIFF"}, 3, 3, typeTimestampDiff, timestampDiff, Strict, "TIMESTAMPDIFF(unit, from, to)",
           CallSyntax::Arguments, 0),
        fn("to_timestamp_ltz", {"TO_TIMESTAMP_LTZ"}, 2, 2, typeToTimestampLtz, toTimestampLtz, StrictMayBeNull, "TO_TIMESTAMP_LTZ(n, 0 | 3)"),
        fn("to_timestamp", {"TO_TIMESTAMP"}, 1, 2, typeToTimestamp, toTimestamp, StrictMayBeNull, "TO_TIMESTAMP(s [, pattern])"),
        fn("unix_timestamp", {"UNIX_TIMESTAMP"}, 1, 2, typeUnixTimestamp, unixTimestamp, Strict, "UNIX_TIMESTAMP(s [, pattern])"),
        fn("unix_timestamp_now", {"UNIX_TIMESTAMP"}, 0, 0, typeUnixTimestampNow, unixTimestampNow, Strict, "UNIX_TIMESTAMP()"),
    };
    // UNIX_TIMESTAMP() reads the wall clock: a replay or a restart would compute other features.
    catalog.back().deterministic = false;
    return catalog;
}

} // namespace

const std::vector<FunctionDefinition>& functionCatalog() {
    static const std::vector<FunctionDefinition> kCatalog = buildCatalog();
    return kCatalog;
}

const FunctionDefinition* findPlanFunction(std::string_view planName) {
    for (const auto& function : functionCatalog())
        if (function.planName == planName) return &function;
    return nullptr;
}

const FunctionDefinition* findPlanFunction(std::string_view planName, size_t argumentCount) {
    for (const auto& function : functionCatalog())
        if (function.planName == planName && argumentCount >= function.minArguments && argumentCount <= function.maxArguments) return &function;
    return nullptr;
}

const FunctionDefinition* findSqlFunction(std::string_view sqlName, CallSyntax syntax) {
    for (const auto& function : functionCatalog()) {
        if (function.syntax != syntax) continue;
        for (auto name : function.sqlNames)
            if (name == sqlName) return &function;
    }
    return nullptr;
}

std::vector<std::string> sqlFunctionNames() {
    std::vector<std::string> names;
    for (const auto& function : functionCatalog())
        for (auto name : function.sqlNames)
            if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
    return names;
}

bool isNumericType(plan::TypeId type) {
    return type == plan::INT || type == plan::BIGINT || type == plan::FLOAT || type == plan::DOUBLE;
}
bool isIntegerType(plan::TypeId type) { return type == plan::INT || type == plan::BIGINT; }
bool isFloatingType(plan::TypeId type) { return type == plan::FLOAT || type == plan::DOUBLE; }

plan::TypeId widerNumericType(plan::TypeId a, plan::TypeId b) {
    auto rank = [](plan::TypeId type) {
        switch (type) {
        case plan::INT: return 1;
        case plan::BIGINT: return 2;
        case plan::FLOAT: return 3;
        case plan::DOUBLE: return 4;
        default: return 0;
        }
    };
    return rank(a) >= rank(b) ? a : b;
}

bool commonType(plan::TypeId a, plan::TypeId b, plan::TypeId& result) {
    if (a == b || b == plan::TYPE_NULL) result = a;
    else if (a == plan::TYPE_NULL) result = b;
    else if (isNumericType(a) && isNumericType(b)) result = widerNumericType(a, b);
    else return false;
    return true;
}

std::string sqlTypeName(plan::TypeId type) {
    switch (type) {
    case plan::TYPE_NULL: return "NULL";
    case plan::BOOLEAN: return "BOOLEAN";
    case plan::INT: return "INT";
    case plan::BIGINT: return "BIGINT";
    case plan::FLOAT: return "FLOAT";
    case plan::DOUBLE: return "DOUBLE";
    case plan::VARCHAR: return "VARCHAR";
    case plan::BYTES: return "BYTES";
    case plan::TIMESTAMP: return "TIMESTAMP(3)";
    case plan::INTERVAL: return "INTERVAL";
    default: break;
    }
    return "UNKNOWN(" + std::to_string(static_cast<int>(type)) + ")";
}

namespace functions {

bool requireArgument(CallTyping& typing, size_t i, bool (*accept)(plan::TypeId), plan::TypeId target, std::string_view what) {
    plan::TypeId type = typing.argumentTypes[i];
    if (type != plan::TYPE_NULL && !accept(type)) {
        typing.error = fmt::format("{} expects {} arguments, found {}", typing.name, what, sqlTypeName(type));
        typing.errorArgument = i;
        return false;
    }
    if (target != plan::TYPE_NULL) typing.coerceTo[i] = target;
    return true;
}

std::optional<std::string> constantString(const CallTyping& typing, size_t i) {
    const plan::Literal* literal = i < typing.constants.size() ? typing.constants[i] : nullptr;
    if (!literal || literal->is_null() || literal->value_case() != plan::Literal::kStringValue) return std::nullopt;
    return literal->string_value();
}

} // namespace functions

} // namespace pipec::runtime
