// chuqu log init|key|append|checkpoint|prove|consistency|check --data DIR ...: the verifiable
// log kept in a data directory (docs/log-store.md). Scripts rely on these forms and outputs:
//   init         creates DIR/log.key (0600), DIR/log.vkey and the store: DIR/log.db, or with
//                --store postgresql://... a PostgreSQL schema whose URL (no password) goes to
//                DIR/store.url, as `chuqu init` does; prints the vkey
//   key          prints the verifier key (Go note format: name+keyid+base64)
//   append FILE  appends FILE's bytes as one entry; prints its c2sp.org/tlog-proof@v1 receipt
//                once the entry and the checkpoint covering it are durable
//   checkpoint   prints the latest signed checkpoint
//   prove        --index N: a receipt for entry N against the latest checkpoint
//   consistency  --old SIZE: the proof from SIZE to the latest checkpoint, one base64 hash a line
//   check        re-derives every stored hash, tile and checkpoint from the entries
// Every command finds the store as a registry does (registry_store.h): --store, else the URL
// in DIR/store.url, else DIR/log.db; so `chuqu log check --data DIR` checks any registry's log.
// Exit codes: 0 ok; 1 the log or the system failed (corruption, I/O); 2 bad input.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "commands.h"
#include "ledger/log_view.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "ledger/sequencer.h"
#include "ledger/tiles.h"
#include "registry/registry_store.h"
#include "store/open_store.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu::app {
namespace {

namespace fs = std::filesystem;

struct LogFlags {
  std::string data;
  std::string store;  // "" = DIR/store.url's URL or DIR/log.db; or postgresql://...
  std::string origin = "localhost/chuqu-log";
  std::string file;
  std::string index;
  std::string old_size;
  bool quick_check = true;  // PRAGMA quick_check at open: O(database size)
};

std::string KeyPath(const LogFlags& f) { return (fs::path(f.data) / "log.key").string(); }
std::string VkeyPath(const LogFlags& f) { return (fs::path(f.data) / "log.vkey").string(); }
std::string DbPath(const LogFlags& f) { return (fs::path(f.data) / "log.db").string(); }

[[noreturn]] void Exit(std::string_view command, const Status& s) {
  std::cerr << "chuqu log " << command << ": " << s.ToString() << "\n";
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kResourceExhausted:
      throw CLI::RuntimeError(2);
    default:
      throw CLI::RuntimeError(1);
  }
}

// Decimal uint64 with no sign, no leading zeros (except "0") and no overflow.
Result<uint64_t> ParseUint64(std::string_view what, std::string_view text) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                   "' is not a decimal number without leading zeros");
  }
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                     "' is not a decimal number");
    }
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) {
      return Status::OutOfRange(std::string(what) + " '" + std::string(text) +
                                "' overflows a 64-bit size");
    }
    v = v * 10 + d;
  }
  return v;
}

Result<std::string> ReadFile(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > limit) {
      return Status::ResourceExhausted(path + " is over " + std::to_string(limit) +
                                       " bytes, the largest entry the log takes (store the "
                                       "work elsewhere and log its digest)");
    }
  }
  return data;
}

// Writes a new file with `mode`, failing if it exists (never overwrite a log key).
Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Status::AlreadyExists(path + " already exists");
    return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  }
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  if (!ok) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

Result<std::unique_ptr<ledger::Ed25519Signer>> LoadSigner(const LogFlags& f) {
  struct stat st;
  if (stat(KeyPath(f).c_str(), &st) != 0) {
    return Status::NotFound("no log key at " + KeyPath(f) + " (run `chuqu log init --data " +
                            f.data + "`)");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::PermissionDenied(KeyPath(f) +
                                    " is readable by others; chmod 600 it (it signs the log)");
  }
  CHUQU_ASSIGN_OR_RETURN(std::string skey, ReadFile(KeyPath(f), 4096));
  while (!skey.empty() && (skey.back() == '\n' || skey.back() == '\r')) skey.pop_back();
  return ledger::Ed25519Signer::FromSignerKey(skey);
}

