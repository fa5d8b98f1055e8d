#include "runtime/operators/session_window.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace pipec::runtime {

SessionWindow::SessionWindow(const plan::WindowAggregate& window) : gap_(window.gap_ms()), keys_(window) {
    if (gap_ <= 0) throw std::invalid_argument("session gap must be positive");
    for (const auto& aggregate : window.aggregates()) aggregates_.emplace_back(aggregate);
}

WindowAdd SessionWindow::add(const Row& row, int64_t time, int64_t watermark) {
    int64_t fired = std::max(watermark, firedUpTo_);
    if (time + gap_ - 1 <= fired) return WindowAdd::Late;
    uint32_t key = keys_.lookup(row);
    keys_.markChanged(key);
    if (key >= sessions_.size()) sessions_.resize(key + 1);
    std::vector<Session>& sessions = sessions_[key];

    Session merged{time, time + gap_, std::vector<Accumulator>(aggregates_.size())};
    for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].update(merged.accumulators[a], row, time);
    // Absorb every open session that overlaps or touches [time, time + gap).
    for (auto it = sessions.begin(); it != sessions.end();) {
        if (it->start <= merged.end && it->end >= merged.start) {
            merged.start = std::min(merged.start, it->start);
            merged.end = std::max(merged.end, it->end);
            for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].merge(merged.accumulators[a], it->accumulators[a]);
            unindex(it->end, it->start, key);
            it = sessions.erase(it);
            // A grown session may now touch sessions already passed; restart the scan.
            it = sessions.begin();
        } else {
            ++it;
        }
    }
    index(merged.end, merged.start, key);
    auto position = std::lower_bound(sessions.begin(), sessions.end(), merged.start,
                                     [](const Session& session, int64_t start) { return session.start < start; });
    sessions.insert(position, std::move(merged));
    return WindowAdd::Added;
}

void SessionWindow::fire(int64_t watermark, const Emit& emit) {
    if (watermark <= firedUpTo_) return;
    while (!byEnd_.empty()) {
        auto [end, start, key] = *byEnd_.begin();
        if (end - 1 > watermark) break;
        unindex(end, start, key);
        std::vector<Session>& sessions = sessions_[key];
        auto it = std::find_if(sessions.begin(), sessions.end(), [start = start](const Session& s) { return s.start == start; });
        if (it == sessions.end()) throw std::logic_error("session index out of sync");
        const Row& keyValues = keys_.values(key);
        output_.assign(keyValues.begin(), keyValues.end());
        for (size_t a = 0; a < aggregates_.size(); ++a) output_.push_back(aggregates_[a].result(it->accumulators[a]));
        output_.push_back(Value::ofInt(it->start));
        output_.push_back(Value::ofInt(it->end));
        sessions.erase(it);
        emit(output_);
    }
    firedUpTo_ = watermark;
}

bool SessionWindow::complete(int64_t time, int64_t watermark) const {
    if (time + gap_ - 1 > watermark) return false;
    return starts_.empty() || *starts_.begin() > time;
}

void SessionWindow::index(int64_t end, int64_t start, uint32_t key) {
    byEnd_.insert({end, start, key});
    starts_.insert(start);
}

void SessionWindow::unindex(int64_t end, int64_t start, uint32_t key) {
    byEnd_.erase({end, start, key});
    starts_.erase(starts_.find(start));
}

void SessionWindow::write(StateWriter& writer) const {
    writer.writeI64(firedUpTo_);
    keys_.write(writer);
    writer.writeU64(byEnd_.size());
    for (const auto& [end, start, key] : byEnd_) {
        const auto& sessions = sessions_[key];
        auto it = std::find_if(sessions.begin(), sessions.end(), [start = start](const Session& s) { return s.start == start; });
        writer.writeU64(key);
        writer.writeI64(it->start);
        writer.writeI64(it->end);
        for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].write(writer, it->accumulators[a]);
    }
}

