#include "runtime/state/value_encoding.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace pipec::runtime {

namespace {
bool isText(plan::TypeId type) { return type == plan::VARCHAR || type == plan::BYTES; }
bool isFloating(plan::TypeId type) { return type == plan::FLOAT || type == plan::DOUBLE; }
} // namespace

void encodeValue(const Value& value, plan::TypeId type, std::string& out) {
    if (value.isNull) {
        out.push_back('\0');
        return;
    }
    out.push_back('\1');
    if (isText(type)) {
        out.append(value.s);
        out.push_back('\0');  // keeps multi-column keys unambiguous only with the length below
        uint64_t size = value.s.size();
        out.append(reinterpret_cast<const char*>(&size), sizeof size);
    } else if (isFloating(type)) {
        double d = value.d == 0 ? 0.0 : value.d;  // -0.0 and 0.0 are the same value
        if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
        out.append(reinterpret_cast<const char*>(&d), sizeof d);
    } else {
        out.append(reinterpret_cast<const char*>(&value.i), sizeof value.i);
    }
}

Value decodeValue(std::string_view bytes, plan::TypeId type) {
    if (bytes.empty() || bytes[0] == '\0') return Value::null();
    bytes.remove_prefix(1);
    if (isText(type)) return Value::ofString(std::string(bytes.substr(0, bytes.size() - 1 - sizeof(uint64_t))));
    if (isFloating(type)) {
        double d;
        std::memcpy(&d, bytes.data(), sizeof d);
        return Value::ofDouble(d);
    }
    int64_t i;
    std::memcpy(&i, bytes.data(), sizeof i);
    return Value::ofInt(i);
}

} // namespace pipec::runtime
