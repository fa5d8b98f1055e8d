// Time functions. A TIMESTAMP is epoch milliseconds, and every calendar field is read in UTC: pipec's session time
// zone is UTC (Flink's `table.local-time-zone` set to 'UTC'), so TIMESTAMP and TIMESTAMP_LTZ values print alike.
#include "runtime/core/function_implementations.h"

#include "runtime/core/civil_time.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace pipec::runtime::functions {

namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

enum class TimeUnit { Millisecond, Second, Minute, Hour, Day, Week, Month, Quarter, Year, DayOfWeek, DayOfYear, Unknown };

struct UnitName {
    const char* name;
    TimeUnit unit;
};

constexpr UnitName kUnitNames[] = {
    {"MILLISECOND", TimeUnit::Millisecond}, {"SECOND", TimeUnit::Second}, {"MINUTE", TimeUnit::Minute},
    {"HOUR", TimeUnit::Hour},   {"DAY", TimeUnit::Day},       {"WEEK", TimeUnit::Week},
    {"MONTH", TimeUnit::Month}, {"QUARTER", TimeUnit::Quarter}, {"YEAR", TimeUnit::Year},
    {"DOW", TimeUnit::DayOfWeek}, {"DOY", TimeUnit::DayOfYear}};

TimeUnit unitNamed(std::string_view name) {
    for (const auto& entry : kUnitNames)
        if (name == entry.name) return entry.unit;
    return TimeUnit::Unknown;
}

int64_t fixedUnitMillis(TimeUnit unit) {
    switch (unit) {
    case TimeUnit::Millisecond: return 1;
    case TimeUnit::Second: return 1000;
    case TimeUnit::Minute: return 60'000;
    case TimeUnit::Hour: return 3'600'000;
    case TimeUnit::Day: return kMillisPerDay;
    case TimeUnit::Week: return 7 * kMillisPerDay;
    default: return 0;
    }
}