void SessionWindow::read(StateReader& reader) {
    firedUpTo_ = reader.readI64();
    keys_.read(reader);
    sessions_.clear();
    sessions_.resize(keys_.size());
    byEnd_.clear();
    starts_.clear();
    uint64_t count = reader.readCount(24);
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t key = reader.readU64();
        if (key >= keys_.size()) throw std::runtime_error("corrupt snapshot: key index");
        Session session{reader.readI64(), reader.readI64(), std::vector<Accumulator>(aggregates_.size())};
        for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].read(reader, session.accumulators[a]);
        insertRestored(static_cast<uint32_t>(key), std::move(session));
    }
}

void SessionWindow::insertRestored(uint32_t key, Session session) {
    if (session.end <= session.start) throw std::runtime_error("corrupt snapshot: empty session");
    if (sessions_.size() <= key) sessions_.resize(key + 1);
    auto& sessions = sessions_[key];
    auto position = std::lower_bound(sessions.begin(), sessions.end(), session.start,
                                     [](const Session& s, int64_t start) { return s.start < start; });
    // A key's open sessions never overlap or touch (they would have merged): anything else is corrupt.
    if ((position != sessions.end() && position->start <= session.end) ||
        (position != sessions.begin() && std::prev(position)->end >= session.start))
        throw std::runtime_error("corrupt snapshot: overlapping sessions");
    index(session.end, session.start, key);
    sessions.insert(position, std::move(session));
}

void SessionWindow::readMeta(StateReader& reader) {
    firedUpTo_ = reader.readI64();
    for (auto& sessions : sessions_) sessions.clear();
    byEnd_.clear();
    starts_.clear();
}

// A key's entry: its open sessions, each (start, end, accumulators); sessions are small, and a key has few open at a
// time, so the entry holds them all. A key whose sessions all fired expires: every session its entry holds has fired
// too (sessions only grow, and fire by the watermark the meta records), so the restore drops the entry.
void SessionWindow::writeKeyedState(KeyedStateSink& out, bool all) {
    for (uint32_t key = 0; key < keys_.size(); ++key) {
        const bool open = key < sessions_.size() && !sessions_[key].empty();
        if (all || keys_.changed(key)) {
            if (open) {
                StateWriter entry;
                entry.writeU64(sessions_[key].size());
                for (const auto& session : sessions_[key]) {
                    entry.writeI64(session.start);
                    entry.writeI64(session.end);
                    for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].write(entry, session.accumulators[a]);
                }
                out.put(keys_.encodeKey(key), entry.bytes());
                keys_.setCheckpointed(key, true);
                continue;
            }
        } else if (open) {
            continue;  // unchanged: its entry still holds every session it has open
        }
        if (keys_.checkpointed(key) && !all) out.expire(keys_.encodeKey(key));
        keys_.setCheckpointed(key, false);
    }
    keys_.clearChanged();
}

bool SessionWindow::restoreKey(std::string_view key, std::string_view state) {
    StateReader reader(state);
    uint64_t count = reader.readCount(16);
    std::vector<Session> live;
    for (uint64_t i = 0; i < count; ++i) {
        Session session{reader.readI64(), reader.readI64(), std::vector<Accumulator>(aggregates_.size())};
        for (size_t a = 0; a < aggregates_.size(); ++a) aggregates_[a].read(reader, session.accumulators[a]);
        if (session.end - 1 <= firedUpTo_) continue;  // fired after this entry was written
        live.push_back(std::move(session));
    }
    if (!reader.atEnd()) throw std::runtime_error("corrupt checkpoint: trailing bytes in a session entry");
    if (live.empty()) return false;
    uint32_t index = keys_.insertEncoded(key);
    keys_.setCheckpointed(index, true);
    if (sessions_.size() <= index) sessions_.resize(index + 1);
    for (auto& session : live) insertRestored(index, std::move(session));
    return true;
}
} // namespace pipec::runtime
