package kite.controller;

import hudson.FilePath;
import hudson.FilePath$Absolutize;
import hudson.FilePath$Chmod;
import hudson.FilePath$CopyTo;
import hudson.FilePath$CopyToWithPermission;
import hudson.FilePath$CreateTempDir;
import hudson.FilePath$CreateTempFile;
import hudson.FilePath$CreateTextTempFile;
import hudson.FilePath$Delete;
import hudson.FilePath$DeleteContents;
import hudson.FilePath$DeleteRecursive;
import hudson.FilePath$DeleteSuffixesRecursive;
import hudson.FilePath$Digest;
import hudson.FilePath$DirectoryFilter;
import hudson.FilePath$Exists;
import hudson.FilePath$GetFreeDiskSpace;
import hudson.FilePath$GetHomeDirectory;
import hudson.FilePath$GetTotalDiskSpace;
import hudson.FilePath$GetUsableDiskSpace;
import hudson.FilePath$HasSymlink;
import hudson.FilePath$IsDescendant;
import hudson.FilePath$IsDirectory;
import hudson.FilePath$LastModified;
import hudson.FilePath$Length;
import hudson.FilePath$ListFilter;
import hudson.FilePath$ListGlob;
import hudson.FilePath$Mkdirs;
import hudson.FilePath$Mode;
import hudson.FilePath$MoveAllChildrenTo;
import hudson.FilePath$Read;
import hudson.FilePath$ReadLink;
import hudson.FilePath$ReadToString;
import hudson.FilePath$RenameTo;
import hudson.FilePath$SetLastModified;
import hudson.FilePath$SymlinkTo;
import hudson.FilePath$Touch;
import hudson.FilePath$ValidateAntFileMask;
import hudson.FilePath$Write;
import hudson.FilePath$WritePipe;
import hudson.model.StreamBuildListener;
import hudson.remoting.Pipe;
import hudson.remoting.ProxyOutputStream;
import hudson.remoting.RemoteOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * FilePath operations end to end: every FileCallable a controller sends through FilePath.act,
 * with its success and failure cases. Scenario {@code filepath} runs them as the agent's own
 * user; {@code filepath-denied} ({@link FilePathDenied}) checks permission failures and needs the
 * agent to run as a user other than the controller's when the controller is root.
 */
public final class FilePathScenarios {
    private Main m;
    private ControllerChannel ch;
    private FilePathCalls calls;
    private Path base;

    public FilePathScenarios() {}

    public boolean run(Main main, String scenario) throws Exception {
        if (!scenario.equals("filepath") && !scenario.equals("filepath-denied")) {
            return false;
        }
        this.m = main;
        ch = m.accept();
        if (ch == null) {
            return true;
        }
        ConnectSequence seq = new ConnectSequence(ch, m.o);
        seq.goOnline();
        calls = new FilePathCalls(ch, m.o.callTimeoutSeconds * 1000L);
        String root = m.o.workDir != null ? m.o.workDir : Files.createTempDirectory("kite-filepath").toString();
        if (scenario.equals("filepath")) {
            base = Files.createDirectories(Path.of(root, "filepath"));
            operations();
        } else {
            new FilePathDenied(calls, Path.of(root, "filepath-denied")).run();
        }
        Report.check(ch.commandErrors.isEmpty(), "every agent command deserialized");
        Report.check(ch.closeOrderly(10_000), "orderly close after the FilePath operations");
        ch.close();
        return true;
    }

    private void operations() throws Exception {
        Fixture f = new Fixture(base.resolve("data"));
        queries(f);
        mkdirsAndTouch();
        modes(f);
        reading(f);
        writing();
        copying(f);
        listing(f);
        validating(f);
        deleting();
        moving();
        temporaries();
        links(f);
        containment();
        misc(f);
        // Last: its ControllerStreams takes over the agent's Acks and Pipe$ConnectCommands.
        new FilePathArchives(ch, calls, base).run();
    }

    private String p(Path path) {
        return path.toString();
    }

    /** Files the read-only checks look at, made by the controller in the agent's work directory. */
    private static final class Fixture {
        final Path dir;
        final Path hello;
        final Path binary;
        final Path sub;
        final Path missing;
        final Path dangling;
        final Path linkToDir;
        final byte[] binaryBytes;