int64_t floorDivide(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t floorModulo(int64_t a, int64_t b) { return a - floorDivide(a, b) * b; }

int64_t daysOf(int64_t millis) { return floorDivide(millis, kMillisPerDay); }

unsigned daysInMonth(int64_t year, unsigned month) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

/// Adds calendar months; the day is clamped to the last day of the target month (Jan 31 + 1 month = Feb 28/29).
int64_t addMonths(int64_t millis, int64_t months) {
    CivilTime t = civilFromMillis(millis);
    int64_t index = t.year * 12 + (t.month - 1) + months;
    int64_t year = floorDivide(index, 12);
    unsigned month = static_cast<unsigned>(floorModulo(index, 12)) + 1;
    unsigned day = std::min(t.day, daysInMonth(year, month));
    return daysFromCivil(year, month, day) * kMillisPerDay + floorModulo(millis, kMillisPerDay);
}

/// Whole calendar months from `from` to `to` (negative when `to` is earlier), counting a month only once its day and
/// time of day are reached.
int64_t monthsBetween(int64_t from, int64_t to) {
    if (to < from) return -monthsBetween(to, from);
    CivilTime a = civilFromMillis(from), b = civilFromMillis(to);
    int64_t months = (b.year * 12 + b.month) - (a.year * 12 + a.month);
    if (months > 0 && addMonths(from, months) > to) --months;
    return months;
}

int64_t isoWeek(int64_t millis) {
    int64_t days = daysOf(millis);
    int64_t weekday = floorModulo(days + 3, 7) + 1;  // Monday 1 … Sunday 7; 1970-01-01 was a Thursday
    int64_t thursday = days - weekday + 4;
    CivilTime t = civilFromMillis(thursday * kMillisPerDay);
    return (thursday - daysFromCivil(t.year, 1, 1)) / 7 + 1;
}

int64_t extractField(TimeUnit unit, int64_t millis) {
    CivilTime t = civilFromMillis(millis);
    switch (unit) {
    case TimeUnit::Year: return t.year;
    case TimeUnit::Quarter: return (t.month - 1) / 3 + 1;
    case TimeUnit::Month: return t.month;
    case TimeUnit::Week: return isoWeek(millis);
    case TimeUnit::Day: return t.day;
    case TimeUnit::Hour: return t.hour;
    case TimeUnit::Minute: return t.minute;
    case TimeUnit::Second: return t.second;
    case TimeUnit::DayOfWeek: return floorModulo(daysOf(millis) + 4, 7) + 1;  // Sunday 1 … Saturday 7
    case TimeUnit::DayOfYear: return daysOf(millis) - daysFromCivil(t.year, 1, 1) + 1;
    default: return 0;
    }
}

int64_t floorTo(TimeUnit unit, int64_t millis) {
    if (int64_t size = fixedUnitMillis(unit)) return floorDivide(millis, size) * size;
    CivilTime t = civilFromMillis(millis);
    unsigned month = unit == TimeUnit::Year ? 1 : unit == TimeUnit::Quarter ? (t.month - 1) / 3 * 3 + 1 : t.month;
    return daysFromCivil(t.year, month, 1) * kMillisPerDay;
}

int64_t ceilTo(TimeUnit unit, int64_t millis) {
    int64_t floored = floorTo(unit, millis);
    if (floored == millis) return millis;
    if (int64_t size = fixedUnitMillis(unit)) return floored + size;
    return addMonths(floored, unit == TimeUnit::Year ? 12 : unit == TimeUnit::Quarter ? 3 : 1);
}

// ---- Java date patterns (DATE_FORMAT, TO_TIMESTAMP, UNIX_TIMESTAMP) ----

constexpr std::array<const char*, 12> kMonthNames = {"January", "February", "March",     "April",   "May",      "June",
                                                     "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<const char*, 7> kDayNames = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

/// One element of a pattern: a run of one letter (`yyyy`), or literal text.
struct PatternElement {
    char letter = 0;  // 0 for literal text
    size_t count = 0;
    std::string text;
};

constexpr std::string_view kPatternLetters = "yMdDHhkKmsSEauzZX";

/// Splits a pattern; nullopt when it uses a letter pipec does not implement (or an unclosed quote).
std::optional<std::vector<PatternElement>> parsePattern(std::string_view pattern) {
    std::vector<PatternElement> elements;
    auto literal = [&](char c) {
        if (elements.empty() || elements.back().letter != 0) elements.push_back({});
        elements.back().text += c;
    };
    for (size_t i = 0; i < pattern.size();) {
        char c = pattern[i];
        if (c == '\'') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
                literal('\'');
                i += 2;
                continue;
            }
            size_t end = i + 1;
            std::string text;
            while (true) {
                if (end >= pattern.size()) return std::nullopt;
                if (pattern[end] == '\'') {
                    if (end + 1 < pattern.size() && pattern[end + 1] == '\'') {
                        text += '\'';
                        end += 2;
                        continue;
                    }
                    break;
                }
                text += pattern[end++];
            }
            for (char t : text) literal(t);
            i = end + 1;
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(c))) {
            if (kPatternLetters.find(c) == std::string_view::npos) return std::nullopt;
            size_t count = 0;
            while (i < pattern.size() && pattern[i] == c) ++count, ++i;
            elements.push_back({c, count, {}});
            continue;
        }
        literal(c);
        ++i;
    }
    return elements;
}

std::string padded(int64_t value, size_t width) {
    std::string digits = std::to_string(value < 0 ? -value : value);
    while (digits.size() < width) digits.insert(digits.begin(), '0');
    return (value < 0 ? "-" : "") + digits;
}

