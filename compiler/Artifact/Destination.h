//===- Destination.h - where swaa-compile writes, safely -------*- C++ -*-===//
//
// `swaa-compile -o X` must never lose a user's data. An artifact is written
// into a fresh directory beside X (`.X.tmp-<pid>-<random>`) and moved into
// place when complete; what was at X is replaced only if swaa-compile
// recognizes it as its own:
//   - nothing, or an empty directory;
//   - a directory holding a manifest.json of the swaa artifact format and
//     no file that the artifact writer does not write;
//   - a regular file that an earlier `--emit` wrote (MLIR or LLVM IR text,
//     a --report table).
// Never a symbolic link (not followed, not replaced), never `.` or any
// directory that holds the working directory. An interrupt (SIGINT,
// SIGTERM) removes the temporary directory; one left by a killed compile
// is removed by the next compile to the same X once its process is gone.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_ARTIFACT_DESTINATION_H
#define SWAA_COMPILER_ARTIFACT_DESTINATION_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::swaa {

/// Closes the open stream `os` (flushing it) and returns its write error's
/// message, or "" when it wrote everything. The error is cleared: a stream
/// destroyed with an error set aborts the tool ("IO failure on output stream").
inline std::string closeOutput(llvm::raw_fd_ostream &os) {
  os.close();
  if (!os.has_error())
    return "";
  std::string why = os.error().message();
  os.clear_error();
  return why;
}

/// The names of the files an artifact directory holds (the code file, its
/// kept IR, object and link log, the manifest, the weights).
std::vector<std::string> artifactFiles(llvm::StringRef codeFile);

/// Whether an artifact may be written at `dir`; false with `error` set
/// (naming `dir` and why) otherwise. `files`: artifactFiles().
bool checkArtifactDestination(llvm::StringRef dir,
                              const std::vector<std::string> &files,
                              std::string &error);

/// Whether a text output (`--emit`, `--report`) may be written at `path`:
/// not a directory, not the working directory. An existing file or symbolic
/// link is replaced (renamed over), never written through.
bool checkTextDestination(llvm::StringRef path, std::string &error);

/// Writes `text` to `path` through a temporary file beside it renamed into
/// place ("-": standard output; a device or FIFO such as /dev/null is
/// written in place). False with `error` set on any write error
/// (a full disk included); nothing is left behind.
bool writeTextOutput(llvm::StringRef path, llvm::StringRef text,
                     std::string &error);

/// The temporary directory an artifact is built in.
class TemporaryArtifact {
public:
  TemporaryArtifact(llvm::StringRef dest, std::vector<std::string> files);
  ~TemporaryArtifact();
  /// Makes the directory (and removes stale ones of dead compiles).
  bool create(std::string &error);
  llvm::StringRef path() const { return tmp; }
  /// Replaces the destination with the directory (atomically where the
  /// file system can exchange two names).
  bool moveInto(std::string &error);
  /// Removes the directory and what the writer put in it.
  void remove();

private:
  std::string dest, tmp;
  std::vector<std::string> files;
};

} // namespace mlir::swaa

#endif // SWAA_COMPILER_ARTIFACT_DESTINATION_H
