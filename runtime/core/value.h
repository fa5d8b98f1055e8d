#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipec::runtime {

/// One SQL value. Its type is known statically from the plan, so the value does not carry it.
/// BOOLEAN (0/1), INT, BIGINT, TIMESTAMP (epoch millis) and INTERVAL (millis) live in `i`;
/// FLOAT and DOUBLE in `d`; VARCHAR and BYTES in `s`.
struct Value {
    bool isNull = true;
    int64_t i = 0;
    double d = 0;
    std::string s;

    static Value null() { return Value{}; }
    static Value ofInt(int64_t v) { Value x; x.isNull = false; x.i = v; return x; }
    static Value ofBool(bool v) { return ofInt(v ? 1 : 0); }
    static Value ofDouble(double v) { Value x; x.isNull = false; x.d = v; return x; }
    static Value ofString(std::string v) { Value x; x.isNull = false; x.s = std::move(v); return x; }
};

/// A row flowing between operators; column meanings come from the plan.
/// The source row has `_time` (TIMESTAMP) at index 0, then the plan's source columns in order.
using Row = std::vector<Value>;

} // namespace pipec::runtime