std::string formatTime(const std::vector<PatternElement>& pattern, int64_t millis) {
    CivilTime t = civilFromMillis(millis);
    int64_t dayOfWeek = floorModulo(daysOf(millis) + 4, 7);  // 0 = Sunday
    std::string out;
    for (const auto& element : pattern) {
        size_t n = element.count;
        switch (element.letter) {
        case 0: out += element.text; break;
        case 'y': out += n == 2 ? padded(floorModulo(t.year, 100), 2) : padded(t.year, n); break;
        case 'M':
            if (n >= 4) out += kMonthNames[t.month - 1];
            else if (n == 3) out += std::string(kMonthNames[t.month - 1]).substr(0, 3);
            else out += padded(t.month, n);
            break;
        case 'd': out += padded(t.day, n); break;
        case 'D': out += padded(extractField(TimeUnit::DayOfYear, millis), n); break;
        case 'H': out += padded(t.hour, n); break;
        case 'k': out += padded(t.hour == 0 ? 24 : t.hour, n); break;
        case 'K': out += padded(t.hour % 12, n); break;
        case 'h': out += padded(t.hour % 12 == 0 ? 12 : t.hour % 12, n); break;
        case 'm': out += padded(t.minute, n); break;
        case 's': out += padded(t.second, n); break;
        case 'S': out += padded(t.millisecond, n); break;
        case 'E': out += n >= 4 ? std::string(kDayNames[dayOfWeek]) : std::string(kDayNames[dayOfWeek]).substr(0, 3); break;
        case 'u': out += padded(dayOfWeek == 0 ? 7 : dayOfWeek, n); break;
        case 'a': out += t.hour < 12 ? "AM" : "PM"; break;
        case 'z': out += n >= 4 ? "Coordinated Universal Time" : "UTC"; break;
        case 'Z': out += "+0000"; break;
        case 'X': out += "Z"; break;
        default: break;
        }
    }
    return out;
}

bool isNumericLetter(char letter) { return letter && std::string_view("yMdDHhkKmsSu").find(letter) != std::string_view::npos; }

/// Parses `text` with a pattern (UTC). Numeric fields followed directly by another numeric field take exactly their
/// letter count of digits (`yyyyMMdd`); otherwise any number of digits. Fields are range-checked (no roll-over).
/// `trailing`: text after the pattern is ignored (Java's SimpleDateFormat.parse, used by UNIX_TIMESTAMP) or refused.
std::optional<int64_t> parseTime(const std::vector<PatternElement>& pattern, std::string_view text, bool allowTrailing) {
    int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, millisecond = 0, dayOfYear = -1;
    int64_t halfDayHour = -1;
    bool pm = false;
    size_t at = 0;
    for (size_t k = 0; k < pattern.size(); ++k) {
        const auto& element = pattern[k];
        if (element.letter == 0) {
            if (text.substr(at, element.text.size()) != element.text) return std::nullopt;
            at += element.text.size();
            continue;
        }
        auto matchName = [&](const auto& names, size_t& index) {
            for (size_t i = 0; i < names.size(); ++i) {
                std::string full = names[i];
                for (const std::string& candidate : {full, full.substr(0, 3)}) {
                    if (text.size() - at < candidate.size()) continue;
                    bool same = true;
                    for (size_t j = 0; j < candidate.size() && same; ++j)
                        same = std::tolower(static_cast<unsigned char>(text[at + j])) == std::tolower(static_cast<unsigned char>(candidate[j]));
                    if (same) {
                        at += candidate.size();
                        index = i;
                        return true;
                    }
                }
            }
            return false;
        };
        size_t index = 0;
        if ((element.letter == 'M' && element.count >= 3)) {
            if (!matchName(kMonthNames, index)) return std::nullopt;
            month = static_cast<int64_t>(index) + 1;
            continue;
        }
        if (element.letter == 'E') {
            if (!matchName(kDayNames, index)) return std::nullopt;
            continue;
        }
        if (element.letter == 'a') {
            std::string marker(text.substr(at, 2));
            for (char& c : marker) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (marker != "AM" && marker != "PM") return std::nullopt;
            pm = marker == "PM";
            at += 2;
            continue;
        }
        if (element.letter == 'z' || element.letter == 'Z' || element.letter == 'X') {
            for (std::string_view zone : {"+0000", "+00:00", "UTC", "GMT", "Z"}) {
                if (text.substr(at, zone.size()) == zone) {
                    at += zone.size();
                    index = 1;
                    break;
                }
            }
            if (!index) return std::nullopt;
            continue;
        }
        bool abutting = k + 1 < pattern.size() && isNumericLetter(pattern[k + 1].letter);
        size_t maximum = abutting ? element.count : 10;
        size_t start = at;
        int64_t number = 0;
        while (at < text.size() && at - start < maximum && std::isdigit(static_cast<unsigned char>(text[at])))
            number = number * 10 + (text[at++] - '0');
        if (at == start || (abutting && at - start != element.count)) return std::nullopt;
        switch (element.letter) {
        case 'y': year = element.count == 2 && at - start == 2 ? 2000 + number : number; break;
        case 'M': month = number; break;
        case 'd': day = number; break;
        case 'D': dayOfYear = number; break;
        case 'H': hour = number; break;
        case 'k': hour = number == 24 ? 0 : number; break;
        case 'K':
        case 'h': halfDayHour = number % 12; break;
        case 'm': minute = number; break;
        case 's': second = number; break;
        case 'S': millisecond = number; break;
        default: break;
        }
    }
    if (!allowTrailing && at != text.size()) return std::nullopt;
    if (year < 0 || year > 9999 || dayOfYear > 366) return std::nullopt;
    if (halfDayHour >= 0) hour = halfDayHour + (pm ? 12 : 0);
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 ||
        second > 59 || millisecond > 999)
        return std::nullopt;
    int64_t days = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    if (dayOfYear > 0) days = daysFromCivil(year, 1, 1) + dayOfYear - 1;
    return ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000 + millisecond;
}

