#include "proxy/api_key_store.h"

#include "proxy/base64_codec.h"
#include "runtime/core/user_error.h"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fnmatch.h>
#include <fstream>
#include <sstream>

namespace pipec::proxy {
namespace {

std::string digest(std::string_view secret) {
    unsigned char hash[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char *>(secret.data()), secret.size(), hash);
    return std::string(reinterpret_cast<const char *>(hash), sizeof hash);
}

bool startsWithWord(std::string_view text, std::string_view word) {
    if (text.size() <= word.size() || text[word.size()] != ' ') return false;
    for (size_t i = 0; i < word.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(word[i])))
            return false;
    return true;
}

} // namespace

void ApiKeyStore::addYaml(const std::string &text, const std::string &origin) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception &error) {
        throw UserError(fmt::format("{}: invalid YAML: {}", origin, error.msg));
    }
    if (root.IsNull()) return;
    if (!root.IsSequence()) throw UserError(fmt::format("{}: expected a list of {{name, key, topics}}", origin));
    for (const auto &entry : root) {
        int line = entry.Mark().line + 1;
        auto fail = [&](const std::string &why) { return UserError(fmt::format("{}:{}: {}", origin, line, why)); };
        if (!entry.IsMap()) throw fail("an API key must be a map {name, key, topics}");
        ApiKey key;
        for (const auto &member : entry) {
            std::string name = member.first.as<std::string>();
            try {
                if (name == "name")
                    key.name = member.second.as<std::string>();
                else if (name == "key")
                    key.secret = member.second.as<std::string>();
                else if (name == "key_env") {
                    std::string variable = member.second.as<std::string>();
                    const char *value = std::getenv(variable.c_str());
                    if (value == nullptr || *value == '\0')
                        throw fail(fmt::format("`key_env`: ${} is not set", variable));
                    key.secret = value;
                } else if (name == "topics") {
                    if (!member.second.IsSequence()) throw fail("`topics` must be a list of topic names or patterns");
                    for (const auto &topic : member.second)
                        key.topicPatterns.push_back(topic.as<std::string>());
                } else if (name == "records_per_second") {
                    key.recordsPerSecond = member.second.as<double>();
                    if (key.recordsPerSecond <= 0) throw fail("`records_per_second` must be positive");
                } else {
                    throw fail(
                        fmt::format("unknown setting `{}` (name, key, key_env, topics, records_per_second)", name));
                }
            } catch (const YAML::Exception &) {
                throw fail(fmt::format("`{}` has the wrong type", name));
            }
        }
        if (key.name.empty()) throw fail("an API key needs a `name`");
        if (key.secret.empty()) throw fail(fmt::format("API key `{}` needs a `key` or `key_env`", key.name));
        if (key.secret.size() < 16)
            throw fail(fmt::format("API key `{}`: a key must have at least 16 characters", key.name));
        if (key.topicPatterns.empty())
            throw fail(fmt::format("API key `{}` needs `topics` (use [\"*\"] for every topic)", key.name));
        for (const auto &other : keys_)
            if (other.name == key.name) throw fail(fmt::format("API key name `{}` is used twice", key.name));
        std::string hash = digest(key.secret);
        if (byDigest_.count(hash)) throw fail(fmt::format("API key `{}` has the same secret as another key", key.name));
        byDigest_[hash] = keys_.size();
        keys_.push_back(std::move(key));
    }
}

void ApiKeyStore::addFile(const std::string &path) {
    std::ifstream input(path);
    if (!input) throw UserError(fmt::format("cannot read the API keys file `{}`", path));
    std::stringstream text;
    text << input.rdbuf();
    addYaml(text.str(), path);
}

void ApiKeyStore::addFromEnvironment() {
    if (const char *text = std::getenv("PIPEC_PROXY_API_KEYS"); text != nullptr && *text != '\0')
        addYaml(text, "$PIPEC_PROXY_API_KEYS");
}

Authentication ApiKeyStore::authenticate(std::string_view authorization) const {
    Authentication result;
    if (keys_.empty()) {
        result.outcome = Authentication::Outcome::Anonymous;
        return result;
    }
    if (authorization.empty()) {
        result.outcome = Authentication::Outcome::Missing;
        result.reason = "an API key is required (Authorization: Bearer KEY, or Basic NAME:KEY)";
        return result;
    }
    std::string user;
    std::string secret;
    if (startsWithWord(authorization, "Bearer")) {
        secret = std::string(authorization.substr(7));
    } else if (startsWithWord(authorization, "Basic")) {
        auto decoded = decodeBase64(authorization.substr(6));
        size_t colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos) {
            result.outcome = Authentication::Outcome::Invalid;
            result.reason = "malformed Basic credentials (base64 of NAME:KEY)";
            return result;
        }
        user = decoded->substr(0, colon);
        secret = decoded->substr(colon + 1);
    } else {
        result.outcome = Authentication::Outcome::Invalid;
        result.reason = "unsupported Authorization scheme (Bearer or Basic)";
        return result;
    }
    auto found = byDigest_.find(digest(secret));
    if (found == byDigest_.end() || (!user.empty() && user != keys_[found->second].name)) {
        result.outcome = Authentication::Outcome::Invalid;
        result.reason = "invalid API key";
        return result;
    }
    result.outcome = Authentication::Outcome::Authenticated;
    result.key = &keys_[found->second];
    return result;
}

bool ApiKeyStore::allows(const ApiKey &key, const std::string &topic) {
    for (const auto &pattern : key.topicPatterns)
        if (fnmatch(pattern.c_str(), topic.c_str(), 0) == 0) return true;
    return false;
}

} // namespace pipec::proxy