Result<std::unique_ptr<store::Store>> OpenStore(const LogFlags& f) {
  CHUQU_ASSIGN_OR_RETURN(const std::string location,
                         registry::RegistryStoreLocation(f.data, f.store));
  if (!store::IsPostgresUrl(location) && !fs::exists(location)) {
    return Status::NotFound("no log database at " + location + " (run `chuqu log init --data " +
                            f.data + "`)");
  }
  store::OpenStoreOptions options;
  options.create_if_missing = false;
  options.quick_check_on_open = f.quick_check;
  return store::OpenStore(location, options);
}

// Everything a read command needs: the verifier and a snapshot.
struct ReadContext {
  std::unique_ptr<ledger::Ed25519Verifier> verifier;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::Snapshot> snapshot;
};

Result<ReadContext> OpenForRead(const LogFlags& f) {
  ReadContext c;
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<ledger::Ed25519Signer> signer, LoadSigner(f));
  c.verifier = signer->MakeVerifier();
  CHUQU_ASSIGN_OR_RETURN(c.store, OpenStore(f));
  CHUQU_ASSIGN_OR_RETURN(c.snapshot, c.store->NewSnapshot());
  return c;
}

Status Init(const LogFlags& f) {
  std::error_code ec;
  fs::create_directories(f.data, ec);
  if (ec) return Status::IOError("cannot create " + f.data + ": " + ec.message());
  if (fs::exists(KeyPath(f)) || fs::exists(DbPath(f))) {
    return Status::AlreadyExists("a log already exists in " + f.data);
  }
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<ledger::Ed25519Signer> signer,
                         ledger::Ed25519Signer::Generate(f.origin));
  // The store first: a PostgreSQL schema that already holds a log is refused before any key
  // is written.
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                         registry::OpenRegistryStore(f.data, f.store, /*create=*/true));
  CHUQU_RETURN_IF_ERROR(WriteNewFile(KeyPath(f), signer->SignerKey() + "\n", 0600));
  CHUQU_RETURN_IF_ERROR(WriteNewFile(VkeyPath(f), signer->VerifierKey() + "\n", 0644));
  CHUQU_RETURN_IF_ERROR(ledger::InitLog(*store, *signer));
  std::cout << signer->VerifierKey() << "\n";
  return Status::Ok();
}

Status Key(const LogFlags& f) {
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<ledger::Ed25519Signer> signer, LoadSigner(f));
  std::cout << signer->VerifierKey() << "\n";
  return Status::Ok();
}

// The log has one writer: concurrent `chuqu log append` processes (and any server on the same
// directory) take an exclusive flock on DIR/log.lock and wait their turn, so no process ever
// signs a checkpoint on a tree another process has already extended.
class WriterLock {
 public:
  static Result<WriterLock> Acquire(const LogFlags& f) {
    const std::string path = (fs::path(f.data) / "log.lock").string();
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        close(fd);
        return Status::IOError("cannot lock " + path + ": " + std::strerror(errno));
      }
    }
    return WriterLock(fd);
  }
  WriterLock(WriterLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  WriterLock& operator=(WriterLock&&) = delete;
  ~WriterLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

Status Append(const LogFlags& f) {
  CHUQU_ASSIGN_OR_RETURN(std::string entry, ReadFile(f.file, ledger::kMaxEntrySize));
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<ledger::Ed25519Signer> signer, LoadSigner(f));
  CHUQU_ASSIGN_OR_RETURN(WriterLock lock, WriterLock::Acquire(f));
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(f));
  ledger::SequencerOptions options;
  options.batch_interval = std::chrono::microseconds(0);  // one entry: commit at once
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<ledger::Sequencer> sequencer,
                         ledger::Sequencer::Start(*store, *signer, options));
  CHUQU_ASSIGN_OR_RETURN(ledger::SequencedEntry sequenced,
                         sequencer->Append(std::move(entry)).get());
  std::cout << ledger::FormatReceipt(sequenced.receipt);
  return Status::Ok();
}

Status PrintCheckpoint(const LogFlags& f) {
  CHUQU_ASSIGN_OR_RETURN(ReadContext c, OpenForRead(f));
  CHUQU_ASSIGN_OR_RETURN(ledger::LogCheckpoint latest,
                         ledger::LatestCheckpoint(*c.snapshot, *c.verifier));
  std::cout << latest.note;
  return Status::Ok();
}

