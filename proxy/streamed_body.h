#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <streambuf>
#include <string>

namespace pipec::proxy {

/// A request body read while it is still arriving (a chunked request: Confluent's streaming mode). The thread that
/// reads the socket pushes each chunk as cpp-httplib hands it over; the parser reads the same bytes through a
/// std::istream on another thread. At most a few chunks wait in between, so a client that sends faster than records
/// are checked and produced is slowed down by TCP instead of filling memory, however long the stream.
class StreamedBody : public std::streambuf {
public:
    /// `maxBytes`: the parser sees the end of the body there (`exceeded()` then says why).
    explicit StreamedBody(size_t maxBytes) : maxBytes_(maxBytes) {}

    /// Reading thread: one chunk of the body. Waits while the parser is behind; false stops the read (the parser
    /// gave up and the bytes discarded after that passed `kDrainBytes`).
    bool push(const char *data, size_t size);
    /// Reading thread: the body ended (`complete`) or its read failed (client gone, bad chunk framing, timeout).
    void finish(bool complete);

    /// Parsing thread: no more bytes are wanted. Later ones are read and discarded, up to `kDrainBytes`, so that the
    /// connection can carry the answer and the client's next request; after that the read stops.
    void stopParsing();

    /// More than `maxBytes` arrived.
    bool exceeded() const;
    /// The body's read failed before its end.
    bool failed() const;
    /// Bytes received so far.
    size_t received() const;

    /// Bytes read and discarded after the parser stopped before the read is abandoned.
    static constexpr size_t kDrainBytes = 64 << 20;

protected:
    int_type underflow() override;

private:
    /// Chunks waiting for the parser beyond which the reading thread waits.
    static constexpr size_t kQueuedBytes = 256 << 10;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> chunks_;
    std::string current_; // the chunk the parser is reading
    size_t queued_ = 0;
    size_t maxBytes_;
    size_t received_ = 0;
    size_t discarded_ = 0;
    bool finished_ = false;
    bool failed_ = false;
    bool exceeded_ = false;
    bool stopped_ = false;
};

} // namespace pipec::proxy
