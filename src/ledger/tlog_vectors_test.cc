// The tiled test logs in ../shared/data/tlog reproduced from their entries: Tessera's 15-entry
// log (tiles, entry bundles, every signed checkpoint byte for byte), Sunlight's 300-entry tree
// (tiles across a 256 boundary, a witness cosignature), and the derived receipt and witness
// request.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "ledger/test_util.h"
#include "ledger/tiles.h"

namespace chuqu::ledger {
namespace {

using testing::ReadFileOrDie;
using testing::ReadTlog;
using testing::TlogData;
using testing::Trim;

constexpr char kTessera[] = "transparency-dev-tessera/testdata/log/";
constexpr char kMirror[] =
    "sunlight/cmd/skylight/testdata/witness/mirror/"
    "000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/";
constexpr char kWitnessCp[] =
    "sunlight/cmd/skylight/testdata/witness/"
    "000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint";

// The first verifier key of a Sunlight witness description (mirror.v0.json, witness.v0.json).
std::string WitnessKey(const char* json_file) {
  auto j = nlohmann::json::parse(
      ReadTlog(std::string("sunlight/cmd/skylight/testdata/witness/") + json_file));
  return j["verifier_keys"][0].get<std::string>();
}

std::string TesseraKey(const char* which) {
  std::istringstream in(ReadTlog("transparency-dev-tessera/testdata/log-keys.txt"));
  std::string line;
  std::string prefix = std::string(which) + ": ";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  ADD_FAILURE() << "no " << which << " in log-keys.txt";
  return "";
}

std::vector<std::string> TesseraEntries() {
  auto entries = ParseEntryBundle(ReadTlog(std::string(kTessera) + "tile/entries/000.p/15"));
  EXPECT_TRUE(entries.ok());
  return entries.ok() ? *entries : std::vector<std::string>{};
}

// Reads tiles from a directory in the c2sp layout; a full tile is used when asked for a
// partial one and only the full one exists.
class DirTileReader final : public TileReader {
 public:
  explicit DirTileReader(std::string dir) : dir_(std::move(dir)) {}
  Result<std::vector<std::string>> ReadTiles(std::span<const Tile> tiles) const override {
    std::vector<std::string> out;
    for (const Tile& t : tiles) {
      std::string path = dir_ + TilePath(t);
      if (!std::filesystem::exists(path)) {
        Tile full = t;
        full.width = kTileWidth;
        path = dir_ + TilePath(full);
      }
      if (!std::filesystem::exists(path)) return Status::NotFound("no tile " + TilePath(t));
      out.push_back(ReadFileOrDie(path));
    }
    return out;
  }