Status Prove(const LogFlags& f) {
  CHUQU_ASSIGN_OR_RETURN(uint64_t index, ParseUint64("--index", f.index));
  CHUQU_ASSIGN_OR_RETURN(ReadContext c, OpenForRead(f));
  CHUQU_ASSIGN_OR_RETURN(ledger::Receipt receipt,
                         ledger::ProveEntry(*c.snapshot, *c.verifier, index));
  std::cout << ledger::FormatReceipt(receipt);
  return Status::Ok();
}

Status Consistency(const LogFlags& f) {
  CHUQU_ASSIGN_OR_RETURN(uint64_t old_size, ParseUint64("--old", f.old_size));
  CHUQU_ASSIGN_OR_RETURN(ReadContext c, OpenForRead(f));
  CHUQU_ASSIGN_OR_RETURN(std::vector<ledger::Hash> proof,
                         ledger::ProveConsistency(*c.snapshot, *c.verifier, old_size));
  for (const ledger::Hash& h : proof) std::cout << ledger::HashToBase64(h) << "\n";
  return Status::Ok();
}

Status Check(const LogFlags& f) {
  CHUQU_ASSIGN_OR_RETURN(ReadContext c, OpenForRead(f));
  // SQLite's own page check; PostgreSQL checks its pages itself. Either way CheckLog below
  // re-derives every hash, tile and checkpoint from the entries.
  if (auto* sqlite = dynamic_cast<store::SqliteStore*>(c.store.get())) {
    CHUQU_RETURN_IF_ERROR(sqlite->IntegrityCheck());
  }
  CHUQU_ASSIGN_OR_RETURN(ledger::LogCheckReport report, ledger::CheckLog(*c.snapshot, *c.verifier));
  std::cout << "ok: " << report.entries << " entries, " << report.checkpoints
            << " checkpoints, " << report.tiles << " tiles re-derived and verified\n";
  return Status::Ok();
}

}  // namespace

void AddLogCommand(CLI::App& app) {
  auto* log = app.add_subcommand("log", "The verifiable log: init, append, prove, check");
  log->require_subcommand(1);
  auto flags = std::make_shared<LogFlags>();
  auto add = [&](const char* name, const char* help, Status (*run)(const LogFlags&)) {
    auto* cmd = log->add_subcommand(name, help);
    cmd->add_option("--data", flags->data, "the log's data directory")->required();
    cmd->add_option("--store", flags->store,
                    "postgresql://USER@HOST[:PORT]/DB[?schema=NAME]: the log in PostgreSQL "
                    "(password from PGPASSWORD or ~/.pgpass); default: the URL in "
                    "DIR/store.url, else DIR/log.db (SQLite)");
    cmd->add_flag("!--no-quick-check", flags->quick_check,
                  "skip SQLite's quick_check at open (it reads the whole file; every value "
                  "served is still verified)");
    cmd->callback([flags, run, name] {
      Status s = run(*flags);
      if (!s.ok()) Exit(name, s);
    });
    return cmd;
  };
  add("init", "Create a log and its signing key in --data; print the verifier key", Init)
      ->add_option("--origin", flags->origin, "the log's origin and key name")
      ->capture_default_str();
  add("key", "Print the log's verifier key (Go note vkey format)", Key);
  add("append", "Append FILE's bytes as one entry; print its tlog-proof receipt when durable",
      Append)
      ->add_option("file", flags->file, "the entry's bytes (at most 65535)")
      ->required();
  add("checkpoint", "Print the latest signed checkpoint", PrintCheckpoint);
  add("prove", "Print a tlog-proof receipt for entry --index against the latest checkpoint",
      Prove)
      ->add_option("--index", flags->index, "the entry's index")
      ->required();
  add("consistency", "Print the consistency proof from --old to the latest checkpoint",
      Consistency)
      ->add_option("--old", flags->old_size, "the older tree size")
      ->required();
  add("check", "Re-derive every hash, tile and checkpoint from the entries; report mismatches",
      Check);
}

}  // namespace chuqu::app