        Fixture(Path dir) throws IOException {
            this.dir = dir;
            hello = dir.resolve("hello.txt");
            binary = dir.resolve("blob.bin");
            sub = dir.resolve("sub");
            missing = dir.resolve("missing.txt");
            dangling = dir.resolve("dangling");
            linkToDir = dir.resolve("sublink");
            Files.createDirectories(sub.resolve("deep"));
            Files.createDirectories(dir.resolve(".git"));
            Files.createDirectories(dir.resolve("CVS"));
            Files.writeString(hello, "h\u00e9llo w\u00f6rld \u4e16\u754c\n", StandardCharsets.UTF_8);
            binaryBytes = new byte[300 * 1024 + 17];
            new Random(42).nextBytes(binaryBytes);
            Files.write(binary, binaryBytes);
            Files.writeString(sub.resolve("notes.txt"), "notes\n");
            Files.writeString(sub.resolve("deep/Main.java"), "class Main {}\n");
            Files.writeString(sub.resolve("deep/readme.TXT"), "upper case\n");
            Files.writeString(dir.resolve(".git/config.txt"), "[core]\n");
            Files.writeString(dir.resolve("CVS/Entries"), "/x/1.1///\n");
            Files.writeString(dir.resolve("backup.txt~"), "editor backup\n");
            Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xe9, '\n'});
            Files.createSymbolicLink(dangling, Path.of("nowhere"));
            Files.createSymbolicLink(linkToDir, Path.of("sub"));
            Files.setLastModifiedTime(hello, FileTime.fromMillis(1_600_000_000_123L));
        }
    }

    /** Compares Exists, IsDirectory, Length and LastModified with java.io.File in this JVM. */
    private void queries(Fixture f) throws Exception {
        for (Path path : List.of(f.hello, f.dir, f.missing, f.dangling, f.linkToDir)) {
            File file = path.toFile();
            String what = "on " + f.dir.relativize(path);
            if (path.equals(f.dir)) {
                what = "on the directory";
            }
            calls.expectLikeJava(what, new FilePath$Exists(), p(path), file::exists);
            calls.expectLikeJava(what, new FilePath$IsDirectory(), p(path), file::isDirectory);
            calls.expectLikeJava(what, new FilePath$Length(), p(path), file::length);
            calls.expectLikeJava(what, new FilePath$LastModified(), p(path), file::lastModified);
        }
        Report.equal(1_600_000_000_123L, f.hello.toFile().lastModified(), "fixture mtime keeps milliseconds");
    }

    private void mkdirsAndTouch() throws Exception {
        Path made = base.resolve("made/a/b/c");
        calls.expectValue("creates parents", new FilePath$Mkdirs(), p(made), Boolean.TRUE);
        Report.check(Files.isDirectory(made), "Mkdirs created " + made);
        calls.expectValue("on an existing directory", new FilePath$Mkdirs(), p(made), Boolean.TRUE);
        Path file = base.resolve("made/plain");
        Files.writeString(file, "x");
        Path under = file.resolve("sub");
        // Jenkins' mkdirs is Files.createDirectories when nothing exists at the path.
        calls.expectLikeJava("under a regular file", new FilePath$Mkdirs(), p(under), () -> Files.createDirectories(under));

        Path touched = base.resolve("made/touched.txt");
        calls.expectValue("creates the file", new FilePath$Touch(1_500_000_000_000L), p(touched), null);
        Report.check(Files.isRegularFile(touched), "Touch created " + touched);
        Report.equal(1_500_000_000_000L, touched.toFile().lastModified(), "Touch set the modification time");
        calls.expectValue("on an existing file", new FilePath$Touch(1_400_000_000_456L), p(file), null);
        Report.equal(1_400_000_000_456L, file.toFile().lastModified(), "Touch changed the modification time");
        Report.equal("x", Files.readString(file), "Touch kept the contents");
        calls.expectValue("on an existing file", new FilePath$SetLastModified(1_300_000_000_789L), p(file), null);
        Report.equal(1_300_000_000_789L, file.toFile().lastModified(), "SetLastModified changed the modification time");
        Path absent = base.resolve("made/absent.txt");
        calls.expectThrown("on a missing file", new FilePath$SetLastModified(5L), p(absent), IOException.class,
                "Failed to set the timestamp of " + absent + " to 5");
        Report.check(!Files.exists(absent), "SetLastModified did not create " + absent);
        Path orphan = base.resolve("made/no-such-dir/t.txt");
        calls.expectLikeJava("in a missing directory", new FilePath$Touch(1L), p(orphan), () -> {
            Files.newOutputStream(orphan).close();
            return null;
        });
    }

    /** Checks Chmod and Mode. Mode's oracle is Util.permissionsToMode over Files.getPosixFilePermissions. */
    private void modes(Fixture f) throws Exception {
        Path target = base.resolve("modes.sh");
        Files.writeString(target, "#!/bin/sh\n");
        calls.expectValue("0750", new FilePath$Chmod(0750), p(target), null);
        Report.equal(PosixFilePermissions.fromString("rwxr-x---"), Files.getPosixFilePermissions(target), "Chmod 0750 permissions");
        calls.expectValue("after Chmod 0750", new FilePath$Mode(), p(target), 0750);
        calls.expectValue("0644", new FilePath$Chmod(0644), p(target), null);
        calls.expectValue("after Chmod 0644", new FilePath$Mode(), p(target), 0644);
        // Bits above 07777 are a file type, so they are ignored. Setuid, setgid and sticky are rejected.
        calls.expectValue("with file-type bits 0100755", new FilePath$Chmod(0100755), p(target), null);
        calls.expectValue("after Chmod 0100755", new FilePath$Mode(), p(target), 0755);
        calls.expectThrown("with setuid", new FilePath$Chmod(04755), p(target), IOException.class, "Invalid mode: " + 04755);
        calls.expectThrown("with sticky", new FilePath$Chmod(01777), p(target), IOException.class, "Invalid mode: " + 01777);
        calls.expectLikeJava("on a missing file", new FilePath$Chmod(0600), p(f.missing), () -> {
            Files.setPosixFilePermissions(f.missing, PosixFilePermissions.fromString("rw-------"));
            return null;
        });
        calls.expectLikeJava("of the fixture", new FilePath$Mode(), p(f.hello), () -> permissionsToMode(f.hello));
        calls.expectLikeJava("through a link to a directory", new FilePath$Mode(), p(f.linkToDir), () -> permissionsToMode(f.linkToDir));
        calls.expectLikeJava("of a missing file", new FilePath$Mode(), p(f.missing), () -> permissionsToMode(f.missing));
        calls.expectLikeJava("of a dangling link", new FilePath$Mode(), p(f.dangling), () -> permissionsToMode(f.dangling));
    }

    static int permissionsToMode(Path path) throws IOException {
        Set<PosixFilePermission> set = Files.getPosixFilePermissions(path);
        int mode = 0;
        for (PosixFilePermission bit : PosixFilePermission.values()) {
            mode = (mode << 1) | (set.contains(bit) ? 1 : 0);
        }
        return mode;
    }

    /** Read through a remote-to-local Pipe, and ReadToString. */
    private void reading(Fixture f) throws Exception {
        readThroughPipe("of 300 KiB of random bytes", f.binary, f.binaryBytes);
        readThroughPipe("of UTF-8 text", f.hello, Files.readAllBytes(f.hello));
        Path empty = base.resolve("empty.txt");
        Files.write(empty, new byte[0]);
        readThroughPipe("of an empty file", empty, new byte[0]);
        readMissingThroughPipe(f.missing);

        calls.expectLikeJava("of UTF-8 text", new FilePath$ReadToString(), p(f.hello),
                () -> Files.readString(f.hello, StandardCharsets.UTF_8));
        calls.expectLikeJava("of ISO-8859-1 bytes", new FilePath$ReadToString(), p(f.dir.resolve("latin1.txt")),
                () -> Files.readString(f.dir.resolve("latin1.txt"), StandardCharsets.UTF_8));
        // Malformed UTF-8: Java's decoder reports a length that depends on the lead byte and what follows.
        String[] malformed = {"e9", "e90a", "e94142", "e282", "e28241", "e08080", "eda080", "c341", "c080", "80", "ff",
            "f09f98", "f09f41", "f5808080", "41e90a41"};
        for (String hex : malformed) {
            Path bad = Files.write(base.resolve("malformed-" + hex + ".txt"), HexFormat.of().parseHex(hex));
            calls.expectLikeJava("of the bytes " + hex, new FilePath$ReadToString(), p(bad),
                    () -> Files.readString(bad, StandardCharsets.UTF_8));
        }
        calls.expectLikeJava("of a missing file", new FilePath$ReadToString(), p(f.missing),
                () -> Files.readString(f.missing, StandardCharsets.UTF_8));
        calls.expectLikeJava("of a directory", new FilePath$ReadToString(), p(f.dir),
                () -> Files.readString(f.dir, StandardCharsets.UTF_8));
    }

    private void readThroughPipe(String what, Path file, byte[] expected) throws Exception {
        int oid = FilePathCalls.newOid();
        calls.expectValue(what, new FilePath$Read(Pipe.createRemoteToLocal(oid), null), p(file), null);
        byte[] got = calls.received(oid);
        int diff = Arrays.mismatch(expected, got);
        Report.check(diff < 0, "Read " + what + ": the pipe received " + got.length + " bytes, want " + expected.length
                + (diff < 0 ? "" : ", first difference at byte " + diff));
        List<ProxyOutputStream.EOF> ends = calls.ends(oid);
        Report.equal(1, ends.size(), "Read " + what + ": ProxyOutputStream$EOF commands for pipe " + oid);
        if (!ends.isEmpty()) {
            Report.equal(null, ends.get(0).error, "Read " + what + ": EOF carries no error");
        }
    }

    /**
     * A Java agent's Read catches the failure and hands it to the pipe (Pipe.error), so the
     * controller's stream ends with an EOF carrying the exception and the call returns null.
     */
    private void readMissingThroughPipe(Path missing) throws Exception {
        int oid = FilePathCalls.newOid();
        calls.expectValue("of a missing file", new FilePath$Read(Pipe.createRemoteToLocal(oid), null), p(missing), null);
        Report.equal(0, calls.received(oid).length, "Read of a missing file: no bytes in the pipe");
        List<ProxyOutputStream.EOF> ends = calls.ends(oid);
        Report.equal(1, ends.size(), "Read of a missing file: ProxyOutputStream$EOF commands");
        Throwable error = ends.isEmpty() ? null : ends.get(0).error;
        Report.equal(NoSuchFileException.class.getName(), ConnectSequence.className(error),
                "Read of a missing file: the EOF carries the exception");
        Report.equal(missing.toString(), error == null ? null : error.getMessage(), "Read of a missing file: exception message");
    }

    /** Write with charsets, and copyFrom through the agent's RemoteOutputStream (WritePipe). */
    private void writing() throws Exception {
        Path utf8 = base.resolve("written/deep/utf8.txt");
        String text = "caf\u00e9 \u4e16\u754c \ud83d\ude00\n";
        calls.expectValue("UTF-8 into missing directories", new FilePath$Write("UTF-8", text), p(utf8), null);
        Report.check(Arrays.equals(text.getBytes(StandardCharsets.UTF_8), Files.readAllBytes(utf8)), "Write UTF-8 bytes");
        Path latin = base.resolve("written/latin1.txt");
        calls.expectValue("ISO-8859-1 with an unmappable character", new FilePath$Write("ISO-8859-1", text), p(latin), null);
        Report.check(Arrays.equals(text.getBytes(StandardCharsets.ISO_8859_1), Files.readAllBytes(latin)),
                "Write ISO-8859-1 bytes (unmappable characters become '?')");
        Path utf16 = base.resolve("written/utf16.txt");
        calls.expectValue("UTF-16", new FilePath$Write("UTF-16", "A\u00e9"), p(utf16), null);
        Report.check(Arrays.equals("A\u00e9".getBytes(StandardCharsets.UTF_16), Files.readAllBytes(utf16)),
                "Write UTF-16 bytes (big-endian with a byte order mark)");
        Path platform = base.resolve("written/default.txt");
        calls.expectValue("in the agent's default charset", new FilePath$Write(null, text), p(platform), null);
        Report.check(Arrays.equals(text.getBytes(StandardCharsets.UTF_8), Files.readAllBytes(platform)),
                "Write with a null encoding uses UTF-8, the agent's default charset");
        Path bogus = base.resolve("written/bogus.txt");
        Path oracleFile = Files.createTempFile("kite-oracle", ".txt");
        calls.expectLikeJava("in an unknown charset", new FilePath$Write("x-no-such-charset", "a"), p(bogus), () -> {
            try (OutputStream out = Files.newOutputStream(oracleFile); OutputStreamWriter w = new OutputStreamWriter(out, "x-no-such-charset")) {
                w.write("a");
            }
            return null;
        });
        Files.deleteIfExists(oracleFile);
        Path dir = base.resolve("written");
        calls.expectLikeJava("onto a directory", new FilePath$Write("UTF-8", "a"), p(dir), () -> {
            Files.newOutputStream(dir).close();
            return null;
        });

        copyFromThroughWritePipe();
    }

    /**
     * FilePath.copyFrom on a remote path: WritePipe returns the agent's RemoteOutputStream, the
     * controller writes ProxyOutputStream$Chunks to it and ends with an EOF.
     */
    private void copyFromThroughWritePipe() throws Exception {
        Path target = base.resolve("copied/from/controller.bin");
        RemoteOutputStream out = calls.expectType("opens the file", new FilePath$WritePipe(), p(target), RemoteOutputStream.class);
        if (out == null) {
            return;
        }
        Report.check(Files.isRegularFile(target), "WritePipe created " + target + " and its parents");
        byte[] data = new byte[2 * 1024 * 1024 + 3];
        new Random(7).nextBytes(data);
        for (int pos = 0; pos < data.length; pos += 64 * 1024) {
            byte[] part = Arrays.copyOfRange(data, pos, Math.min(data.length, pos + 64 * 1024));
            ch.send(new ProxyOutputStream.Chunk(ch.ioIds.incrementAndGet(), out.oid(), 0, part));
        }
        ch.send(new ProxyOutputStream.EOF(ch.ioIds.incrementAndGet(), out.oid(), 0, null));
        // The next request carries the EOF's I/O id as lastIoId, so the agent has applied the
        // writes before it computes the digest.
        calls.expectValue("of the file copied through WritePipe", new FilePath$Digest(), p(target), md5(data));
        Report.check(Arrays.equals(data, Files.readAllBytes(target)),
                "copyFrom: the agent wrote the " + data.length + " bytes sent to RemoteOutputStream " + out.oid());

        Path blocked = base.resolve("copied/plain");
        Files.writeString(blocked, "x");
        Path under = blocked.resolve("child.bin");
        // WritePipe's mkdirs of the parent returns at once because something exists there, so the open fails.
        calls.expectLikeJava("under a regular file", new FilePath$WritePipe(), p(under), () -> Files.newOutputStream(under));
    }

    /** CopyTo into a controller stream, and CopyToWithPermission on the agent. */
    private void copying(Fixture f) throws Exception {
        int oid = FilePathCalls.newOid();
        calls.expectValue("into a controller stream", new FilePath$CopyTo(new RemoteOutputStream(oid)), p(f.binary), null);
        Report.check(Arrays.equals(f.binaryBytes, calls.received(oid)), "CopyTo: the stream received the file's bytes");
        Report.equal(1, calls.ends(oid).size(), "CopyTo closed the stream (EOF)");

        int missingOid = FilePathCalls.newOid();
        calls.expectLikeJava("of a missing file", new FilePath$CopyTo(new RemoteOutputStream(missingOid)), p(f.missing),
                () -> Files.newInputStream(f.missing));
        Report.equal(1, calls.ends(missingOid).size(), "CopyTo of a missing file still closed the stream (EOF)");

        Path source = base.resolve("perm-source.sh");
        Files.writeString(source, "#!/bin/sh\necho copied\n");
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxr-x--x"));
        Files.setLastModifiedTime(source, FileTime.fromMillis(1_234_567_890_000L));
        Path copy = base.resolve("perm/target/copy.sh");
        calls.expectValue("into missing directories", new FilePath$CopyToWithPermission(new FilePath(p(copy))), p(source), null);
        Report.equal("#!/bin/sh\necho copied\n", Files.exists(copy) ? Files.readString(copy) : null, "CopyToWithPermission contents");
        Report.equal(PosixFilePermissions.fromString("rwxr-x--x"), Files.exists(copy) ? Files.getPosixFilePermissions(copy) : null,
                "CopyToWithPermission kept the permissions");
        Report.equal(1_234_567_890_000L, copy.toFile().lastModified(), "CopyToWithPermission kept the modification time");
        Path missingCopy = base.resolve("perm/target/none.sh");
        calls.expectLikeJava("of a missing file", new FilePath$CopyToWithPermission(new FilePath(p(missingCopy))), p(f.missing),
                () -> Files.copy(f.missing, missingCopy, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING));
    }

    /** Checks ListFilter (list, listDirectories) against File.listFiles, and ListGlob against Ant's rules. */
    private void listing(Fixture f) throws Exception {
        List<?> all = calls.expectType("of the fixture directory", new FilePath$ListFilter(null), p(f.dir), ArrayList.class);
        if (all != null) {
            Report.equal(names(f.dir.toFile().listFiles()), remotes(all), "ListFilter (list) children");
            Report.check(all.stream().allMatch(o -> o instanceof FilePath fp && fp.localToWriter),
                    "ListFilter FilePaths are marked local to the agent that wrote them");
        }
        List<?> dirs = calls.expectType("with DirectoryFilter", new FilePath$ListFilter(new FilePath$DirectoryFilter()), p(f.dir),
                ArrayList.class);
        if (dirs != null) {
            Report.equal(names(f.dir.toFile().listFiles(File::isDirectory)), remotes(dirs),
                    "ListFilter (listDirectories) children, the link to a directory included");
        }
        // File.listFiles returns null for a file or a missing path; Jenkins returns Collections.emptyList().
        calls.expectValue("of a regular file", new FilePath$ListFilter(null), p(f.hello), Collections.emptyList());
        calls.expectValue("of a missing directory", new FilePath$ListFilter(null), p(f.missing), Collections.emptyList());

        // Ant follows symbolic links by default, so "sublink" lists sub's files again; "dangling" is no file.
        glob(f, "**/*.txt", null, true, "hello.txt", "latin1.txt", "sub/notes.txt", "sublink/notes.txt");
        glob(f, "**/*.txt", null, false, ".git/config.txt", "hello.txt", "latin1.txt", "sub/notes.txt", "sublink/notes.txt");
        glob(f, "**", "**/*.bin, sub*/deep/", true, "hello.txt", "latin1.txt", "sub/notes.txt", "sublink/notes.txt");
        glob(f, "**", null, false, ".git/config.txt", "CVS/Entries", "backup.txt~", "blob.bin", "hello.txt", "latin1.txt",
                "sub/deep/Main.java", "sub/deep/readme.TXT", "sub/notes.txt",
                "sublink/deep/Main.java", "sublink/deep/readme.TXT", "sublink/notes.txt");
        glob(f, "sub/*/*.java,  hello.*", null, true, "hello.txt", "sub/deep/Main.java");
        glob(f, "sub\\deep\\*.TXT", null, true, "sub/deep/readme.TXT");
        glob(f, "sub/deep/*.txt", null, true);
        calls.expectThrown("with an absolute pattern", new FilePath$ListGlob("/etc/*", null, true), p(f.dir), IOException.class,
                "Expecting Ant GLOB pattern, but saw '/etc/*'. See https://ant.apache.org/manual/Types/fileset.html for syntax");
        // Ant's FileSet rejects a base directory that is missing or not a directory (BuildException,
        // whose message Jenkins rethrows as an IOException).
        calls.expectThrown("in a missing directory", new FilePath$ListGlob("**", null, true), p(f.missing), IOException.class,
                f.missing + " does not exist.");
        calls.expectThrown("in a regular file", new FilePath$ListGlob("**", null, true), p(f.hello), IOException.class,
                f.hello + " is not a directory.");
    }

    private void glob(Fixture f, String includes, String excludes, boolean defaultExcludes, String... expected) throws Exception {
        String what = "includes '" + includes + "'" + (excludes == null ? "" : " excludes '" + excludes + "'")
                + (defaultExcludes ? "" : " without default excludes");
        FilePath[] found = calls.expectType(what, new FilePath$ListGlob(includes, excludes, defaultExcludes), p(f.dir), FilePath[].class);
        if (found == null) {
            return;
        }
        TreeSet<String> want = new TreeSet<>();
        for (String e : expected) {
            want.add(f.dir.resolve(e).toString());
        }
        Report.equal(want, remotes(Arrays.asList(found)), "ListGlob " + what);
    }

    private static TreeSet<String> names(File[] files) {
        TreeSet<String> s = new TreeSet<>();
        for (File file : files) {
            s.add(file.getPath());
        }
        return s;
    }

    private static TreeSet<String> remotes(List<?> paths) {
        TreeSet<String> s = new TreeSet<>();
        for (Object o : paths) {
            s.add(o instanceof FilePath fp ? fp.remote : String.valueOf(o));
        }
        return s;
    }

    /** ValidateAntFileMask with the texts of Jenkins' hudson/Messages.properties. */
    private void validating(Fixture f) throws Exception {
        String dir = p(f.dir);
        calls.expectValue("when every mask matches", new FilePath$ValidateAntFileMask("**/*.txt, sub/deep/*.java", true, 10000), dir, null);
        calls.expectValue("for a directory", new FilePath$ValidateAntFileMask("sub/deep", true, 10000), dir, null);
        calls.expectValue("ignoring case", new FilePath$ValidateAntFileMask("SUB/DEEP/*.java", false, 10000), dir, null);
        calls.expectValue("with a tilde", new FilePath$ValidateAntFileMask("~/x", true, 10000), dir,
                "\u2018~\u2019 is only supported in a Unix shell and nowhere else.");
        calls.expectValue("matching nothing", new FilePath$ValidateAntFileMask("nothing/*.zip", true, 10000), dir,
                "\u2018nothing/*.zip\u2019 doesn\u2019t match anything: even \u2018nothing\u2019 doesn\u2019t exist");
        calls.expectValue("matching only without case", new FilePath$ValidateAntFileMask("sub/deep/*.JAVA", true, 10000), dir,
                "\u2018sub/deep/*.JAVA\u2019 doesn\u2019t match anything because it is treated case sensitively."
                        + " You can deactivate case sensitivity to get matches");
        calls.expectValue("separated by whitespace", new FilePath$ValidateAntFileMask("hello.txt sub/notes.txt", true, 10000), dir,
                "Whitespace can no longer be used as the separator. Please Use \u2018,\u2019 as the separator instead.");
        calls.expectValue("with a base directory too many", new FilePath$ValidateAntFileMask("data/sub/notes.txt", true, 10000), dir,
                "\u2018data/sub/notes.txt\u2019 doesn\u2019t match anything, but \u2018sub/notes.txt\u2019 does. Perhaps that\u2019s what you mean?");
        calls.expectValue("with a base directory missing", new FilePath$ValidateAntFileMask("deep/Main.java", true, 10000), dir,
                "\u2018deep/Main.java\u2019 doesn\u2019t match anything, but \u2018sub/deep/Main.java\u2019 does. Perhaps that\u2019s what you mean?");
        // A scan that visits more entries than the bound without a match gives up.
        Path many = Files.createDirectories(base.resolve("validate-many"));
        for (int i = 0; i < 60; i++) {
            Files.writeString(many.resolve("file" + i + ".txt"), "x");
        }
        calls.expectThrown("past its bound", new FilePath$ValidateAntFileMask("**/*.zip", true, 5), p(many),
                hudson.FilePath$FileMaskNoMatchesFoundException.class, "no matches found within 5");
        calls.expectValue("with a missing file in an existing directory", new FilePath$ValidateAntFileMask("sub/none.txt", true, 10000), dir,
                "\u2018sub/none.txt\u2019 doesn\u2019t match anything: \u2018sub\u2019 exists but not \u2018sub/none.txt\u2019");
    }

    /** Delete, DeleteRecursive and DeleteContents; deletion never follows a symbolic link. */
    private void deleting() throws Exception {
        Path area = Files.createDirectories(base.resolve("delete"));
        Path outside = Files.createDirectories(base.resolve("delete-outside"));
        Files.writeString(outside.resolve("keep.txt"), "must survive\n");

        Path file = Files.writeString(area.resolve("one.txt"), "1");
        calls.expectValue("of a file", new FilePath$Delete(), p(file), null);
        Report.check(!Files.exists(file), "Delete removed " + file);
        calls.expectValue("of a missing file", new FilePath$Delete(), p(file), null);
        Path link = area.resolve("outside-link");
        Files.createSymbolicLink(link, outside);
        calls.expectValue("of a link to a directory", new FilePath$Delete(), p(link), null);
        Report.check(!Files.exists(link, LinkOption.NOFOLLOW_LINKS) && Files.exists(outside.resolve("keep.txt")),
                "Delete removed the link, not its target");
        Path full = Files.createDirectories(area.resolve("full"));
        Files.writeString(full.resolve("x"), "x");
        calls.expectThrown("of a non-empty directory", new FilePath$Delete(), p(full), IOException.class,
                "Unable to delete '" + full + "'. Tried 3 times (of a maximum of 3) waiting 0.1 sec between attempts.");

        Path tree = Files.createDirectories(area.resolve("tree/a/b"));
        Files.writeString(tree.resolve("f.txt"), "f");
        Path readOnly = Files.createDirectories(area.resolve("tree/ro"));
        Files.writeString(readOnly.resolve("locked.txt"), "l");
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.createSymbolicLink(area.resolve("tree/a/escape"), outside);
        calls.expectValue("of a tree with a read-only directory and a link out", new FilePath$DeleteRecursive(),
                p(area.resolve("tree")), null);
        Report.check(!Files.exists(area.resolve("tree"), LinkOption.NOFOLLOW_LINKS), "DeleteRecursive removed the tree");
        Report.check(Files.exists(outside.resolve("keep.txt")), "DeleteRecursive did not follow the link out of the tree");
        calls.expectValue("of a missing path", new FilePath$DeleteRecursive(), p(area.resolve("tree")), null);

        Path contents = Files.createDirectories(area.resolve("contents/x/y"));
        Files.writeString(area.resolve("contents/top.txt"), "t");
        Files.createSymbolicLink(area.resolve("contents/escape"), outside);
        calls.expectValue("of a directory", new FilePath$DeleteContents(), p(area.resolve("contents")), null);
        suffixes(area, outside);
        try (var left = Files.list(area.resolve("contents"))) {
            Report.equal(0L, left.count(), "DeleteContents emptied the directory");
        }
        Report.check(Files.isDirectory(area.resolve("contents")), "DeleteContents kept the directory itself");
        Report.check(Files.exists(outside.resolve("keep.txt")), "DeleteContents did not follow the link");
        Report.check(!Files.exists(contents), "DeleteContents removed nested directories");
    }

    /** DeleteSuffixesRecursive removes ws@tmp, ws@2 and the like, and nothing else. */
    private void suffixes(Path area, Path outside) throws Exception {
        Path ws = Files.createDirectories(area.resolve("ws"));
        Files.writeString(ws.resolve("keep.txt"), "k");
        for (String sibling : List.of("ws@tmp/durable-1", "ws@2/src", "ws@libs/lib")) {
            Files.createDirectories(area.resolve(sibling));
            Files.writeString(area.resolve(sibling).resolve("f.txt"), "f");
        }
        Files.createSymbolicLink(area.resolve("ws@tmp/escape"), outside);
        Files.createDirectories(area.resolve("wsother"));
        Files.writeString(area.resolve("ws@file"), "a file is deleted too");
        calls.expectValue("next to a workspace", new FilePath$DeleteSuffixesRecursive(), p(ws), null);
        for (String gone : List.of("ws@tmp", "ws@2", "ws@libs", "ws@file")) {
            Report.check(!Files.exists(area.resolve(gone), LinkOption.NOFOLLOW_LINKS), "DeleteSuffixesRecursive removed " + gone);
        }
        Report.check(Files.exists(ws.resolve("keep.txt")) && Files.isDirectory(area.resolve("wsother")),
                "DeleteSuffixesRecursive kept the workspace and wsother");
        Report.check(Files.exists(outside.resolve("keep.txt")), "DeleteSuffixesRecursive did not follow the link out");
        calls.expectValue("with a missing parent", new FilePath$DeleteSuffixesRecursive(), p(area.resolve("none/ws")), null);
    }

    /** RenameTo and MoveAllChildrenTo, with the oracles of Files.move and File.renameTo. */
    private void moving() throws Exception {
        Path area = Files.createDirectories(base.resolve("move"));
        Path from = Files.writeString(area.resolve("from.txt"), "moved");
        Path to = area.resolve("to.txt");
        calls.expectValue("to a new name", new FilePath$RenameTo(new FilePath(p(to))), p(from), null);
        Report.check(!Files.exists(from) && "moved".equals(Files.exists(to) ? Files.readString(to) : null), "RenameTo moved the file");
        Path other = Files.writeString(area.resolve("other.txt"), "other");
        calls.expectLikeJava("onto an existing file", new FilePath$RenameTo(new FilePath(p(to))), p(other),
                () -> Files.move(other, to, LinkOption.NOFOLLOW_LINKS));
        Path missing = area.resolve("missing");
        calls.expectLikeJava("of a missing file", new FilePath$RenameTo(new FilePath(p(to.resolveSibling("x")))), p(missing),
                () -> Files.move(missing, to.resolveSibling("x"), LinkOption.NOFOLLOW_LINKS));

        // The source contains a child with its own name, the case the ".__rename" step exists for.
        Path source = Files.createDirectories(area.resolve("pkg"));
        Files.createDirectories(source.resolve("pkg/inner"));
        Files.writeString(source.resolve("pkg/inner/a.txt"), "a");
        Files.writeString(source.resolve("b.txt"), "b");
        Path target = Files.createDirectories(area.resolve("dest"));
        calls.expectValue("with a child named like its directory", new FilePath$MoveAllChildrenTo(new FilePath(p(target))), p(source), null);
        Report.check(!Files.exists(source) && !Files.exists(area.resolve("pkg.__rename")), "MoveAllChildrenTo removed the source");
        Report.check(Files.exists(target.resolve("pkg/inner/a.txt")) && Files.exists(target.resolve("b.txt")),
                "MoveAllChildrenTo moved every child");
        File gone = source.toFile();
        calls.expectThrown("of a missing directory", new FilePath$MoveAllChildrenTo(new FilePath(p(target))), p(source),
                IOException.class, "Failed to rename " + gone + " to " + gone.getAbsolutePath() + ".__rename");
    }

    /** CreateTempFile, CreateTextTempFile and CreateTempDir, against File.createTempFile's rules. */
    private void temporaries() throws Exception {
        Path dir = Files.createDirectories(base.resolve("temp"));
        String name = calls.expectType("with a suffix", new FilePath$CreateTempFile("kite", ".part"), p(dir), String.class);
        if (name != null) {
            Report.check(name.matches("kite[0-9]+\\.part") && Files.isRegularFile(dir.resolve(name)),
                    "CreateTempFile returned the name of a new file kite<digits>.part: " + name);
        }
        String plain = calls.expectType("without a suffix", new FilePath$CreateTempFile("kite", null), p(dir), String.class);
        if (plain != null) {
            Report.check(plain.matches("kite[0-9]+\\.tmp"), "CreateTempFile uses .tmp without a suffix: " + plain);
        }
        calls.expectLikeJava("with a two-character prefix", new FilePath$CreateTempFile("ab", null), p(dir),
                () -> File.createTempFile("ab", null, dir.toFile()));
        Path missing = base.resolve("temp-missing");
        calls.expectLikeJava("in a missing directory", new FilePath$CreateTempFile("kite", null), p(missing),
                () -> File.createTempFile("kite", null, missing.toFile()));

        Path textDir = base.resolve("temp-text/new");
        String text = "#!/bin/sh\necho \u00e9\u4e16\n";
        String created = calls.expectType("in a missing directory", new FilePath$CreateTextTempFile(true, "jenkins", ".sh", text),
                p(textDir), String.class);
        if (created != null) {
            Report.check(created.matches(java.util.regex.Pattern.quote(textDir.toString()) + "/jenkins[0-9]+\\.sh"),
                    "CreateTextTempFile returned an absolute path in the directory: " + created);
            Report.check(Arrays.equals(text.getBytes(StandardCharsets.UTF_8), Files.readAllBytes(Path.of(created))),
                    "CreateTextTempFile wrote the text in UTF-8");
        }
        Path blocked = Files.writeString(base.resolve("temp-file"), "x");
        Path under = blocked.resolve("d");
        calls.expectLikeJava("under a regular file", new FilePath$CreateTextTempFile(true, "jenkins", ".sh", "x"), p(under),
                () -> Files.createDirectories(under));

        String tempDir = calls.expectType("named build.tmp", new FilePath$CreateTempDir("build.tmp"), p(dir), String.class);
        if (tempDir != null) {
            Path made = dir.resolve(tempDir);
            Path oracle = Files.createTempDirectory(dir, "oracle", PosixFilePermissions.asFileAttribute(EnumSet.allOf(PosixFilePermission.class)));
            Report.check(tempDir.matches("build\\.tmp[0-9]+") && Files.isDirectory(made),
                    "CreateTempDir returned the name of a new directory build.tmp<digits>: " + tempDir);
            Report.equal(Files.getPosixFilePermissions(oracle), Files.isDirectory(made) ? Files.getPosixFilePermissions(made) : null,
                    "CreateTempDir permissions equal those of Files.createTempDirectory here (0777 minus the umask)");
        }
        Path deeper = missing.resolve("deeper");
        calls.expectThrownMatching("in a missing directory", new FilePath$CreateTempDir("x"), p(deeper), NoSuchFileException.class,
                java.util.regex.Pattern.quote(deeper + "/x") + "[0-9]+");
    }

    /** SymlinkTo (with the listener Jenkins passes) and ReadLink. */
    private void links(Fixture f) throws Exception {
        Path area = Files.createDirectories(base.resolve("links"));
        Path link = area.resolve("to-hello");
        int listenerOid = FilePathCalls.newOid();
        StreamBuildListener listener = new StreamBuildListener(new RemoteOutputStream(listenerOid), StandardCharsets.UTF_8);
        calls.expectValue("relative", new FilePath$SymlinkTo("../data/hello.txt", listener), p(link), null);
        Report.equal(Path.of("../data/hello.txt"), Files.isSymbolicLink(link) ? Files.readSymbolicLink(link) : null, "SymlinkTo made the link");
        Path replaced = Files.writeString(area.resolve("was-a-file"), "x");
        calls.expectValue("over an existing file", new FilePath$SymlinkTo("/absolute/target", listener), p(replaced), null);
        Report.equal(Path.of("/absolute/target"), Files.isSymbolicLink(replaced) ? Files.readSymbolicLink(replaced) : null,
                "SymlinkTo replaced the file by a link");
        Path orphan = area.resolve("no-dir/link");
        calls.expectValue("in a missing directory", new FilePath$SymlinkTo("x", listener), p(orphan), null);
        Report.check(!Files.exists(orphan, LinkOption.NOFOLLOW_LINKS), "SymlinkTo in a missing directory created nothing");
        String log = new String(calls.received(listenerOid), StandardCharsets.UTF_8);
        Report.check(log.startsWith("ln x " + orphan + " failed\n" + NoSuchFileException.class.getName() + ": " + orphan),
                "SymlinkTo reported the failure on the listener as Util.createSymlink prints it: " + log.lines().findFirst().orElse(""));

        for (Path path : List.of(link, f.dangling, f.hello, f.missing)) {
            calls.expectLikeJava("of " + base.relativize(path), new FilePath$ReadLink(), p(path), () -> {
                try {
                    return Files.readSymbolicLink(path).toString();
                } catch (FileSystemException notALink) {
                    return null;
                }
            });
        }
    }

    /**
     * IsDescendant and HasSymlink, which the controller's directory browser sends. The expected
     * answers follow Jenkins' algorithm: every step of the child must stay inside the parent's
     * real path, and from the first missing name on, the normalized path decides.
     */
    private void containment() throws Exception {
        Path area = Files.createDirectories(base.resolve("contain"));
        Path ws = Files.createDirectories(area.resolve("ws/a"));
        ws = ws.getParent();
        Files.writeString(ws.resolve("a/b.txt"), "b");
        Path outside = Files.createDirectories(area.resolve("outside"));
        Files.writeString(outside.resolve("x.txt"), "x");
        Files.createSymbolicLink(ws.resolve("link-in"), Path.of("a"));
        Files.createSymbolicLink(ws.resolve("link-out"), outside);
        Files.createSymbolicLink(ws.resolve("dangling"), Path.of("nowhere"));

        Object[][] cases = {
            {"a/b.txt", true}, {"a", true}, {"", true}, {"link-in/b.txt", true}, {"link-out", false},
            {"link-out/x.txt", false}, {"missing/x", true}, {"dangling", true}, {"../outside/x.txt", false},
            {"../nonexistent", false}, {"a/../../outside", false}, {"a//b.txt", true},
        };
        for (Object[] c : cases) {
            calls.expectValue("of '" + c[0] + "'", new FilePath$IsDescendant((String) c[0]), p(ws), c[1]);
        }
        calls.expectValue("of a missing parent", new FilePath$IsDescendant("a"), p(area.resolve("none")), Boolean.FALSE);
        calls.expectThrown("of an absolute path", new FilePath$IsDescendant("/etc"), p(ws), IllegalArgumentException.class,
                "Only a relative path is supported, the given path is absolute: /etc");

        OpenOption[] noFollow = {LinkOption.NOFOLLOW_LINKS};
        String root = p(ws);
        calls.expectValue("under a linked directory", new FilePath$HasSymlink(root, noFollow), p(ws.resolve("link-in/b.txt")), Boolean.TRUE);
        calls.expectValue("of a plain file", new FilePath$HasSymlink(root, noFollow), p(ws.resolve("a/b.txt")), Boolean.FALSE);
        calls.expectValue("of a link", new FilePath$HasSymlink(root, noFollow), p(ws.resolve("link-out")), Boolean.TRUE);
        calls.expectValue("without NOFOLLOW_LINKS", new FilePath$HasSymlink(root), p(ws.resolve("link-out")), Boolean.FALSE);
        calls.expectValue("without a root", new FilePath$HasSymlink(null, noFollow), p(ws.resolve("link-in/b.txt")), Boolean.FALSE);
    }

    /** Digest, Absolutize and the disk-space queries. */
    private void misc(Fixture f) throws Exception {
        calls.expectValue("of 300 KiB", new FilePath$Digest(), p(f.binary), md5(f.binaryBytes));
        calls.expectValue("of an empty file", new FilePath$Digest(), p(base.resolve("empty.txt")), md5(new byte[0]));
        calls.expectLikeJava("of a missing file", new FilePath$Digest(), p(f.missing), () -> Files.newInputStream(f.missing));

        if (m.o.agentCwd != null) {
            for (String relative : List.of("rel/dir", "a//b/", ".", "../up")) {
                String expected = new File(m.o.agentCwd, new File(relative).getPath()).getPath();
                calls.expectValue("of '" + relative + "'", new FilePath$Absolutize(), relative, expected);
            }
        }
        calls.expectValue("of an absolute path", new FilePath$Absolutize(), "/x//y/", "/x/y");

        // The controller runs as the same user as the agent in this scenario.
        Object home = calls.ch.call(new FilePath$GetHomeDirectory(), calls.timeoutMillis).value();
        Report.check(home instanceof FilePath fp && fp.remote.equals(System.getProperty("user.home")) && fp.localToWriter,
                "GetHomeDirectory returns the agent user's home as a FilePath local to the agent: "
                        + (home instanceof FilePath fp ? fp.remote : ConnectSequence.className(home)));

        File dir = f.dir.toFile();
        calls.expectValue("", new FilePath$GetTotalDiskSpace(), p(f.dir), dir.getTotalSpace());
        calls.expectValue("of a missing path", new FilePath$GetTotalDiskSpace(), p(f.missing), 0L);
        calls.expectValue("of a missing path", new FilePath$GetUsableDiskSpace(), p(f.missing), 0L);
        calls.expectValue("of a missing path", new FilePath$GetFreeDiskSpace(), p(f.missing), 0L);
        Long usable = calls.expectType("", new FilePath$GetUsableDiskSpace(), p(f.dir), Long.class);
        Long free = calls.expectType("", new FilePath$GetFreeDiskSpace(), p(f.dir), Long.class);
        long tolerance = 64L << 20;
        if (usable != null) {
            Report.check(Math.abs(usable - dir.getUsableSpace()) <= tolerance,
                    "GetUsableDiskSpace " + usable + " within 64 MiB of File.getUsableSpace " + dir.getUsableSpace());
        }
        if (free != null) {
            Report.check(Math.abs(free - dir.getFreeSpace()) <= tolerance,
                    "GetFreeDiskSpace " + free + " within 64 MiB of File.getFreeSpace " + dir.getFreeSpace());
        }
    }

    static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }
}
