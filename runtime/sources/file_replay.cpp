#include "runtime/sources/file_replay.h"

#include "runtime/core/user_error.h"

#include "runtime/core/civil_time.h"
#include "runtime/operators/record_decoder.h"
#include "runtime/sources/event_time_guard.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <deque>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace pipec::runtime {

namespace {


bool digits(std::string_view text, size_t position, size_t count, int& value) {
    if (position + count > text.size()) return false;
    value = 0;
    for (size_t i = 0; i < count; ++i) {
        char c = text[position + i];
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

/// Skips a JSON value starting at `position` (string, number, literal, object, array); returns the end or npos.
size_t skipValue(const std::string& json, size_t position) {
    if (position >= json.size()) return std::string::npos;
    char c = json[position];
    if (c == '"') {
        for (size_t i = position + 1; i < json.size(); ++i) {
            if (json[i] == '\\') ++i;
            else if (json[i] == '"') return i + 1;
        }
        return std::string::npos;
    }
    if (c == '{' || c == '[') {
        int depth = 0;
        for (size_t i = position; i < json.size(); ++i) {
            char d = json[i];
            if (d == '"') {
                i = skipValue(json, i);
                if (i == std::string::npos) return i;
                --i;
            } else if (d == '{' || d == '[') {
                ++depth;
            } else if (d == '}' || d == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return std::string::npos;
    }
    size_t end = position;
    while (end < json.size() && json[end] != ',' && json[end] != '}' && json[end] != ']' && !std::isspace(static_cast<unsigned char>(json[end]))) ++end;
    return end;
}

size_t skipSpace(const std::string& json, size_t position) {
    while (position < json.size() && std::isspace(static_cast<unsigned char>(json[position]))) ++position;
    return position;
}

} // namespace

std::optional<int64_t> parseIsoTimestamp(std::string_view text) {
    int year, month, day, hour, minute, second;
    if (!digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' || !digits(text, 5, 2, month) || text[7] != '-' ||
        !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != ' ') || !digits(text, 11, 2, hour) || text[13] != ':' ||
        !digits(text, 14, 2, minute) || text[16] != ':' || !digits(text, 17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    size_t position = 19;
    int64_t millis = 0;
    if (position < text.size() && text[position] == '.') {
        ++position;
        int scale = 100;
        size_t start = position;
        while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
            if (scale > 0) millis += (text[position] - '0') * scale;
            scale /= 10;
            ++position;
        }
        if (position == start) return std::nullopt;
    }
    int64_t offsetMinutes = 0;
    if (position < text.size() && (text[position] == 'Z' || text[position] == 'z')) {
        ++position;
    } else if (position < text.size() && (text[position] == '+' || text[position] == '-')) {
        int offsetHour, offsetMinute;
        if (!digits(text, position + 1, 2, offsetHour) || position + 3 >= text.size() || text[position + 3] != ':' ||
            !digits(text, position + 4, 2, offsetMinute))
            return std::nullopt;
        offsetMinutes = (offsetHour * 60 + offsetMinute) * (text[position] == '-' ? -1 : 1);
        position += 6;
    }
    if (position != text.size()) return std::nullopt;
    int64_t days = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return (((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + millis - offsetMinutes * 60'000;
}

std::optional<int64_t> extractEnvelopeTime(std::string& json, bool& ok) {
    ok = true;
    size_t position = skipSpace(json, 0);
    if (position >= json.size() || json[position] != '{') return std::nullopt;
    ++position;
    while (true) {
        position = skipSpace(json, position);
        if (position >= json.size() || json[position] == '}') return std::nullopt;
        size_t memberStart = position;
        size_t keyEnd = skipValue(json, position);
        if (keyEnd == std::string::npos || json[position] != '"') return std::nullopt;
        std::string_view key(json.data() + position + 1, keyEnd - position - 2);
        size_t colon = skipSpace(json, keyEnd);
        if (colon >= json.size() || json[colon] != ':') return std::nullopt;
        size_t valueStart = skipSpace(json, colon + 1);
        size_t valueEnd = skipValue(json, valueStart);
        if (valueEnd == std::string::npos) return std::nullopt;
        size_t after = skipSpace(json, valueEnd);
        if (key == "_time") {
            std::string value = json.substr(valueStart, valueEnd - valueStart);
            std::optional<int64_t> millis;
            if (!value.empty() && value.front() == '"') {
                millis = parseIsoTimestamp(std::string_view(value).substr(1, value.size() - 2));
            } else {
                int64_t number = 0;
                auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), number);
                if (status == std::errc() && end == value.data() + value.size()) millis = number;
            }
            if (!millis) ok = false;
            // Remove the member and one adjacent comma so the rest stays valid JSON.
            if (after < json.size() && json[after] == ',') {
                json.erase(memberStart, skipSpace(json, after + 1) - memberStart);
            } else {
                size_t eraseStart = memberStart;
                size_t before = json.find_last_not_of(" \t\r\n", memberStart - 1);
                if (before != std::string::npos && json[before] == ',') eraseStart = before;
                json.erase(eraseStart, after - eraseStart);
            }
            return millis;
        }
        if (after >= json.size()) return std::nullopt;
        if (json[after] == ',') position = after + 1;
        else return std::nullopt;
    }
}

ReplayStats replayFile(const plan::Source& source, const ReplayOptions& options, const std::function<void(Row&)>& onRow) {
    std::string format = options.format;
    if (format.empty()) {
        const std::string& path = options.inputPath;
        auto endsWith = [&](const char* suffix) {
            std::string_view s(suffix);
            return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
        };
        format = endsWith(".bin") || endsWith(".pb") || endsWith(".ldpb") ? "binary" : "json";
    }
    std::ifstream in(options.inputPath, std::ios::binary);
    if (!in) throw UserError(fmt::format("cannot read input file `{}`", options.inputPath));
    std::ofstream deadLetters;
    if (!options.deadLetterPath.empty()) {
        deadLetters.open(options.deadLetterPath, std::ios::binary | std::ios::trunc);
        if (!deadLetters) throw UserError(fmt::format("cannot write dead-letter file `{}`", options.deadLetterPath));
    }
    auto log = options.log ? options.log : [](const std::string& message) { std::cerr << message << "\n"; };

    RecordDecoder decoder(source);
    ReplayStats stats;
    Row row;
    std::string error;
    auto writeDeadLetter = [&](std::string_view record, bool binary) {
        if (deadLetters.is_open()) {
            if (binary) {
                uint64_t size = record.size();
                while (size >= 0x80) {
                    deadLetters.put(static_cast<char>((size & 0x7F) | 0x80));
                    size >>= 7;
                }
                deadLetters.put(static_cast<char>(size));
                deadLetters.write(record.data(), static_cast<std::streamsize>(record.size()));
            } else {
                deadLetters << record << "\n";
            }
        }
    };
    auto reject = [&](RecordDecoder::Status status, const std::string& where, const std::string& reason, std::string_view record, bool binary) {
        if (status == RecordDecoder::Status::MissingTime) ++stats.missingTime;
        else ++stats.malformed;
        log(fmt::format("{}:{}: rejected record: {}", options.inputPath, where, reason));
        writeDeadLetter(record, binary);
    };

    // Decoded rows pass the time guard in file order. A row whose verdict needs the records after it waits here with
    // the ones read after it (rows are swapped in and out, not copied: the decoder refills a spare row in place).
    ReplayTimeGuard guard(options.maxFutureSkewMs);
    struct WaitingRow {
        Row row;
        std::string record; // for the dead-letter file
        uint64_t number = 0; // line (JSON) or record (binary) number
        bool binary = false;
    };
    std::deque<WaitingRow> waiting;
    std::vector<Row> spareRows;
    auto conclude = [&](Row& decodedRow, TimeVerdict verdict, std::string_view record, uint64_t number, bool binary) {
        if (verdict == TimeVerdict::Accepted) {
            ++stats.decoded;
            onRow(decodedRow);
            return;
        }
        ++stats.timeInFuture;
        log(fmt::format("{}:{} {}: rejected record: time_in_future: event time {} ms is more than {} ms ahead of the "
                        "records before and after it",
                        options.inputPath, binary ? "record" : "line", number, decodedRow[0].i, options.maxFutureSkewMs));
        writeDeadLetter(record, binary);
    };
    auto drain = [&] {
        while (guard.ready()) {
            TimeVerdict verdict = guard.pop();
            WaitingRow& next = waiting.front();
            conclude(next.row, verdict, next.record, next.number, next.binary);
            spareRows.push_back(std::move(next.row));
            waiting.pop_front();
        }
    };
    // Called for each row the decoder accepted, `row` holding it.
    auto accept = [&](std::string_view record, uint64_t number, bool binary) {
        if (row.empty() || row[0].isNull) guard.pushWithoutTime();
        else guard.push(row[0].i);
        if (waiting.empty() && guard.ready()) return conclude(row, guard.pop(), record, number, binary);
        waiting.push_back(WaitingRow{std::move(row), std::string(record), number, binary});
        row = Row();
        if (!spareRows.empty()) {
            row = std::move(spareRows.back());
            spareRows.pop_back();
        }
        drain();
    };
    auto finishGuard = [&] {
        guard.finish();
        drain();
    };

    if (format == "binary") {
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        size_t position = 0;
        while (position < content.size()) {
            uint64_t size = 0;
            int shift = 0;
            bool complete = false;
            while (position < content.size() && shift < 64) {
                auto byte = static_cast<unsigned char>(content[position++]);
                size |= static_cast<uint64_t>(byte & 0x7F) << shift;
                shift += 7;
                if (!(byte & 0x80)) {
                    complete = true;
                    break;
                }
            }
            ++stats.records;
            if (!complete || size > content.size() - position) {
                reject(RecordDecoder::Status::Malformed, fmt::format("record {}", stats.records), "truncated length-delimited record",
                       std::string_view(content).substr(position), true);
                break;  // the framing is lost; nothing after this point can be trusted
            }
            std::string_view payload(content.data() + position, size);
            position += size;
            if (payload.empty()) {
                // As on Kafka: no bytes is no event (a schema would decode it as a message of defaults).
                ++stats.emptyValues;
                log(fmt::format("{}:record {}: rejected record: empty_value", options.inputPath, stats.records));
                writeDeadLetter(payload, true);
                continue;
            }
            auto status = decoder.decodeProtobuf(payload, INT64_MIN, row, &error);
            if (status != RecordDecoder::Status::Ok) {
                reject(status, fmt::format("record {}", stats.records),
                       status == RecordDecoder::Status::MissingTime ? "no event time (binary input needs a time_field)" : error, payload, true);
                continue;
            }
            accept(payload, stats.records, true);
        }
        finishGuard();
        return stats;
    }

    std::string line;
    uint64_t lineNumber = 0;
    while (std::getline(in, line)) {
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        ++stats.records;
        std::string original = line;
        bool timeOk = true;
        std::optional<int64_t> envelopeTime = extractEnvelopeTime(line, timeOk);
        if (!timeOk) {
            reject(RecordDecoder::Status::Malformed, fmt::format("line {}", lineNumber), "`_time` is neither epoch millis nor an ISO-8601 timestamp", original, false);
            continue;
        }
        auto status = decoder.decodeJson(line, envelopeTime.value_or(INT64_MIN), row, &error);
        if (status != RecordDecoder::Status::Ok) {
            reject(status, fmt::format("line {}", lineNumber),
                   status == RecordDecoder::Status::MissingTime ? "no event time (add `_time` or set the source's time_field)" : error, original, false);
            continue;
        }
        accept(original, lineNumber, false);
    }
    finishGuard();
    return stats;
}

} // namespace pipec::runtime