const std::vector<PatternElement>* cachedPattern(const std::string& pattern) {
    thread_local std::unordered_map<std::string, std::optional<std::vector<PatternElement>>> cache;
    auto it = cache.find(pattern);
    if (it == cache.end()) {
        if (cache.size() >= 256) cache.clear();
        it = cache.emplace(pattern, parsePattern(pattern)).first;
    }
    return it->second ? &*it->second : nullptr;
}

const std::vector<PatternElement>& defaultPattern() {
    static const std::vector<PatternElement> kPattern = *parsePattern("yyyy-MM-dd HH:mm:ss");
    return kPattern;
}

} // namespace

Value extract(const CallFrame& call) { return Value::ofInt(extractField(unitNamed(call.value(0).s), call.value(1).i)); }
Value year(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Year, call.value(0).i)); }
Value quarter(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Quarter, call.value(0).i)); }
Value month(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Month, call.value(0).i)); }
Value week(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Week, call.value(0).i)); }
Value dayOfMonth(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Day, call.value(0).i)); }
Value dayOfYear(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::DayOfYear, call.value(0).i)); }
Value dayOfWeek(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::DayOfWeek, call.value(0).i)); }
Value hour(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Hour, call.value(0).i)); }
Value minute(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Minute, call.value(0).i)); }
Value second(const CallFrame& call) { return Value::ofInt(extractField(TimeUnit::Second, call.value(0).i)); }

// Timestamps beyond ±2^62 ms (far outside the event-time range, ±2^60) are left as they are: rounding them could
// overflow 64 bits.
constexpr int64_t kRoundableMillis = int64_t{1} << 62;

Value floorTime(const CallFrame& call) {
    int64_t millis = call.value(0).i;
    if (millis > kRoundableMillis || millis < -kRoundableMillis) return Value::ofInt(millis);
    return Value::ofInt(floorTo(unitNamed(call.value(1).s), millis));
}

Value ceilTime(const CallFrame& call) {
    int64_t millis = call.value(0).i;
    if (millis > kRoundableMillis || millis < -kRoundableMillis) return Value::ofInt(millis);
    return Value::ofInt(ceilTo(unitNamed(call.value(1).s), millis));
}

Value dateFormat(const CallFrame& call) {
    const auto* pattern = cachedPattern(call.value(1).s);
    if (!pattern) return Value::null();
    return Value::ofString(formatTime(*pattern, call.value(0).i));
}

Value timestampAdd(const CallFrame& call) {
    TimeUnit unit = unitNamed(call.value(0).s);
    int64_t amount = call.value(1).i, millis = call.value(2).i;
    if (unit == TimeUnit::Month || unit == TimeUnit::Quarter || unit == TimeUnit::Year) {
        // Beyond a billion years the result leaves the event-time range: NULL rather than an overflow.
        constexpr int64_t kMaxMonths = 12'000'000'000;
        int64_t months = 0;
        if (__builtin_mul_overflow(amount, unit == TimeUnit::Year ? 12 : unit == TimeUnit::Quarter ? 3 : 1, &months) ||
            months > kMaxMonths || months < -kMaxMonths)
            return Value::null();
        return Value::ofInt(addMonths(millis, months));
    }
    int64_t delta = 0, result = 0;
    if (__builtin_mul_overflow(amount, fixedUnitMillis(unit), &delta) || __builtin_add_overflow(millis, delta, &result)) return Value::null();
    return Value::ofInt(result);
}

