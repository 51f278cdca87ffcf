//===- Destination.cpp - where swaa-compile writes, safely ----------------===//

#include "compiler/Artifact/Destination.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::swaa;

namespace {
std::string strip(llvm::StringRef path) {
  while (path.size() > 1 && path.ends_with("/"))
    path = path.drop_back();
  return path.str();
}

std::string parentOf(llvm::StringRef path) {
  llvm::StringRef parent = llvm::sys::path::parent_path(path);
  return parent.empty() ? "." : parent.str();
}

std::string join(llvm::StringRef dir, llvm::StringRef name) {
  llvm::SmallString<256> p(dir);
  llvm::sys::path::append(p, name);
  return p.str().str();
}

std::string realPath(const std::string &path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

/// Whether the directory `real` (a real path) is the working directory or
/// holds it.
bool holdsWorkingDirectory(const std::string &real) {
  std::string cwd = realPath(".");
  if (real.empty() || cwd.empty())
    return false;
  if (real == "/")
    return true;
  return cwd == real || llvm::StringRef(cwd).starts_with(real + "/");
}

/// The entries of a directory (without . and ..); false if unreadable.
bool listDirectory(const std::string &dir, std::vector<std::string> &out) {
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return false;
  while (struct dirent *e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    if (name != "." && name != "..")
      out.push_back(name.str());
  }
  ::closedir(d);
  return true;
}

/// Removes what the artifact writer puts in `dir` (regular files of those
/// names only), then the directory if that emptied it.
void removeArtifactDirectory(const std::string &dir,
                             const std::vector<std::string> &files) {
  for (const std::string &name : files) {
    std::string p = join(dir, name);
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      ::unlink(p.c_str());
  }
  ::rmdir(dir.c_str());
}

/// Whether `dir` is an artifact this compiler wrote (or an empty
/// directory); otherwise `why` says what is there.
bool isOwnArtifact(const std::string &dir,
                   const std::vector<std::string> &files, std::string &why) {
  std::vector<std::string> entries;
  if (!listDirectory(dir, entries)) {
    why = "cannot be read: " + std::string(std::strerror(errno));
    return false;
  }
  if (entries.empty())
    return true;
  std::sort(entries.begin(), entries.end());
  for (const std::string &name : entries) {
    struct stat st;
    bool regular =
        ::lstat(join(dir, name).c_str(), &st) == 0 && S_ISREG(st.st_mode);
    if (!regular ||
        std::find(files.begin(), files.end(), name) == files.end()) {
      why = "holds '" + name + "', which swaa-compile does not write";
      return false;
    }
  }
  std::ifstream in(join(dir, "manifest.json"), std::ios::binary);
  std::string text;
  if (in) {
    // A manifest is small; a large file of that name is not one.
    text.resize(64 << 20);
    in.read(text.data(), (std::streamsize)text.size());
    text.resize((size_t)in.gcount());
  }
  llvm::Expected<llvm::json::Value> manifest = llvm::json::parse(text);
  if (!manifest) {
    llvm::consumeError(manifest.takeError());
    why = "holds no swaa artifact manifest";
    return false;
  }
  const llvm::json::Object *o = manifest->getAsObject();
  std::optional<llvm::StringRef> format =
      o ? o->getString("format") : std::nullopt;
  if (!format || *format != "swaa-artifact") {
    why = "holds no swaa artifact manifest";
    return false;
  }
  return true;
}

/// Whether the regular file `path` is one that `swaa-compile --emit` (or
/// --report) writes: empty, MLIR or LLVM IR text, or a report.
bool isEmitFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char buf[64] = {0};
  in.read(buf, sizeof buf);
  llvm::StringRef head(buf, (size_t)in.gcount());
  head = head.ltrim();
  if (head.empty())
    return true;
  for (llvm::StringRef prefix :
       {"module", "#", "\"builtin.module\"", "; ModuleID", "recipe: ", "{-#"})
    if (head.starts_with(prefix))
      return true;
  return false;
}

/// Gives `path` the mode a newly created file or directory gets: `mode`
/// less the process's umask (temporaries are made 0600/0700).
void setOrdinaryMode(const std::string &path, mode_t mode) {
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(path.c_str(), mode & ~mask);
}

// The temporary directory that an interrupt removes (the files in it are
// registered with llvm::sys::RemoveFileOnSignal, removed before this runs).
char interruptedDirectory[PATH_MAX];

void removeOnSignal(void *) {
  if (interruptedDirectory[0])
    ::rmdir(interruptedDirectory);
}

void onInterrupt() {
  removeOnSignal(nullptr);
  const char message[] = "swaa-compile: interrupted\n";
  ssize_t ignored = ::write(2, message, sizeof message - 1);
  (void)ignored;
  _exit(130);
}
} // namespace

