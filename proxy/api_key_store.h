#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipec::proxy {

/// One client of the proxy: its name (the `event-source` of what it produces), its secret, and the topics it may
/// produce to (glob patterns: `store_*`, `*`).
struct ApiKey {
    std::string name;
    std::string secret;
    std::vector<std::string> topicPatterns;
    double recordsPerSecond = 0; // 0: the proxy's default rate limit
};

/// Who made a request.
struct Authentication {
    enum class Outcome {
        Anonymous,     // the proxy has no keys (loopback or --insecure): everyone may produce everywhere
        Authenticated, // a known key
        Missing,       // keys are configured and the request carries none (401)
        Invalid,       // a key that is not known, or a malformed Authorization header (401)
    };
    Outcome outcome = Outcome::Missing;
    const ApiKey *key = nullptr;
    std::string reason; // for Missing/Invalid: what to tell the client

    /// The client's name for `event-source`: the key's name, or `anonymous`.
    std::string clientName() const { return key != nullptr ? key->name : "anonymous"; }
};

/// The API keys a proxy accepts, from a YAML file (a list of `{name, key | key_env, topics, records_per_second?}`)
/// and from the environment (`PIPEC_PROXY_API_KEYS`: the same YAML as text, as a Kubernetes Secret provides it).
/// Keys are compared by their SHA-256 digest, so the lookup time does not depend on how much of a guess matches.
class ApiKeyStore {
public:
    /// Adds the keys of a YAML document; `origin` names it in errors. Throws UserError on a malformed entry, a
    /// duplicate name or secret, or a `key_env` naming an unset variable.
    void addYaml(const std::string &text, const std::string &origin);
    void addFile(const std::string &path);
    /// Adds the keys of `PIPEC_PROXY_API_KEYS` when it is set.
    void addFromEnvironment();

    bool empty() const { return keys_.empty(); }
    size_t size() const { return keys_.size(); }
    const std::vector<ApiKey> &keys() const { return keys_; }

    /// Authenticates an `Authorization` header: `Bearer KEY`, or `Basic base64(NAME:KEY)` (the user name, when
    /// given, must be the key's name). With no keys configured every request is anonymous.
    Authentication authenticate(std::string_view authorization) const;

    /// Whether `key` may produce to `topic`.
    static bool allows(const ApiKey &key, const std::string &topic);

private:
    std::vector<ApiKey> keys_;
    std::map<std::string, size_t> byDigest_; // SHA-256 of the secret → index in keys_
};

} // namespace pipec::proxy