Value timestampDiff(const CallFrame& call) {
    // TIMESTAMPDIFF(unit, a, b): whole units from a to b, truncated toward zero, as an INT.
    TimeUnit unit = unitNamed(call.value(0).s);
    int64_t from = call.value(1).i, to = call.value(2).i;
    int64_t result = 0;
    if (unit == TimeUnit::Month || unit == TimeUnit::Quarter || unit == TimeUnit::Year)
        result = monthsBetween(from, to) / (unit == TimeUnit::Year ? 12 : unit == TimeUnit::Quarter ? 3 : 1);
    else
        result = static_cast<int64_t>((static_cast<__int128>(to) - from) / fixedUnitMillis(unit));
    return Value::ofInt(static_cast<int32_t>(static_cast<uint32_t>(result)));
}

Value toTimestampLtz(const CallFrame& call) {
    // TO_TIMESTAMP_LTZ(n, 0) reads n as epoch seconds, (n, 3) as epoch milliseconds.
    bool seconds = call.value(1).i == 0;
    if (isFloatingType(call.argumentType(0))) {
        double millis = std::trunc(call.value(0).d * (seconds ? 1000 : 1));
        if (!std::isfinite(millis) || std::fabs(millis) >= 9.2e18) return Value::null();
        return Value::ofInt(static_cast<int64_t>(millis));
    }
    int64_t millis = 0;
    if (__builtin_mul_overflow(call.value(0).i, seconds ? 1000 : 1, &millis)) return Value::null();
    return Value::ofInt(millis);
}

Value toTimestamp(const CallFrame& call) {
    std::optional<int64_t> millis;
    if (call.size() == 1) {
        millis = parseTimestampText(call.value(0).s);
    } else if (const auto* pattern = cachedPattern(call.value(1).s)) {
        millis = parseTime(*pattern, call.value(0).s, false);
    }
    return millis ? Value::ofInt(*millis) : Value::null();
}

Value unixTimestamp(const CallFrame& call) {
    // Flink's UNIX_TIMESTAMP returns Long.MIN_VALUE (-9223372036854775808) for a string it cannot parse.
    const std::vector<PatternElement>* pattern = call.size() == 1 ? &defaultPattern() : cachedPattern(call.value(1).s);
    std::optional<int64_t> millis = pattern ? parseTime(*pattern, call.value(0).s, true) : std::nullopt;
    return Value::ofInt(millis ? *millis / 1000 : std::numeric_limits<int64_t>::min());
}

Value unixTimestampNow(const CallFrame&) {
    // Never planned: the binder refuses non-deterministic functions. Kept so the catalog describes UNIX_TIMESTAMP().
    return Value::null();
}

namespace {

bool isTimestamp(plan::TypeId type) { return type == plan::TIMESTAMP; }
bool isVarchar(plan::TypeId type) { return type == plan::VARCHAR; }

bool requireUnit(CallTyping& typing, size_t i, std::initializer_list<TimeUnit> allowed, std::string_view names) {
    auto unit = constantString(typing, i);
    TimeUnit parsed = unit ? unitNamed(*unit) : TimeUnit::Unknown;
    for (TimeUnit candidate : allowed)
        if (candidate == parsed) return true;
    typing.error = fmt::format("{} does not take the time unit `{}`", typing.name, unit.value_or("?"));
    typing.errorArgument = i;
    typing.wrongKind = true;
    typing.help = fmt::format("the units {} takes: {}", typing.name, names);
    return false;
}

bool checkConstantPattern(CallTyping& typing, size_t i) {
    auto pattern = constantString(typing, i);
    if (!pattern || parsePattern(*pattern)) return true;
    typing.error = fmt::format("date pattern '{}' uses a letter pipec does not implement, or an unclosed quote", *pattern);
    typing.errorArgument = i;
    typing.wrongKind = true;
    typing.help = "letters: y M d D H h k K m s S E a u z Z X; quote literal text as 'T'";
    return false;
}

} // namespace