 private:
  std::string dir_;
};

TEST(TilesTest, Paths) {
  EXPECT_EQ(TilePath({0, 1234067, 256, false}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath({0, 5, 256, false}), "tile/0/005");
  EXPECT_EQ(TilePath({1, 1000, 17, false}), "tile/1/x001/000.p/17");
  EXPECT_EQ(TilePath({0, 273, 112, true}), "tile/entries/273.p/112");
  EXPECT_EQ(TilePath({63, 0, 1, false}), "tile/63/000.p/1");
  for (const Tile& t : {Tile{0, 1234067, 256, false}, Tile{2, 0, 1, false}, Tile{0, 999, 255, true},
                        Tile{5, UINT64_MAX, 256, false}, Tile{0, 1000000, 3, true}}) {
    auto p = ParseTilePath(TilePath(t));
    ASSERT_TRUE(p.ok()) << TilePath(t);
    EXPECT_EQ(*p, t) << TilePath(t);
  }
  const char* kBad[] = {"", "tile", "tile/0", "tile/0/", "tile/0/5", "tile/0/0005", "tile/0/x005",
                        "tile/0/x000/005", "tile/0/005.p/0", "tile/0/005.p/256", "tile/0/005.p/007",
                        "tile/0/005.p/", "tile/64/000", "tile/01/000", "tile/-1/000",
                        "tile/0/005/", "tile/0/005x", "tile/data/000", "tiles/0/000",
                        "tile/0/x018/x446/x744/x073/x709/x551/616",  // 2^64: overflow
                        "tile/0/x1/005", "tile/0/00a"};
  for (const char* p : kBad) EXPECT_FALSE(ParseTilePath(p).ok()) << p;
}

TEST(TilesTest, TilesForSizeSpecExamples) {
  std::vector<Tile> t = TilesForSize(70000);
  ASSERT_EQ(t.size(), 273u + 1 + 1 + 1 + 1);
  EXPECT_EQ(TilePath(t[272]), "tile/0/272");
  EXPECT_EQ(TilePath(t[273]), "tile/0/273.p/112");
  EXPECT_EQ(TilePath(t[274]), "tile/1/000");
  EXPECT_EQ(TilePath(t[275]), "tile/1/001.p/17");
  EXPECT_EQ(TilePath(t[276]), "tile/2/000.p/1");
  std::vector<Tile> t256 = TilesForSize(256);
  ASSERT_EQ(t256.size(), 2u);
  EXPECT_EQ(TilePath(t256[0]), "tile/0/000");
  EXPECT_EQ(TilePath(t256[1]), "tile/1/000.p/1");
  EXPECT_TRUE(TilesForSize(0).empty());
  // NewTiles: what changes from 255 to 257.
  std::vector<Tile> n = NewTiles(255, 257);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(TilePath(n[0]), "tile/0/000");
  EXPECT_EQ(TilePath(n[1]), "tile/0/001.p/1");
  EXPECT_EQ(TilePath(n[2]), "tile/1/000.p/1");
  std::vector<Tile> e = NewEntryBundles(255, 257);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(TilePath(e[1]), "tile/entries/001.p/1");
  EXPECT_TRUE(NewTiles(300, 300).empty());
}

TEST(TilesTest, EntryBundles) {
  std::string b;
  EXPECT_TRUE(AppendBundleEntry(b, "ab").ok());
  EXPECT_TRUE(AppendBundleEntry(b, "").ok());
  EXPECT_EQ(b, std::string("\0\x02" "ab\0\0", 6));
  EXPECT_TRUE(AppendBundleEntry(b, std::string(65535, 'x')).ok());
  EXPECT_EQ(AppendBundleEntry(b, std::string(65536, 'x')).code(), StatusCode::kResourceExhausted);
  auto parsed = ParseEntryBundle(b);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[2].size(), 65535u);
  EXPECT_FALSE(ParseEntryBundle(std::string("\0", 1)).ok());
  EXPECT_FALSE(ParseEntryBundle(std::string("\0\x03" "ab", 4)).ok());
}

// Tessera's log: every tile, bundle and signed checkpoint reproduced byte for byte.
TEST(TesseraLogTest, ReproducedByteForByte) {
  std::vector<std::string> entries = TesseraEntries();
  ASSERT_EQ(entries.size(), 15u);
  EXPECT_EQ(entries[0], "one");
  EXPECT_EQ(entries[14], "fivten");
  auto signer = Ed25519Signer::FromSignerKey(TesseraKey("skey"));
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ((*signer)->VerifierKey(), TesseraKey("vkey"));
  auto verifier = (*signer)->MakeVerifier();
  const NoteSigner* signers[] = {signer->get()};
  MemoryHashStore store;
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= 15; ++n) {
    if (n > 0) store.Append(LeafHash(entries[n - 1]));
    Hash root = *TreeHash(n, store);
    roots.push_back(root);
    // The signed checkpoint, byte for byte (Ed25519 is deterministic).
    std::string file = ReadTlog(std::string(kTessera) + "checkpoint." + std::to_string(n));
    Checkpoint cp{"example.com/log/testdata", n, root, {}};
    auto signed_cp = SignCheckpoint(cp, signers);
    ASSERT_TRUE(signed_cp.ok());
    EXPECT_EQ(*signed_cp, file) << "checkpoint." << n;
    auto opened = OpenCheckpoint(file, *verifier, "example.com/log/testdata");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->checkpoint, cp);
    if (n == 0) continue;
    // Tiles and bundles.
    std::string dir = std::string(kTessera);
    Tile tile{0, 0, static_cast<int>(n), false};
    EXPECT_EQ(*ReadTileData(tile, store), ReadTlog(dir + TilePath(tile))) << n;
    Tile bundle{0, 0, static_cast<int>(n), true};
    std::vector<std::string> first(entries.begin(), entries.begin() + n);
    EXPECT_EQ(*EncodeEntryBundle(first), ReadTlog(dir + TilePath(bundle))) << n;
    std::vector<Tile> changed = NewTiles(n - 1, n);
    ASSERT_EQ(changed.size(), 1u);
    EXPECT_EQ(changed[0], tile);
  }
  EXPECT_EQ(ReadTlog(std::string(kTessera) + "checkpoint"), ReadTlog(std::string(kTessera) + "checkpoint.15"));
  // Consistency between every pair of checkpointed sizes.
  for (uint64_t a = 0; a <= 15; ++a) {
    for (uint64_t b = a; b <= 15; ++b) {
      auto proof = ConsistencyProof(a, b, store);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyConsistency(a, b, *proof, roots[a], roots[b]).ok()) << a << "->" << b;
    }
  }
}

