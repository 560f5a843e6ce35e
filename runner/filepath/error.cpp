#include "runner/filepath/error.hpp"

#include <cerrno>
#include <cstring>

namespace kite::filepath {

std::string_view java_class_name(JavaException kind) {
  switch (kind) {
    case JavaException::IOException: return "java.io.IOException";
    case JavaException::FileNotFoundException: return "java.io.FileNotFoundException";
    case JavaException::FileSystemException: return "java.nio.file.FileSystemException";
    case JavaException::NoSuchFileException: return "java.nio.file.NoSuchFileException";
    case JavaException::AccessDeniedException: return "java.nio.file.AccessDeniedException";
    case JavaException::FileAlreadyExistsException: return "java.nio.file.FileAlreadyExistsException";
    case JavaException::DirectoryNotEmptyException: return "java.nio.file.DirectoryNotEmptyException";
    case JavaException::NotDirectoryException: return "java.nio.file.NotDirectoryException";
    case JavaException::MalformedInputException: return "java.nio.charset.MalformedInputException";
    case JavaException::UnsupportedEncodingException: return "java.io.UnsupportedEncodingException";
    case JavaException::IllegalArgumentException: return "java.lang.IllegalArgumentException";
    case JavaException::FileMaskNoMatchesFoundException: return "hudson.FilePath$FileMaskNoMatchesFoundException";
  }
  return "java.io.IOException";
}

std::string Error::describe() const {
  std::string text{java_class()};
  if (!message.empty()) {
    text += ": ";
    text += message;
  }
  for (const Error* next = cause.get(); next != nullptr; next = next->cause.get()) {
    text += " (caused by ";
    text += next->java_class();
    if (!next->message.empty()) {
      text += ": ";
      text += next->message;
    }
    text += ")";
  }
  return text;
}

Error nio_error(int err, std::string_view path, std::string_view other) {
  Error error;
  error.path = std::string(path);
  error.other = std::string(other);
  error.error_number = err;
  error.nio_fields = true;

  // java.nio.file.FileSystemException.getMessage(): "file[ -> other][: reason]".
  std::string location{path};
  if (!other.empty()) {
    location += " -> ";
    location += other;
  }
  switch (err) {
    case ENOENT:
      error.kind = JavaException::NoSuchFileException;
      error.message = location;
      break;
    // EPERM (chmod of another user's file, for one) is not translated: the
    // JDK 17 gives FileSystemException "<path>: Operation not permitted".
    case EACCES:
      error.kind = JavaException::AccessDeniedException;
      error.message = location;
      break;
    case EEXIST:
      error.kind = JavaException::FileAlreadyExistsException;
      error.message = location;
      break;
    case ENOTEMPTY:
      error.kind = JavaException::DirectoryNotEmptyException;
      error.message = std::string(path);
      error.other.clear();
      break;
    case ELOOP:
      error.kind = JavaException::FileSystemException;
      error.reason = std::string(std::strerror(err)) + " or unable to access attributes of symbolic link";
      error.message = location + ": " + *error.reason;
      break;
    default:
      error.kind = JavaException::FileSystemException;
      error.reason = std::strerror(err);
      error.message = location + ": " + *error.reason;
      break;
  }
  return error;
}

Error io_open_error(int err, std::string_view path) {
  Error error;
  error.kind = JavaException::FileNotFoundException;
  error.path = std::string(path);
  error.error_number = err;
  error.message = std::string(path) + " (" + std::strerror(err) + ")";
  return error;
}

Error io_error(std::string message, std::string_view path, int err) {
  Error error;
  error.kind = JavaException::IOException;
  error.message = std::move(message);
  error.path = std::string(path);
  error.error_number = err;
  return error;
}

Error wrap(JavaException kind, std::string message, Error cause) {
  Error error;
  error.kind = kind;
  error.message = std::move(message);
  error.path = cause.path;
  error.error_number = cause.error_number;
  error.cause = std::make_shared<const Error>(std::move(cause));
  return error;
}

}  // namespace kite::filepath
