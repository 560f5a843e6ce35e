// Typed errors of the FilePath operations, each naming the Java exception
// class a Java agent would have thrown, so the callable glue can answer the
// controller with the same exception type and message.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kite::filepath {

// The Java exception classes FilePath operations raise on a Java agent.
enum class JavaException {
  IOException,                   // java.io.IOException
  FileNotFoundException,         // java.io.FileNotFoundException
  FileSystemException,           // java.nio.file.FileSystemException
  NoSuchFileException,           // java.nio.file.NoSuchFileException
  AccessDeniedException,         // java.nio.file.AccessDeniedException
  FileAlreadyExistsException,    // java.nio.file.FileAlreadyExistsException
  DirectoryNotEmptyException,    // java.nio.file.DirectoryNotEmptyException
  NotDirectoryException,         // java.nio.file.NotDirectoryException
  MalformedInputException,       // java.nio.charset.MalformedInputException
  UnsupportedEncodingException,  // java.io.UnsupportedEncodingException
  IllegalArgumentException,      // java.lang.IllegalArgumentException
  FileMaskNoMatchesFoundException,  // hudson.FilePath$FileMaskNoMatchesFoundException
};

// Binary name of the Java class for `kind`, e.g. "java.nio.file.NoSuchFileException".
std::string_view java_class_name(JavaException kind);

// A failed operation: the Java exception to raise, its message (Java's
// getMessage() text), the path involved, the errno when a system call failed,
// and the underlying failure when the Java code wraps one (Throwable.getCause()).
struct Error {
  JavaException kind = JavaException::IOException;
  std::string message;
  std::string path;
  int error_number = 0;
  std::shared_ptr<const Error> cause;
  // Set by nio_error: the fields java.nio.file.FileSystemException builds its
  // message from ("<path>[ -> <other>][: <reason>]"); `other` empty means null.
  bool nio_fields = false;
  std::string other = {};
  std::optional<std::string> reason = {};

  std::string_view java_class() const { return java_class_name(kind); }
  // One line with the class, message and the chain of causes, for logs.
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

// Builds the exception java.nio (sun.nio.fs.UnixException) raises for `err`
// on `path` (and `other` for two-path operations): ENOENT gives
// NoSuchFileException, EACCES AccessDeniedException, EEXIST
// FileAlreadyExistsException, ENOTEMPTY DirectoryNotEmptyException, anything
// else (EPERM included) FileSystemException with the strerror text.
Error nio_error(int err, std::string_view path, std::string_view other = {});

// Builds the exception java.io.FileInputStream/FileOutputStream raise:
// FileNotFoundException "<path> (<strerror>)".
Error io_open_error(int err, std::string_view path);

// Builds a plain java.io.IOException with `message`.
Error io_error(std::string message, std::string_view path = {}, int err = 0);

// Wraps `cause` in a new exception of `kind` with `message`, as Java's
// `new IOException(message, cause)` does.
Error wrap(JavaException kind, std::string message, Error cause);

}  // namespace kite::filepath
