#pragma once

#include <cstdint>

namespace pipec::runtime {

/// Calendar arithmetic on the proleptic Gregorian calendar in UTC (H. Hinnant's days_from_civil / civil_from_days),
/// valid far beyond the years events carry, including before 1970.
inline int64_t daysFromCivil(int64_t year, unsigned month, unsigned day) {
    year -= month <= 2;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const unsigned yearOfEra = static_cast<unsigned>(year - era * 400);
    const unsigned dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    return era * 146097 + static_cast<int64_t>(dayOfEra) - 719468;
}

struct CivilTime {
    int64_t year;
    unsigned month, day, hour, minute, second, millisecond;
};

/// The UTC calendar time of epoch milliseconds.
inline CivilTime civilFromMillis(int64_t millis) {
    int64_t days = millis >= 0 ? millis / 86'400'000 : -((-(millis + 1)) / 86'400'000) - 1;
    int64_t rest = millis - days * 86'400'000;
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned dayOfEra = static_cast<unsigned>(z - era * 146097);
    const unsigned yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
    const unsigned dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    const unsigned monthIndex = (5 * dayOfYear + 2) / 153;
    CivilTime time;
    time.day = dayOfYear - (153 * monthIndex + 2) / 5 + 1;
    time.month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
    time.year = static_cast<int64_t>(yearOfEra) + era * 400 + (time.month <= 2);
    time.hour = static_cast<unsigned>(rest / 3'600'000);
    time.minute = static_cast<unsigned>(rest / 60'000 % 60);
    time.second = static_cast<unsigned>(rest / 1000 % 60);
    time.millisecond = static_cast<unsigned>(rest % 1000);
    return time;
}

} // namespace pipec::runtime
