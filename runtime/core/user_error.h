#pragma once

#include <stdexcept>
#include <string>

namespace pipec {

/// A failure the user can fix without touching pipec's code: a missing or unreadable file, a Kafka cluster that
/// cannot be reached, a topic the broker refuses to create, a sink that is misconfigured or refuses pipec's writes.
/// The CLI prints it as `error: …` and exits with `exitCode()`; every other exception escaping a command is a broken
/// invariant ("internal error", exit 3). It derives from std::runtime_error so that code catching runtime errors to
/// clean up keeps working.
class UserError : public std::runtime_error {
public:
    /// Exit codes follow the CLI's convention: 2 when what the user gave cannot be used (a path, a flag value, a
    /// setting), 1 when the environment refused (a broker, a topic, a Redis server).
    static constexpr int kBadInput = 2;
    static constexpr int kEnvironmentRefused = 1;

    explicit UserError(const std::string& message, int exitCode = kBadInput)
        : std::runtime_error(message), exitCode_(exitCode) {}

    int exitCode() const { return exitCode_; }

private:
    int exitCode_;
};

} // namespace pipec
