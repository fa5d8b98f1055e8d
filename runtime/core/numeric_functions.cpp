// Numeric functions: ABS, ROUND, FLOOR, CEIL, POWER, SQRT.
#include "runtime/core/function_implementations.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace pipec::runtime::functions {

namespace {

int64_t wrap(plan::TypeId type, int64_t value) {
    return type == plan::INT ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value))) : value;
}

/// Flink rounds a DOUBLE as `BigDecimal.valueOf(x).setScale(places, HALF_UP)`: on the shortest decimal that reads
/// back as x (so ROUND(2.675, 2) is 2.68, although the binary value is a little below 2.675), half away from zero.
template <typename Floating>
double roundDecimal(Floating x, int64_t places) {
    if (!std::isfinite(x)) return static_cast<double>(x);
    char buffer[64];
    auto [end, status] = std::to_chars(buffer, buffer + sizeof buffer, x, std::chars_format::scientific);
    if (status != std::errc()) return static_cast<double>(x);
    std::string text(buffer, end);
    bool negative = text[0] == '-';
    size_t exponentAt = text.find('e');
    int64_t exponent = std::strtoll(text.c_str() + exponentAt + 1, nullptr, 10);
    std::string digits;
    for (size_t i = negative ? 1 : 0; i < exponentAt; ++i)
        if (text[i] != '.') digits += text[i];
    // Digit k weighs 10^(exponent - k); the ones kept weigh at least 10^-places.
    if (places > 400 || exponent + places + 1 >= static_cast<int64_t>(digits.size())) return static_cast<double>(x);
    int64_t keep = exponent + places + 1;
    if (keep < 0) return 0.0;
    bool roundUp = digits[static_cast<size_t>(keep)] >= '5';
    std::string kept = digits.substr(0, static_cast<size_t>(keep));
    if (kept.empty()) kept = "0";
    if (roundUp) {
        size_t i = kept.size();
        while (i > 0 && kept[i - 1] == '9') kept[--i] = '0';
        if (i == 0) kept.insert(kept.begin(), '1');
        else ++kept[i - 1];
    }
    std::string rounded = fmt::format("{}{}e{}", negative ? "-" : "", kept, -places);
    double result = std::strtod(rounded.c_str(), nullptr);
    return result == 0 ? 0.0 : result;
}

/// ROUND of an integer to `places` < 0 digits: half away from zero, as BigDecimal's HALF_UP.
int64_t roundInteger(int64_t value, int64_t places) {
    if (places >= 0) return value;
    if (places < -18) return 0;
    int64_t unit = 1;
    for (int64_t i = 0; i < -places; ++i) unit *= 10;
    int64_t remainder = value % unit;
    int64_t truncated = value - remainder;
    uint64_t magnitude = remainder < 0 ? 0 - static_cast<uint64_t>(remainder) : static_cast<uint64_t>(remainder);
    if (magnitude * 2 >= static_cast<uint64_t>(unit))
        truncated = static_cast<int64_t>(static_cast<uint64_t>(truncated) + (value < 0 ? 0 - static_cast<uint64_t>(unit) : static_cast<uint64_t>(unit)));
    return truncated;
}

} // namespace

Value absolute(const CallFrame& call) {
    const Value& a = call.value(0);
    if (isFloatingType(call.type())) return Value::ofDouble(std::fabs(a.d));
    return Value::ofInt(wrap(call.type(), a.i < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(a.i)) : a.i));
}

Value round(const CallFrame& call) {
    const Value& a = call.value(0);
    int64_t places = call.size() > 1 ? call.value(1).i : 0;
    if (call.type() == plan::FLOAT) return Value::ofDouble(static_cast<float>(roundDecimal(static_cast<float>(a.d), places)));
    if (call.type() == plan::DOUBLE) return Value::ofDouble(roundDecimal(a.d, places));
    return Value::ofInt(wrap(call.type(), roundInteger(a.i, places)));
}

Value floor(const CallFrame& call) {
    const Value& a = call.value(0);
    return isFloatingType(call.type()) ? Value::ofDouble(std::floor(a.d)) : a;
}

Value ceil(const CallFrame& call) {
    const Value& a = call.value(0);
    return isFloatingType(call.type()) ? Value::ofDouble(std::ceil(a.d)) : a;
}

Value power(const CallFrame& call) {
    double result = std::pow(call.value(0).d, call.value(1).d);
    return std::isnan(result) ? Value::null() : Value::ofDouble(result);
}

Value squareRoot(const CallFrame& call) {
    double a = call.value(0).d;
    return a < 0 ? Value::null() : Value::ofDouble(std::sqrt(a));
}

bool typeSameNumeric(CallTyping& typing) {
    if (!requireArgument(typing, 0, isNumericType, plan::TYPE_NULL, "numeric")) return false;
    typing.result = typing.argumentTypes[0] == plan::TYPE_NULL ? plan::INT : typing.argumentTypes[0];
    typing.coerceTo[0] = typing.result;
    return true;
}

bool typeRound(CallTyping& typing) {
    if (!requireArgument(typing, 0, isNumericType, plan::TYPE_NULL, "numeric")) return false;
    if (typing.argumentTypes.size() > 1 && !requireArgument(typing, 1, isIntegerType, plan::INT, "integer"))
        return false;
    typing.result = typing.argumentTypes[0] == plan::TYPE_NULL ? plan::INT : typing.argumentTypes[0];
    typing.coerceTo[0] = typing.result;
    return true;
}

bool typeDoubleArguments(CallTyping& typing) {
    for (size_t i = 0; i < typing.argumentTypes.size(); ++i)
        if (!requireArgument(typing, i, isNumericType, plan::DOUBLE, "numeric")) return false;
    typing.result = plan::DOUBLE;
    return true;
}

} // namespace pipec::runtime::functions