TEST(TesseraLogTest, DerivedReceipt) {
  std::string text = ReadTlog("derived/tessera-log-index6-size15.tlog-proof");
  auto receipt = ParseReceipt(text);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->index, 6u);
  EXPECT_EQ(FormatReceipt(*receipt), text);
  auto v = Ed25519Verifier::FromVerifierKey(TesseraKey("vkey"));
  ASSERT_TRUE(v.ok());
  ReceiptPolicy policy;
  policy.log_key = v->get();
  auto ok = VerifyReceipt(*receipt, "seven", policy);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->checkpoint.size, 15u);
  EXPECT_FALSE(VerifyReceipt(*receipt, "eit", policy).ok());
  Receipt wrong_index = *receipt;
  wrong_index.index = 7;
  EXPECT_FALSE(VerifyReceipt(wrong_index, "seven", policy).ok());
  wrong_index.index = 15;
  EXPECT_EQ(VerifyReceipt(wrong_index, "seven", policy).status().code(), StatusCode::kOutOfRange);
  for (size_t i = 0; i < receipt->proof.size(); ++i) {
    Receipt r = *receipt;
    r.proof[i][i] ^= 0x10;
    EXPECT_EQ(VerifyReceipt(r, "seven", policy).status().code(), StatusCode::kCorruption);
  }
  policy.witness_quorum = 1;
  EXPECT_EQ(VerifyReceipt(*receipt, "seven", policy).status().code(), StatusCode::kUnauthenticated);
  // Our builder makes the same receipt byte for byte.
  MemoryHashStore store;
  for (const std::string& e : TesseraEntries()) store.Append(LeafHash(e));
  auto built = BuildReceipt(6, ReadTlog(std::string(kTessera) + "checkpoint.15"), store);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(FormatReceipt(*built), text);
  EXPECT_EQ(BuildReceipt(15, ReadTlog(std::string(kTessera) + "checkpoint.15"), store).status().code(),
            StatusCode::kOutOfRange);
}

TEST(TesseraLogTest, WitnessRequestConsistencyProof) {
  std::string body = ReadTlog("derived/tessera-log-add-checkpoint-7-to-15.txt");
  std::istringstream in(body);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "old 7");
  std::vector<Hash> proof;
  while (std::getline(in, line) && !line.empty()) proof.push_back(*HashFromBase64(line));
  ASSERT_EQ(proof.size(), 5u);
  MemoryHashStore store;
  for (const std::string& e : TesseraEntries()) store.Append(LeafHash(e));
  EXPECT_EQ(*ConsistencyProof(7, 15, store), proof);
  auto cp7 = ParseCheckpoint(ParseNote(ReadTlog(std::string(kTessera) + "checkpoint.7"))->text);
  auto cp15 = ParseCheckpoint(ParseNote(ReadTlog(std::string(kTessera) + "checkpoint.15"))->text);
  EXPECT_TRUE(VerifyConsistency(7, 15, proof, cp7->root_hash, cp15->root_hash).ok());
  EXPECT_FALSE(VerifyConsistency(8, 15, proof, cp7->root_hash, cp15->root_hash).ok());
}

