package kite.controller;

import hudson.FilePath;
import hudson.FilePath$Chmod;
import hudson.FilePath$CreateTempFile;
import hudson.FilePath$Delete;
import hudson.FilePath$DeleteRecursive;
import hudson.FilePath$Exists;
import hudson.FilePath$Length;
import hudson.FilePath$ListFilter;
import hudson.FilePath$Mkdirs;
import hudson.FilePath$Mode;
import hudson.FilePath$Read;
import hudson.FilePath$ReadLink;
import hudson.FilePath$ReadToString;
import hudson.FilePath$RenameTo;
import hudson.FilePath$Touch;
import hudson.FilePath$Write;
import hudson.remoting.Pipe;
import hudson.remoting.ProxyOutputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.List;

/**
 * Permission failures of FilePath operations. File modes do not stop root, so when this
 * controller runs as root, the agent under test must run as another user, and the fixtures
 * belong to root. tests/e2e/filepath starts the agent as uid 65534 with setpriv then. When the
 * controller is not root, the agent runs as the same user, and only the checks that owner
 * permissions can fail run. The expected exceptions are those the JDK 17 throws for the same
 * calls as a user without access. errno EACCES gives AccessDeniedException, and EPERM gives a
 * FileSystemException with the reason "Operation not permitted".
 */
final class FilePathDenied {
    private final FilePathCalls calls;
    private final Path base;

    FilePathDenied(FilePathCalls calls, Path base) {
        this.calls = calls;
        this.base = base;
    }

    private static String p(Path path) {
        return path.toString();
    }

    /** Expects AccessDeniedException for {@code path}, with getFile() naming it as the JDK does. */
    private void expectDenied(String what, FilePath.FileCallable callable, Path path) throws Exception {
        Throwable thrown = calls.expectThrown(what, callable, p(path), AccessDeniedException.class, p(path));
        if (thrown instanceof FileSystemException e) {
            Report.equal(p(path), e.getFile(), FilePathCalls.name(callable) + " " + what + " getFile()");
            Report.equal(null, e.getReason(), FilePathCalls.name(callable) + " " + what + " getReason()");
        }
    }

    void run() throws Exception {
        Files.createDirectories(base);
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path probe = base.resolve("probe");
        calls.expectValue("as the agent's user", new FilePath$Touch(1_000L), p(probe), null);
        int agentUid = uid(probe);
        int controllerUid = uid(Files.writeString(base.resolve("controller-probe"), "x"));
        Report.info("the agent runs as uid " + agentUid + ", the controller as uid " + controllerUid);
        if (agentUid == 0) {
            Report.fail("the agent runs as root, so file modes cannot deny it anything; start it as another user");
            return;
        }

        // A directory without any permission, which no user but root can search or list.
        Path closed = Files.createDirectories(base.resolve("closed"));
        Path secret = Files.writeString(closed.resolve("secret.txt"), "secret\n");
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("---------"));
        Report.info("checking a directory with mode 000 owned by uid " + uid(closed) + " as uid " + agentUid);
        try {
            closedDirectory(closed, secret);
        } finally {
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        }

        if (controllerUid == agentUid) {
            Report.info("SKIPPED: ownership checks (chmod of another user's file, deleting from another user's"
                    + " read-only directory) need the controller to run as root and the agent as another user");
            return;
        }
        Report.info("checking files owned by uid " + controllerUid + " in a read-only directory as uid " + agentUid);
        otherOwner();
    }

    private void closedDirectory(Path closed, Path secret) throws Exception {
        calls.expectValue("of a file in a closed directory", new FilePath$Exists(), p(secret), Boolean.FALSE);
        calls.expectValue("of a file in a closed directory", new FilePath$Length(), p(secret), 0L);
        expectDenied("of a file in a closed directory", new FilePath$ReadToString(), secret);
        expectDenied("of a file in a closed directory", new FilePath$Mode(), secret);
        calls.expectValue("of a file in a closed directory", new FilePath$ReadLink(), p(secret), null);
        calls.expectValue("of a closed directory", new FilePath$ListFilter(null), p(closed), Collections.emptyList());
        Path sub = closed.resolve("sub");
        expectDenied("in a closed directory", new FilePath$Mkdirs(), sub);
        Path created = closed.resolve("new.txt");
        expectDenied("in a closed directory", new FilePath$Write("UTF-8", "x"), created);
        expectDenied("in a closed directory", new FilePath$Touch(1L), created);
        calls.expectThrown("in a closed directory", new FilePath$CreateTempFile("kite", null), p(closed), IOException.class,
                "Permission denied");

        int oid = FilePathCalls.newOid();
        calls.expectValue("of a file in a closed directory", new FilePath$Read(Pipe.createRemoteToLocal(oid), null), p(secret), null);
        Report.equal(0, calls.received(oid).length, "Read of a file in a closed directory: no bytes in the pipe");
        List<ProxyOutputStream.EOF> ends = calls.ends(oid);
        Throwable error = ends.isEmpty() ? null : ends.get(0).error;
        Report.equal(AccessDeniedException.class.getName(), ConnectSequence.className(error),
                "Read of a file in a closed directory: the EOF carries the exception");
        Report.check(!Files.exists(created) && !Files.exists(sub), "nothing was created in the closed directory");
    }

    private void otherOwner() throws Exception {
        Path ro = Files.createDirectories(base.resolve("read-only"));
        Path keep = Files.writeString(ro.resolve("keep.txt"), "keep\n");
        Files.setPosixFilePermissions(keep, PosixFilePermissions.fromString("rw-r--r--"));
        Path tree = Files.createDirectories(ro.resolve("tree/inner"));
        Files.writeString(tree.resolve("t.txt"), "t");
        Files.setPosixFilePermissions(tree, PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path outside = base.resolve("moved.txt");
        try {
            calls.expectThrown("of another user's file", new FilePath$Chmod(0777), p(keep), FileSystemException.class,
                    keep + ": Operation not permitted");
            calls.expectThrown("out of another user's read-only directory", new FilePath$RenameTo(new FilePath(p(outside))), p(keep),
                    AccessDeniedException.class, keep + " -> " + outside);
            calls.expectThrown("from another user's read-only directory", new FilePath$Delete(), p(keep), IOException.class,
                    "Unable to delete '" + keep + "'. Tried 3 times (of a maximum of 3) waiting 0.1 sec between attempts.");
            // NOTE: a Java agent throws jenkins.util.io.CompositeIOException here, an IOException subclass
            // the serialization codec has no descriptor for; Kite sends java.io.IOException with the same message.
            calls.expectThrown("of a tree in another user's read-only directory", new FilePath$DeleteRecursive(), p(ro.resolve("tree")),
                    IOException.class,
                    "Unable to delete '" + ro.resolve("tree") + "'. Tried 3 times (of a maximum of 3) waiting 0.1 sec between attempts.");
            calls.expectThrown("in another user's read-only directory", new FilePath$CreateTempFile("kite", null), p(ro),
                    IOException.class, "Permission denied");
            Report.check(Files.exists(keep) && Files.exists(tree.resolve("t.txt")) && !Files.exists(outside, LinkOption.NOFOLLOW_LINKS),
                    "the read-only directory kept its files");
            Report.equal(PosixFilePermissions.fromString("rw-r--r--"), Files.getPosixFilePermissions(keep),
                    "the refused Chmod left the mode alone");
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(tree, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static int uid(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }
}