std::vector<std::string> swaa::artifactFiles(llvm::StringRef codeFile) {
  return {"manifest.json",         "weights.safetensors",
          codeFile.str(),          (codeFile + ".ll").str(),
          (codeFile + ".o").str(), (codeFile + ".log").str()};
}

bool swaa::checkArtifactDestination(llvm::StringRef dirRef,
                                    const std::vector<std::string> &files,
                                    std::string &error) {
  std::string dir = strip(dirRef);
  auto refuse = [&](const std::string &why) {
    error = "-o " + dir + ": " + why;
    return false;
  };
  if (dir.empty())
    return refuse("no output path");
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return true;
    return refuse(std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode))
    return refuse("is a symbolic link; swaa-compile neither follows nor "
                  "replaces one (give the path it points to, or remove it)");
  if (S_ISDIR(st.st_mode)) {
    if (holdsWorkingDirectory(realPath(dir)))
      return refuse("is the working directory or holds it; give a new "
                    "directory, e.g. -o model.swaa");
    std::string why;
    if (!isOwnArtifact(dir, files, why))
      return refuse("exists and is not a swaa artifact (it " + why +
                    "); remove it or give another path");
    return true;
  }
  if (S_ISREG(st.st_mode)) {
    if (!isEmitFile(dir))
      return refuse("is a file that swaa-compile did not write; remove it "
                    "or give another path");
    return true;
  }
  return refuse("exists and is neither a directory nor a regular file");
}

bool swaa::checkTextDestination(llvm::StringRef pathRef, std::string &error) {
  std::string path = strip(pathRef);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    error = "-o " + path + ": is a directory";
    return false;
  }
  return true;
}

bool swaa::writeTextOutput(llvm::StringRef pathRef, llvm::StringRef text,
                           std::string &error) {
  if (pathRef == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    if (llvm::outs().has_error()) {
      error =
          "cannot write the standard output: " + llvm::outs().error().message();
      llvm::outs().clear_error();
      return false;
    }
    return true;
  }
  if (!checkTextDestination(pathRef, error))
    return false;
  std::string path = strip(pathRef);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // A device or a FIFO (/dev/null, a pipe): written in place, never
    // renamed over.
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec) {
      error = "cannot write " + path + ": " + ec.message();
      return false;
    }
    os << text;
    if (std::string why = closeOutput(os); !why.empty()) {
      error = "cannot write " + path + ": " + why;
      return false;
    }
    return true;
  }
  std::string model =
      join(parentOf(path),
           "." + llvm::sys::path::filename(path).str() + ".tmp-%%%%%%%%");
  int fd = -1;
  llvm::SmallString<256> tmp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp)) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  llvm::sys::RemoveFileOnSignal(tmp);
  auto drop = [&] {
    llvm::sys::fs::remove(tmp);
    llvm::sys::DontRemoveFileOnSignal(tmp);
  };
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << text;
    if (std::string why = closeOutput(os); !why.empty()) {
      error = "cannot write " + path + ": " + why;
      drop();
      return false;
    }
  }
  // The mode an ordinary output file gets (createUniqueFile makes 0600).
  setOrdinaryMode(tmp.str().str(), 0666);
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    error = "cannot write " + path + ": " + ec.message();
    drop();
    return false;
  }
  llvm::sys::DontRemoveFileOnSignal(tmp);
  return true;
}