bool typeExtract(CallTyping& typing) {
    using enum TimeUnit;
    if (!requireUnit(typing, 0, {Year, Quarter, Month, Week, Day, Hour, Minute, Second, DayOfWeek, DayOfYear},
                     "YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND, DOW, DOY"))
        return false;
    if (!requireArgument(typing, 1, isTimestamp, plan::TIMESTAMP, "TIMESTAMP")) return false;
    typing.result = plan::BIGINT;
    return true;
}

bool typeTimestampPart(CallTyping& typing) {
    if (!requireArgument(typing, 0, isTimestamp, plan::TIMESTAMP, "TIMESTAMP")) return false;
    typing.result = plan::BIGINT;
    return true;
}

bool typeFloorCeilTime(CallTyping& typing) {
    using enum TimeUnit;
    if (!requireArgument(typing, 0, isTimestamp, plan::TIMESTAMP, "TIMESTAMP")) return false;
    if (!requireUnit(typing, 1, {Year, Quarter, Month, Day, Hour, Minute, Second, Millisecond},
                     "YEAR, QUARTER, MONTH, DAY, HOUR, MINUTE, SECOND, MILLISECOND"))
        return false;
    typing.result = plan::TIMESTAMP;
    return true;
}

bool typeDateFormat(CallTyping& typing) {
    if (!requireArgument(typing, 0, isTimestamp, plan::TIMESTAMP, "TIMESTAMP")) return false;
    if (!requireArgument(typing, 1, isVarchar, plan::VARCHAR, "VARCHAR")) return false;
    if (!checkConstantPattern(typing, 1)) return false;
    typing.result = plan::VARCHAR;
    return true;
}

bool typeTimestampAdd(CallTyping& typing) {
    using enum TimeUnit;
    if (!requireUnit(typing, 0, {Second, Minute, Hour, Day, Week, Month, Quarter, Year}, "SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR"))
        return false;
    if (!requireArgument(typing, 1, isIntegerType, plan::BIGINT, "integer")) return false;
    if (!requireArgument(typing, 2, isTimestamp, plan::TIMESTAMP, "TIMESTAMP")) return false;
    typing.result = plan::TIMESTAMP;
    return true;
}

bool typeTimestampDiff(CallTyping& typing) {
    using enum TimeUnit;
    if (!requireUnit(typing, 0, {Second, Minute, Hour, Day, Week, Month, Quarter, Year}, "SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR"))
        return false;
    for (size_t i = 1; i < 3; ++i)
        if (!requireArgument(typing, i, isTimestamp, plan::TIMESTAMP, "TIMESTAMP")) return false;
    typing.result = plan::INT;
    return true;
}

bool typeToTimestampLtz(CallTyping& typing) {
    if (!requireArgument(typing, 0, isNumericType, plan::TYPE_NULL, "numeric")) return false;
    if (typing.argumentTypes[0] == plan::INT) typing.coerceTo[0] = plan::BIGINT;
    if (typing.argumentTypes[0] == plan::FLOAT) typing.coerceTo[0] = plan::DOUBLE;
    const plan::Literal* precision = typing.constants[1];
    if (!precision || precision->is_null() || precision->value_case() != plan::Literal::kIntValue ||
        (precision->int_value() != 0 && precision->int_value() != 3)) {
        typing.error = "TO_TIMESTAMP_LTZ's precision must be the literal 0 (epoch seconds) or 3 (epoch milliseconds)";
        typing.errorArgument = 1;
        typing.wrongKind = true;
        return false;
    }
    typing.coerceTo[1] = plan::INT;
    typing.result = plan::TIMESTAMP;
    return true;
}

bool typeToTimestamp(CallTyping& typing) {
    for (size_t i = 0; i < typing.argumentTypes.size(); ++i)
        if (!requireArgument(typing, i, isVarchar, plan::VARCHAR, "VARCHAR")) return false;
    if (typing.argumentTypes.size() > 1 && !checkConstantPattern(typing, 1)) return false;
    typing.result = plan::TIMESTAMP;
    return true;
}

bool typeUnixTimestamp(CallTyping& typing) {
    if (!typeToTimestamp(typing)) return false;
    typing.result = plan::BIGINT;
    return true;
}

bool typeUnixTimestampNow(CallTyping& typing) {
    typing.result = plan::BIGINT;
    return true;
}

} // namespace pipec::runtime::functions
