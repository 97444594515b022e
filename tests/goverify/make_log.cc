// Writes a log of a few hundred entries made with chuqu's C++ ledger code — signed checkpoints,
// c2sp tiles and entry bundles, tlog-proof receipts, consistency proofs — plus tampered copies,
// and a manifest for the independent Go verifier (main.go beside this file).
//
// Usage: ledger_goverify_fixture OUTDIR
// Writes OUTDIR/manifest.txt (every line as expected) and OUTDIR/manifest-tampered-as-ok.txt
// (one tampered item marked "accept": the Go verifier must fail on it).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ledger/bundle.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "ledger/tiles.h"

namespace fs = std::filesystem;
using namespace chuqu::ledger;  // NOLINT: a test program

namespace {

fs::path out_dir;
std::ofstream manifest, tampered_manifest;

void Write(const std::string& rel, const std::string& data) {
  fs::path p = out_dir / rel;
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << data;
  if (!f) {
    std::cerr << "cannot write " << p << "\n";
    std::exit(1);
  }
}

void Line(const std::string& line) {
  manifest << line << "\n";
  tampered_manifest << line << "\n";
}

template <typename T>
T Must(chuqu::Result<T> r, const char* what) {
  if (!r.ok()) {
    std::cerr << what << ": " << r.status().ToString() << "\n";
    std::exit(1);
  }
  return std::move(r).value();
}

std::string ProofText(const std::vector<Hash>& proof) {
  std::string s;
  for (const Hash& h : proof) s += HashToBase64(h) + "\n";
  return s;
}

std::string ContentOf(uint64_t i) { return "the content of work " + std::to_string(i) + "\n"; }

std::string MakeEntry(uint64_t i) {
  if (i == 0) return "";
  if (i == 5) return std::string(1000, 'x');
  return R"({"kind":"register","n":)" + std::to_string(i) + R"(,"content":{"sha256":")" +
         HashToHex(Sha256(ContentOf(i))) + R"("},"title":"work )" + std::to_string(i) + R"( 出处"})";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: ledger_goverify_fixture OUTDIR\n";
    return 2;
  }
  out_dir = argv[1];
  fs::remove_all(out_dir);
  fs::create_directories(out_dir);
  manifest.open(out_dir / "manifest.txt");
  tampered_manifest.open(out_dir / "manifest-tampered-as-ok.txt");

  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i * 7 + 1);
  Ed25519Signer log("chuqu.test/log", seed);
  seed[0] ^= 0xff;
  CosignatureSigner witness("witness.chuqu.test", seed, 1767139200);
  seed[1] ^= 0xff;
  Ed25519Signer impostor("chuqu.test/log", seed);  // same name, another key
  Write("log.vkey", log.VerifierKey() + "\n");
  Write("witness.vkey", witness.VerifierKey() + "\n");
  Line("keys log.vkey witness.vkey");

  const std::vector<uint64_t> sizes = {1, 2, 3, 7, 8, 100, 255, 256, 257, 300, 513};
  MemoryHashStore store;
  std::vector<std::string> entries;
  std::vector<std::string> checkpoints;  // file names, parallel to sizes
  uint64_t prev = 0;
  for (uint64_t size : sizes) {
    while (store.size() < size) {
      entries.push_back(MakeEntry(store.size()));
      store.Append(LeafHash(entries.back()));
    }
    // Tiles and entry bundles that change from prev to size.
    for (const Tile& t : NewTiles(prev, size)) {
      Write("tiles/" + TilePath(t), Must(ReadTileData(t, store), "tile"));
    }
    for (const Tile& t : NewEntryBundles(prev, size)) {
      std::vector<std::string> es(entries.begin() + t.index * kTileWidth,
                                  entries.begin() + t.index * kTileWidth + t.width);
      Write("tiles/" + TilePath(t), Must(EncodeEntryBundle(es), "bundle"));
    }
    Checkpoint cp{log.name(), size, Must(TreeHash(size, store), "root"), {}};
    const NoteSigner* signers[] = {&log, &witness};
    std::string name = "checkpoint." + std::to_string(size);
    Write(name, Must(SignCheckpoint(cp, signers), "sign"));
    checkpoints.push_back(name);
    Line("accept checkpoint " + name);
    Line("accept tiles " + name + " tiles");
    prev = size;
  }
  // Receipts: every index for small trees, a sample for larger ones.
  int receipts = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    uint64_t size = sizes[k];
    std::ifstream in(out_dir / checkpoints[k], std::ios::binary);
    std::string signed_cp((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (uint64_t i = 0; i < size; i += (size <= 8 ? 1 : 1 + size / 23)) {
      Receipt r = Must(BuildReceipt(i, signed_cp, store), "receipt");
      std::string rn = "receipts/" + std::to_string(i) + "-" + std::to_string(size) + ".tlog-proof";
      Write(rn, FormatReceipt(r));
      Line("accept inclusion " + rn + " entries/" + std::to_string(i));
      ++receipts;
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) Write("entries/" + std::to_string(i), entries[i]);
  // Consistency proofs between every pair of checkpoints.
  for (size_t a = 0; a < sizes.size(); ++a) {
    for (size_t b = a + 1; b < sizes.size(); ++b) {
      auto proof = Must(ConsistencyProof(sizes[a], sizes[b], store), "consistency");
      std::string pn = "consistency/" + std::to_string(sizes[a]) + "-" + std::to_string(sizes[b]);
      Write(pn, ProofText(proof));
      Line("accept consistency " + checkpoints[a] + " " + checkpoints[b] + " " + pn);
    }
  }
  // Tampered items: each must be rejected.
  std::ifstream in(out_dir / "receipts/42-300.tlog-proof", std::ios::binary);
  std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Receipt r = Must(ParseReceipt(good), "parse");
  Receipt bad_proof = r;
  bad_proof.proof[2][7] ^= 0x01;
  Write("bad/proof-byte.tlog-proof", FormatReceipt(bad_proof));
  Receipt bad_index = r;
  bad_index.index = 43;
  Write("bad/index.tlog-proof", FormatReceipt(bad_index));
  Receipt beyond = r;
  beyond.index = 300;
  Write("bad/beyond.tlog-proof", FormatReceipt(beyond));
  Checkpoint cp300{log.name(), 300, Must(TreeHash(300, store), "root"), {}};
  Checkpoint wrong_root = cp300;
  wrong_root.root_hash[0] ^= 1;
  const NoteSigner* impostor_signer[] = {&impostor};
  Receipt forged = r;
  forged.checkpoint = Must(SignCheckpoint(cp300, impostor_signer), "sign");
  Write("bad/other-key.tlog-proof", FormatReceipt(forged));
  std::string altered_cp = r.checkpoint;
  altered_cp.replace(altered_cp.find(HashToBase64(cp300.root_hash)), 44, HashToBase64(wrong_root.root_hash));
  Write("bad/altered-root.checkpoint", altered_cp);
  std::string bad_cons = ProofText(Must(ConsistencyProof(100, 300, store), "c"));
  bad_cons[3] = bad_cons[3] == 'A' ? 'B' : 'A';
  Write("bad/consistency-100-300", bad_cons);
  const std::string kBad[] = {
      "reject inclusion bad/proof-byte.tlog-proof entries/42",
      "reject inclusion receipts/42-300.tlog-proof entries/43",
      "reject inclusion bad/index.tlog-proof entries/42",
      "reject inclusion bad/beyond.tlog-proof entries/42",
      "reject inclusion bad/other-key.tlog-proof entries/42",
      "reject checkpoint bad/altered-root.checkpoint",
      "reject consistency checkpoint.100 checkpoint.300 bad/consistency-100-300",
      "reject consistency checkpoint.300 checkpoint.100 consistency/100-300",
  };
  for (const std::string& l : kBad) manifest << l << "\n";
  // Evidence bundles for `chuqu verify`: a good one, one with an altered entry, and contents.
  auto bundle = BuildBundle(entries[42], 42, r.checkpoint, store, log.VerifierKey(),
                            {witness.VerifierKey()});
  EvidenceBundle b = Must(std::move(bundle), "bundle");
  Write("evidence/42.json", FormatBundle(b));
  Write("evidence/content-42.txt", ContentOf(42));
  Write("evidence/content-43.txt", ContentOf(43));
  Write("evidence/impostor.vkey", impostor.VerifierKey() + "\n");
  b.entry = entries[43];
  Write("evidence/42-altered-entry.json", FormatBundle(b));
  // The tampered manifest claims the altered proof should be accepted.
  tampered_manifest << "accept inclusion bad/proof-byte.tlog-proof entries/42\n";
  std::cout << "wrote " << sizes.size() << " checkpoints, " << receipts << " receipts, "
            << sizes.size() * (sizes.size() - 1) / 2 << " consistency proofs, "
            << std::size(kBad) << " tampered items to " << out_dir << "\n";
  return 0;
}