TemporaryArtifact::TemporaryArtifact(llvm::StringRef destRef,
                                     std::vector<std::string> files)
    : dest(strip(destRef)), files(std::move(files)) {}

TemporaryArtifact::~TemporaryArtifact() { remove(); }

bool TemporaryArtifact::create(std::string &error) {
  std::string parent = parentOf(dest);
  std::string prefix = "." + llvm::sys::path::filename(dest).str() + ".tmp-";
  // Directories of compiles to the same place that were killed: removed
  // once their process is gone.
  std::vector<std::string> entries;
  if (listDirectory(parent, entries))
    for (const std::string &name : entries) {
      llvm::StringRef rest(name);
      if (!rest.consume_front(prefix))
        continue;
      unsigned long pid = 0;
      if (rest.consumeInteger(10, pid) || !rest.starts_with("-") ||
          pid == (unsigned long)::getpid())
        continue;
      if (::kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        removeArtifactDirectory(join(parent, name), files);
    }
  std::string model =
      join(parent, prefix + std::to_string(::getpid()) + "-XXXXXX");
  if (!::mkdtemp(model.data())) {
    error = "cannot create a temporary directory beside " + dest + " (in " +
            parent + "): " + std::strerror(errno);
    return false;
  }
  tmp = model;
  // mkdtemp makes 0700; an artifact gets an ordinary directory's mode.
  setOrdinaryMode(tmp, 0777);
  for (const std::string &name : files)
    llvm::sys::RemoveFileOnSignal(join(tmp, name));
  std::snprintf(interruptedDirectory, sizeof interruptedDirectory, "%s",
                tmp.c_str());
  llvm::sys::SetInterruptFunction(onInterrupt);
  llvm::sys::AddSignalHandler(removeOnSignal, nullptr);
  return true;
}

bool TemporaryArtifact::moveInto(std::string &error) {
  struct stat st;
  bool exists = ::lstat(dest.c_str(), &st) == 0;
  auto done = [&] {
    std::string old = tmp;
    tmp.clear();
    interruptedDirectory[0] = 0;
    llvm::sys::SetInterruptFunction(nullptr);
    for (const std::string &name : files)
      llvm::sys::DontRemoveFileOnSignal(join(old, name));
    return true;
  };
  if (!exists) {
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
      error =
          "cannot move the artifact into " + dest + ": " + std::strerror(errno);
      remove();
      return false;
    }
    return done();
  }
  // Exchange the two names (one step: there is always a complete artifact
  // at `dest`), then remove the old one, now at the temporary name.
  auto removeOld = [&](const std::string &old) {
    struct stat o;
    if (::lstat(old.c_str(), &o) == 0 && S_ISDIR(o.st_mode))
      removeArtifactDirectory(old, files);
    else
      ::unlink(old.c_str());
  };
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dest.c_str(),
                  RENAME_EXCHANGE) == 0) {
    std::string old = tmp;
    done();
    removeOld(old);
    return true;
  }
  // A file system without the exchange: move the old one aside first.
  std::string aside =
      join(parentOf(dest), "." + llvm::sys::path::filename(dest).str() +
                               ".old-" + std::to_string(::getpid()));
  if (::rename(dest.c_str(), aside.c_str()) != 0) {
    error = "cannot replace " + dest + ": " + std::strerror(errno);
    remove();
    return false;
  }
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    error =
        "cannot move the artifact into " + dest + ": " + std::strerror(errno);
    ::rename(aside.c_str(), dest.c_str());
    remove();
    return false;
  }
  done();
  removeOld(aside);
  return true;
}

void TemporaryArtifact::remove() {
  if (tmp.empty())
    return;
  removeArtifactDirectory(tmp, files);
  for (const std::string &name : files)
    llvm::sys::DontRemoveFileOnSignal(join(tmp, name));
  tmp.clear();
  interruptedDirectory[0] = 0;
  llvm::sys::SetInterruptFunction(nullptr);
}
