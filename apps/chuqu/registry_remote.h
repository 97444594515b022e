// The registry commands against a running server (`--server URL`, docs/registry.md "Against a
// server"): the same arguments and the same output lines as the local commands in
// registry_commands.cc, so scripts do not care which mode they run in. Each function prints
// its JSON lines on stdout, one line per failure on stderr, and throws CLI::RuntimeError(1)
// when anything failed (per-file commands go on after a failing file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/registry.h"

namespace chuqu::app::remote {

struct Target {
  std::string server;     // base URL
  std::string token;      // bearer token (never printed)
  std::string party_key;  // key file: sign entries here; empty: the token's custodial party
};

void Register(const Target& t, const registry::WorkInfo& info,
              const std::vector<std::string>& files, bool fingerprints_only);
void Match(const Target& t, const std::vector<std::string>& files, bool fingerprints_only);
void Show(const Target& t, uint64_t work);
void Transfer(const Target& t, uint64_t work, const std::string& to, int64_t basis_points);
void Offer(const Target& t, const registry::LicenceOffer& offer);
void Accept(const Target& t, uint64_t offer);
void PriceCap(const Target& t, const std::string& kind, int64_t max, const std::string& currency);
void ClaimOpen(const Target& t, uint64_t work, const std::string& reason,
               const nlohmann::json& evidence);
void ClaimAnswer(const Target& t, uint64_t claim, const std::string& text);
void ClaimResolve(const Target& t, uint64_t claim, const std::string& outcome,
                  const std::string& note);
void Evidence(const Target& t, uint64_t index, const std::string& out);

}  // namespace chuqu::app::remote
