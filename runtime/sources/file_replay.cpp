#include "runtime/sources/file_replay.h"

#include "runtime/core/user_error.h"

#include "runtime/formats/record_decoder.h"
#include "runtime/sources/event_time_guard.h"

#include <fmt/format.h>

#include <deque>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace pipec::runtime {


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
