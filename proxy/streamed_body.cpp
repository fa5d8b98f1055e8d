#include "proxy/streamed_body.h"

namespace pipec::proxy {

bool StreamedBody::push(const char *data, size_t size) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return stopped_ || queued_ < kQueuedBytes; });
    if (!stopped_ && received_ + size > maxBytes_) {
        // The parser gets nothing beyond the limit: it sees the body end there, and the request says why.
        exceeded_ = true;
        stopped_ = true;
        changed_.notify_all();
    }
    if (stopped_) {
        discarded_ += size;
        return discarded_ <= kDrainBytes;
    }
    received_ += size;
    queued_ += size;
    chunks_.emplace_back(data, size);
    changed_.notify_all();
    return true;
}

void StreamedBody::finish(bool complete) {
    std::lock_guard lock(mutex_);
    finished_ = true;
    failed_ = !complete && !stopped_;
    changed_.notify_all();
}

void StreamedBody::stopParsing() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    chunks_.clear();
    queued_ = 0;
    changed_.notify_all();
}

bool StreamedBody::exceeded() const {
    std::lock_guard lock(mutex_);
    return exceeded_;
}

bool StreamedBody::failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
}

size_t StreamedBody::received() const {
    std::lock_guard lock(mutex_);
    return received_;
}

StreamedBody::int_type StreamedBody::underflow() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !chunks_.empty() || finished_ || exceeded_ || stopped_; });
    if (chunks_.empty()) return traits_type::eof();
    current_ = std::move(chunks_.front());
    chunks_.pop_front();
    queued_ -= current_.size();
    changed_.notify_all();
    setg(current_.data(), current_.data(), current_.data() + current_.size());
    return traits_type::to_int_type(*gptr());
}

} // namespace pipec::proxy
