#include "registry/registry_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/open_store.h"
#include "store/postgres/pg_store.h"

namespace chuqu::registry {
namespace {

namespace fs = std::filesystem;

Status WriteNewFile(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::AlreadyExists(path + " exists or cannot be created");
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                  ::fsync(fd) == 0;
  if (::close(fd) != 0 || !ok) return Status::IOError("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Result<std::string> RegistryStoreLocation(const std::string& dir, const std::string& store_url) {
  const fs::path d(dir);
  const std::string db = (d / "log.db").string();
  const std::string url_file = (d / kStoreUrlFile).string();
  std::string location = store_url;
  if (location.empty() && fs::exists(url_file)) {
    std::ifstream in(url_file);
    std::getline(in, location);
    if (!store::IsPostgresUrl(location)) {
      return Status::InvalidArgument(url_file + " does not hold a postgresql:// URL");
    }
  }
  if (location.empty()) return db;
  if (!store::IsPostgresUrl(location)) {
    return Status::InvalidArgument("the store must be a postgresql:// URL (or empty for " + db +
                                   ")");
  }
  return location;
}

Result<std::unique_ptr<store::Store>> OpenRegistryStore(const std::string& dir,
                                                        const std::string& store_url,
                                                        bool create) {
  const fs::path d(dir);
  const std::string db = (d / "log.db").string();
  const std::string url_file = (d / kStoreUrlFile).string();
  if (create && fs::exists(url_file)) {
    return Status::AlreadyExists(dir + " already holds a registry (" + url_file + ")");
  }
  CHUQU_ASSIGN_OR_RETURN(const std::string location, RegistryStoreLocation(dir, store_url));
  const bool postgres = store::IsPostgresUrl(location);
  if (!create && !postgres && !fs::exists(db)) {
    return Status::NotFound("no registry in " + dir + " (run `chuqu init --data " + dir + "`)");
  }
  store::OpenStoreOptions options;
  options.create_if_missing = create;
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s, store::OpenStore(location, options));
  if (create) {
    CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<store::Snapshot> snap, s->NewSnapshot());
    CHUQU_ASSIGN_OR_RETURN(std::optional<store::CheckpointRecord> latest,
                           snap->LatestCheckpoint());
    if (latest) {
      return Status::AlreadyExists("the store " + store::PgStore::RedactUrl(location) +
                                   " already holds a log");
    }
    if (postgres) {
      CHUQU_RETURN_IF_ERROR(WriteNewFile(url_file, store::PgStore::StripPassword(location) + "\n"));
    }
  }
  return s;
}

}  // namespace chuqu::registry
