package hudson;

import hudson.util.DirScanner;
import hudson.util.io.ArchiverFactory;
import java.io.OutputStream;
import java.nio.file.OpenOption;

/**
 * Mirror of FilePath$Archive, the record FilePath.archive sends (stash, zip and tar of a
 * directory): the agent scans the directory with {@code scanner}, writes the archive that
 * {@code factory} makes to {@code out} (a RemoteOutputStream) and returns the entry count. Jenkins
 * declares it as a record, so it is serialized by its components with serialVersionUID 0.
 */
public record FilePath$Archive(ArchiverFactory factory, OutputStream out, DirScanner scanner, String verificationRoot,
        OpenOption[] openOptions) implements FilePath.FileCallable {}