// Sunlight's 300-entry tree: tiles across the 256 boundary and a cosigned checkpoint.
TEST(SunlightTreeTest, TilesAndCosignature) {
  MemoryHashStore store;
  for (int i = 0; i < 300; ++i) store.Append(LeafHash("record " + std::to_string(i)));
  std::string dir = TlogData(kMirror);
  for (const Tile& t : TilesForSize(300)) {
    EXPECT_EQ(*ReadTileData(t, store), ReadFileOrDie(dir + TilePath(t))) << TilePath(t);
  }
  ASSERT_EQ(TilesForSize(300).size(), 3u);
  std::string cp_text = ReadFileOrDie(dir + "checkpoint");
  auto mirror = ParseVerifierKey(WitnessKey("mirror/mirror.v0.json"));
  ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
  const NoteVerifier* ws[] = {mirror->get()};
  auto opened = OpenNote(cp_text, ws);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto cp = ParseCheckpoint(opened->text);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->origin, "rome2026h1.example.org");
  EXPECT_EQ(cp->root_hash, *TreeHash(300, store));
  auto cosigs = CollectCosignatures(*opened, ws);
  ASSERT_EQ(cosigs.size(), 1u);
  EXPECT_EQ(cosigs[0].witness, "mirror.example.org");
  EXPECT_EQ(cosigs[0].timestamp, 1767139200u);
  // Proofs read out of the tile files equal those from the stored hashes.
  DirTileReader files(dir);
  TileHashReader from_tiles(300, files);
  EXPECT_EQ(*TreeHash(300, from_tiles), cp->root_hash);
  for (uint64_t size : {1u, 255u, 256u, 257u, 299u, 300u}) {
    EXPECT_EQ(*TreeHash(size, from_tiles), *TreeHash(size, store)) << size;
  }
  for (uint64_t i = 0; i < 300; ++i) {
    auto p = InclusionProof(i, 300, from_tiles);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_EQ(*p, *InclusionProof(i, 300, store));
    ASSERT_TRUE(VerifyInclusion(i, 300, LeafHash("record " + std::to_string(i)), *p, cp->root_hash).ok());
  }
  EXPECT_EQ(*ConsistencyProof(100, 300, from_tiles), *ConsistencyProof(100, 300, store));
  // A hash beyond the tree is NotFound, not a crash.
  TileHashReader too_small(200, files);
  EXPECT_FALSE(InclusionProof(250, 300, too_small).ok());
  // A tampered cosignature is a failing known key: rejected.
  std::string bad = cp_text;
  bad[bad.size() - 10] = bad[bad.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(OpenNote(bad, ws).status().code(), StatusCode::kUnauthenticated);
}

TEST(SunlightTreeTest, WitnessCosignatureBesideRfc6962Signature) {
  std::string cp_text = ReadTlog(kWitnessCp);
  auto witness = ParseVerifierKey(WitnessKey("witness.v0.json"));
  ASSERT_TRUE(witness.ok());
  const NoteVerifier* ws[] = {witness->get()};
  auto opened = OpenNote(cp_text, ws);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->unverified.size(), 1u);  // the type-0x05 RFC 6962 signature: ignored
  auto cosigs = CollectCosignatures(*opened, ws);
  ASSERT_EQ(cosigs.size(), 1u);
  EXPECT_EQ(cosigs[0].witness, "witness.example.org");
}

TEST(CosignatureTest, SignAndVerify) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 7;
  CosignatureSigner signer("witness.test", seed, 1700000000);
  auto v = ParseVerifierKey(signer.VerifierKey());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->key_id(), signer.key_id());
  auto log = Ed25519Signer::Generate("log.test");
  Checkpoint cp{"log.test", 3, LeafHash("x"), {"ext line"}};
  const NoteSigner* signers[] = {log->get(), &signer};
  auto note = SignCheckpoint(cp, signers);
  ASSERT_TRUE(note.ok());
  auto lv = (*log)->MakeVerifier();
  const NoteVerifier* vs[] = {lv.get(), v->get()};
  auto opened = OpenNote(*note, vs);
  ASSERT_TRUE(opened.ok());
  const NoteVerifier* ws[] = {v->get()};
  auto cos = CollectCosignatures(*opened, ws);
  ASSERT_EQ(cos.size(), 1u);
  EXPECT_EQ(cos[0].timestamp, 1700000000u);
  // An Ed25519 (0x01) key of the same seed does not verify a cosignature.
  std::string text = FormatCheckpoint(cp);
  auto sig = signer.Sign(text);
  std::span<const uint8_t> sb(reinterpret_cast<const uint8_t*>(sig->data()), sig->size());
  EXPECT_TRUE((*v)->Verify(text, sb));
  EXPECT_FALSE((*v)->Verify(text + "x\n", sb));
  EXPECT_FALSE((*v)->Verify(text, sb.first(71)));
  std::string changed_time = *sig;
  changed_time[7] ^= 1;
  EXPECT_FALSE((*v)->Verify(text, {reinterpret_cast<const uint8_t*>(changed_time.data()), 72}));
  EXPECT_FALSE(CosignatureVerifier::FromVerifierKey(lv->VerifierKey()).ok());
}

TEST(CheckpointTest, ParseErrors) {
  std::string root = HashToBase64(EmptyRoot());
  EXPECT_TRUE(ParseCheckpoint("o\n0\n" + root + "\n").ok());
  EXPECT_TRUE(ParseCheckpoint("o\n18446744073709551615\n" + root + "\n").ok());
  const std::string kBad[] = {
      "o\n0\n" + root,                     // no final newline
      "o\n0\n",                            // two lines
      "\n0\n" + root + "\n",               // empty origin
      "o\n01\n" + root + "\n",             // leading zero
      "o\n-1\n" + root + "\n",             // sign
      "o\n+1\n" + root + "\n",
      "o\n 1\n" + root + "\n",
      "o\n18446744073709551616\n" + root + "\n",  // overflow
      "o\n1\nAAAA\n",                      // short hash
      "o\n1\n" + root + "\n\n",            // empty extension line
  };
  for (const std::string& t : kBad) EXPECT_FALSE(ParseCheckpoint(t).ok()) << t;
  EXPECT_EQ(ParseCheckpoint("o\n18446744073709551616\n" + root + "\n").status().code(),
            StatusCode::kOutOfRange);
  Checkpoint cp{"o", 5, EmptyRoot(), {"a", "b c"}};
  EXPECT_EQ(*ParseCheckpoint(FormatCheckpoint(cp)), cp);
}

TEST(ReceiptTest, ParseErrors) {
  std::string good = ReadTlog("derived/tessera-log-index6-size15.tlog-proof");
  ASSERT_TRUE(ParseReceipt(good).ok());
  auto with_extra = *ParseReceipt(good);
  with_extra.extra = "opaque";
  EXPECT_EQ(*ParseReceipt(FormatReceipt(with_extra)), with_extra);
  std::string head = "c2sp.org/tlog-proof@v1\n";
  std::string cp = good.substr(good.find("\n\n") + 2);
  const std::string kBad[] = {
      "",
      good.substr(0, good.find("\n\n")),
      "c2sp.org/tlog-proof@v2\nindex 6\n\n" + cp,
      head + "\n" + cp,
      head + "index 06\n\n" + cp,
      head + "index -6\n\n" + cp,
      head + "index 99999999999999999999\n\n" + cp,
      head + "extra !!\nindex 6\n\n" + cp,
      head + "index 6\nAAAA\n\n" + cp,
      head + "index 6\n\nnot a checkpoint\n",
      head + "index 6\n\n" + cp.substr(0, cp.size() - 1),
  };
  for (const std::string& t : kBad) EXPECT_FALSE(ParseReceipt(t).ok()) << t;
  std::string many = head + "index 6\n";
  for (int i = 0; i < 65; ++i) many += HashToBase64(EmptyRoot()) + "\n";
  EXPECT_FALSE(ParseReceipt(many + "\n" + cp).ok());
}

}  // namespace
}  // namespace chuqu::ledger
