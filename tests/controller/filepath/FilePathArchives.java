package kite.controller;

import hudson.FilePath;
import hudson.FilePath$CopyRecursiveLocal;
import hudson.FilePath$CopyRecursiveRemoteToLocal;
import hudson.FilePath$ReadFromTar;
import hudson.FilePath$TarCompression;
import hudson.FilePath$UntarLocal;
import hudson.FilePath$UnzipLocal;
import hudson.remoting.Pipe;
import hudson.remoting.Response;
import hudson.util.DirScanner;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * FilePath.copyRecursiveTo in its three shapes. Agent to controller is CopyRecursiveRemoteToLocal,
 * a tar back through a Pipe. On one agent it is CopyRecursiveLocal. Controller to agent is
 * ReadFromTar, with the controller writing a tar into a local-to-remote Pipe, and that shape is
 * also sent hostile archives, which must be rejected naming the entry. The tar reader and writer
 * are TarFiles, independent of Kite's libarchive.
 */
final class FilePathArchives {
    /** The mask of copyRecursiveTo(String fileMask, FilePath target), scanned as DirScanner$Glob. */
    private static final String MASK = "**/*.sh, lib/**";

    private final ControllerChannel ch;
    private final FilePathCalls calls;
    private final Path base;
    private final ControllerStreams streams;

    FilePathArchives(ControllerChannel ch, FilePathCalls calls, Path base) {
        this.ch = ch;
        this.calls = calls;
        this.base = base;
        this.streams = new ControllerStreams(ch);
    }

    /** One file of the source tree, as the tar and the copies must reproduce it. */
    record Source(String name, String mode, byte[] data, String linkTarget) {}

    void run() throws Exception {
        Path src = base.resolve("archive-src");
        List<Source> selected = makeTree(src);
        toController(src, selected, FilePath$TarCompression.GZIP);
        toController(src, selected, FilePath$TarCompression.NONE);
        missingToController();
        localCopy(src, selected);
        fromController();
        hostile();
        untarLocal();
        unzipLocal();
    }

    private List<Source> makeTree(Path src) throws IOException {
        Random random = new Random(11);
        byte[] blob = new byte[100_000];
        random.nextBytes(blob);
        List<Source> selected = List.of(
                new Source("run.sh", "rwxr-xr-x", Main.bytes("#!/bin/sh\necho run\n"), null),
                new Source("lib/util.sh", "rw-r--r--", Main.bytes("util() { :; }\n"), null),
                new Source("lib/data.bin", "rw-------", blob, null),
                new Source("lib/link.sh", null, null, "../run.sh"),
                new Source("\u00fcn\u00efcode dir/\u30d5\u30a1\u30a4\u30eb.sh", "rw-r-----", "echo \u4e16\u754c\n".getBytes(StandardCharsets.UTF_8), null));
        for (Source s : selected) {
            Path p = src.resolve(s.name());
            Files.createDirectories(p.getParent());
            if (s.linkTarget() != null) {
                Files.createSymbolicLink(p, Path.of(s.linkTarget()));
            } else {
                Files.write(p, s.data());
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(s.mode()));
                Files.setLastModifiedTime(p, FileTime.fromMillis(1_650_000_000_000L + s.name().length() * 1000L));
            }
        }
        // Not selected: outside the mask, or a default exclude.
        Files.createDirectories(src.resolve("docs"));
        Files.writeString(src.resolve("docs/readme.md"), "docs\n");
        Files.createDirectories(src.resolve(".git/hooks"));
        Files.writeString(src.resolve(".git/hooks/pre-commit.sh"), "exit 1\n");
        return selected;
    }

    /** copyRecursiveTo(mask, controller path): the agent writes the selection as a tar into a Pipe. */
    private void toController(Path src, List<Source> selected, FilePath$TarCompression compression) throws Exception {
        String what = "of '" + MASK + "' (" + compression + ")";
        int oid = FilePathCalls.newOid();
        ControllerStreams.Collected pipe = streams.collect(oid);
        Object count = calls.expectValue(what, new FilePath$CopyRecursiveRemoteToLocal(Pipe.createRemoteToLocal(oid),
                new DirScanner.Glob(MASK, null, true), compression, "UTF-8"), src.toString(), selected.size());
        Report.check(pipe.awaitEof(10_000), "CopyRecursiveRemoteToLocal " + what + " ended the pipe");
        List<TarFiles.Entry> entries = readTar(pipe.bytes(), compression, "CopyRecursiveRemoteToLocal " + what);
        if (entries == null || count == null) {
            return;
        }

        Map<String, TarFiles.Entry> byName = new TreeMap<>();
        for (TarFiles.Entry e : entries) {
            byName.put(e.name(), e);
        }
        List<String> want = new ArrayList<>();
        for (Source s : selected) {
            want.add(s.name());
        }
        Report.equal(new java.util.TreeSet<>(want), new java.util.TreeSet<>(byName.keySet()),
                "CopyRecursiveRemoteToLocal " + what + ": entry names (files only, default excludes applied)");

        for (Source s : selected) {
            TarFiles.Entry e = byName.get(s.name());
            if (e == null) {
                continue;
            }
            if (s.linkTarget() != null) {
                Report.check(e.isSymlink() && s.linkTarget().equals(e.linkName()),
                        "tar entry " + s.name() + " is a symbolic link to " + s.linkTarget() + ": type " + e.type() + " -> " + e.linkName());
                continue;
            }
            Path file = src.resolve(s.name());
            Report.check(e.isFile() && Arrays.equals(s.data(), e.data()), "tar entry " + s.name() + " holds the file's " + s.data().length + " bytes");
            Report.equal(FilePathScenarios.permissionsToMode(file), e.mode(), "tar entry " + s.name() + " mode");
            Report.equal(Files.getLastModifiedTime(file).toMillis() / 1000, e.mtime(), "tar entry " + s.name() + " mtime (seconds)");
        }
    }

    private void missingToController() throws Exception {
        int oid = FilePathCalls.newOid();
        ControllerStreams.Collected pipe = streams.collect(oid);
        calls.expectValue("of a missing directory", new FilePath$CopyRecursiveRemoteToLocal(Pipe.createRemoteToLocal(oid),
                new DirScanner.Glob(MASK, null, true), FilePath$TarCompression.GZIP, "UTF-8"), base.resolve("no-such-dir").toString(), 0);
        Report.check(pipe.awaitEof(10_000), "CopyRecursiveRemoteToLocal of a missing directory ended the pipe");
        List<TarFiles.Entry> entries = readTar(pipe.bytes(), FilePath$TarCompression.GZIP, "CopyRecursiveRemoteToLocal of a missing directory");
        if (entries != null) {
            Report.equal(0, entries.size(), "CopyRecursiveRemoteToLocal of a missing directory: an empty tar");
        }
    }

    /** copyRecursiveTo between two paths of the agent: files keep mode and mtime, links stay links. */
    private void localCopy(Path src, List<Source> selected) throws Exception {
        Path dest = base.resolve("archive-local-copy");
        calls.expectValue("of '" + MASK + "'", new FilePath$CopyRecursiveLocal(new FilePath(dest.toString()),
                new DirScanner.Glob(MASK, null, true)), src.toString(), selected.size());
        for (Source s : selected) {
            Path copy = dest.resolve(s.name());
            if (s.linkTarget() != null) {
                Report.equal(Path.of(s.linkTarget()), Files.isSymbolicLink(copy) ? Files.readSymbolicLink(copy) : null,
                        "CopyRecursiveLocal kept " + s.name() + " a symbolic link");
                continue;
            }
            Path file = src.resolve(s.name());
            Report.check(Files.isRegularFile(copy, LinkOption.NOFOLLOW_LINKS) && Arrays.equals(s.data(), Files.readAllBytes(copy)),
                    "CopyRecursiveLocal copied the bytes of " + s.name());
            if (Files.isRegularFile(copy)) {
                Report.equal(Files.getPosixFilePermissions(file), Files.getPosixFilePermissions(copy), "CopyRecursiveLocal mode of " + s.name());
                Report.equal(Files.getLastModifiedTime(file), Files.getLastModifiedTime(copy), "CopyRecursiveLocal mtime of " + s.name());
            }
        }
        Report.check(!Files.exists(dest.resolve("docs")) && !Files.exists(dest.resolve(".git")),
                "CopyRecursiveLocal copied nothing outside the mask");
        calls.expectValue("of a missing directory", new FilePath$CopyRecursiveLocal(new FilePath(dest.toString()),
                new DirScanner.Glob(MASK, null, true)), base.resolve("no-such-dir").toString(), 0);
    }

    /** copyRecursiveTo from the controller: ReadFromTar extracts what the controller pushes. */
    private void fromController() throws Exception {
        Path dest = base.resolve("archive-from-controller");
        byte[] data = Main.bytes("pushed by the controller\n");
        byte[] tar = TarFiles.write(List.of(
                TarFiles.Entry.directory("bin", 0750),
                TarFiles.Entry.file("bin/tool.sh", 0755, data),
                TarFiles.Entry.file("conf/app.properties", 0640, data),
                TarFiles.Entry.symlink("current", "bin/tool.sh")));
        ControllerChannel.Outcome r = readFromTar(dest, "from-controller", gzip(tar));
        if (r == null) {
            return;
        }
        Report.check(!r.failed(), "ReadFromTar of a well-formed tar.gz returned null: "
                + (r.failed() ? FilePathCalls.describe(r.raw()) : String.valueOf(r.value())));
        Report.check(Arrays.equals(data, Files.exists(dest.resolve("bin/tool.sh")) ? Files.readAllBytes(dest.resolve("bin/tool.sh")) : null),
                "ReadFromTar extracted bin/tool.sh");
        Report.equal(PosixFilePermissions.fromString("rwxr-xr-x"),
                Files.exists(dest.resolve("bin/tool.sh")) ? Files.getPosixFilePermissions(dest.resolve("bin/tool.sh")) : null,
                "ReadFromTar restored the mode of bin/tool.sh");
        Report.equal(PosixFilePermissions.fromString("rwxr-x---"),
                Files.exists(dest.resolve("bin")) ? Files.getPosixFilePermissions(dest.resolve("bin")) : null,
                "ReadFromTar restored the mode of the directory bin");
        Report.equal(1_700_000_000_000L, dest.resolve("conf/app.properties").toFile().lastModified(),
                "ReadFromTar restored the mtime of conf/app.properties (a parent created on the way)");
        Report.equal(Path.of("bin/tool.sh"), Files.isSymbolicLink(dest.resolve("current")) ? Files.readSymbolicLink(dest.resolve("current")) : null,
                "ReadFromTar created the symbolic link current");
    }

    /**
     * Hostile tars pushed through ReadFromTar: each must fail with "Failed to extract <name>"
     * whose cause names the entry, and nothing may appear outside the target.
     */
    private void hostile() throws Exception {
        Path outside = Files.createDirectories(base.resolve("archive-outside"));
        byte[] payload = Main.bytes("written by a hostile archive\n");
        String absolute = outside.resolve("absolute.txt").toString();
        record Hostile(String what, String entry, byte[] tar) {}
        List<Hostile> cases = List.of(
                new Hostile("a parent reference", "../archive-outside/escaped.txt",
                        TarFiles.write(List.of(TarFiles.Entry.file("ok.txt", 0644, payload),
                                TarFiles.Entry.file("../archive-outside/escaped.txt", 0644, payload)))),
                new Hostile("a parent reference inside the name", "sub/../../archive-outside/escaped.txt",
                        TarFiles.write(List.of(TarFiles.Entry.file("sub/../../archive-outside/escaped.txt", 0644, payload)))),
                new Hostile("an absolute path", absolute,
                        TarFiles.write(List.of(TarFiles.Entry.file(absolute, 0644, payload)))),
                new Hostile("a file through a symbolic link", "evil/pwned.txt",
                        TarFiles.write(List.of(TarFiles.Entry.symlink("evil", outside.toString()),
                                TarFiles.Entry.file("evil/pwned.txt", 0644, payload)))));
        int round = 0;
        for (Hostile h : cases) {
            Path dest = base.resolve("archive-hostile-" + round++);
            String name = dest + "/hostile.tar.gz";
            ControllerChannel.Outcome r = readFromTar(dest, "hostile.tar.gz", gzip(h.tar()));
            if (r == null) {
                continue;
            }
            String label = "ReadFromTar of a tar with " + h.what();
            if (!r.failed()) {
                Report.fail(label + " succeeded");
                continue;
            }
            Report.equal(IOException.class.getName(), ConnectSequence.className(r.raw()), label + ": exception class");
            Report.equal("Failed to extract " + name, r.raw() == null ? null : r.raw().getMessage(), label + ": exception message");
            Throwable cause = r.raw() == null ? null : r.raw().getCause();
            String because = cause == null ? null : cause.getMessage();
            Report.check(because != null && because.startsWith("Tar " + name + " ") && because.endsWith(": " + h.entry()),
                    label + ": the cause names the archive and the entry " + h.entry() + ": " + because);
        }
        try (var left = Files.list(outside)) {
            Report.equal(List.of(), left.map(p -> p.getFileName().toString()).toList(), "no hostile entry reached " + outside);
        }
    }

    /** untar with the tar and the target on the agent: UntarLocal names the tar by its file name. */
    private void untarLocal() throws Exception {
        byte[] data = Main.bytes("from a local tar\n");
        Path good = Files.write(base.resolve("local.tar.gz"), gzip(TarFiles.write(List.of(TarFiles.Entry.file("d/f.txt", 0640, data)))));
        Path dest = base.resolve("untar-local");
        calls.expectValue("of a tar.gz on the agent", new FilePath$UntarLocal(new FilePath(good.toString()), FilePath$TarCompression.GZIP),
                dest.toString(), null);
        Report.check(Arrays.equals(data, Files.exists(dest.resolve("d/f.txt")) ? Files.readAllBytes(dest.resolve("d/f.txt")) : null),
                "UntarLocal extracted d/f.txt");

        Path outside = Files.createDirectories(base.resolve("untar-local-outside"));
        Path evil = Files.write(base.resolve("local-evil.tar"),
                TarFiles.write(List.of(TarFiles.Entry.file("../untar-local-outside/x.txt", 0644, data))));
        Throwable thrown = calls.expectThrown("of a tar with a parent reference", new FilePath$UntarLocal(new FilePath(evil.toString()),
                FilePath$TarCompression.NONE), base.resolve("untar-local-evil").toString(), IOException.class, "Failed to extract local-evil.tar");
        Report.equal("Tar local-evil.tar contains entry that escapes destination directory: ../untar-local-outside/x.txt",
                thrown == null || thrown.getCause() == null ? null : thrown.getCause().getMessage(), "UntarLocal: the cause names the entry");
        Report.check(!Files.exists(outside.resolve("x.txt")), "UntarLocal wrote nothing outside the target");

        Path missing = base.resolve("no-such.tar");
        calls.expectLikeJava("of a missing tar", new FilePath$UntarLocal(new FilePath(missing.toString()), FilePath$TarCompression.NONE),
                dest.toString(), () -> Files.newInputStream(missing));
    }

    /** unzip with the zip and the target on the agent: UnzipLocal names the zip by its path and does not wrap. */
    private void unzipLocal() throws Exception {
        byte[] data = Main.bytes("from a local zip\n");
        Path good = Files.write(base.resolve("local.zip"), zip(List.of("dir/", "dir/a.txt"), data));
        Path dest = base.resolve("unzip-local");
        calls.expectValue("of a zip on the agent", new FilePath$UnzipLocal(new FilePath(good.toString())), dest.toString(), null);
        Report.check(Arrays.equals(data, Files.exists(dest.resolve("dir/a.txt")) ? Files.readAllBytes(dest.resolve("dir/a.txt")) : null),
                "UnzipLocal extracted dir/a.txt");

        Path outside = Files.createDirectories(base.resolve("unzip-local-outside"));
        Path escape = Files.write(base.resolve("local-escape.zip"), zip(List.of("../unzip-local-outside/x.txt"), data));
        calls.expectThrown("of a zip with a parent reference", new FilePath$UnzipLocal(new FilePath(escape.toString())),
                base.resolve("unzip-local-evil").toString(), IOException.class,
                "Zip " + escape + " contains illegal file name that breaks out of the target directory: ../unzip-local-outside/x.txt");

        // A Java agent's canonical-path check rejects a file through a link that leads out; Kite
        // rejects every write through a link, with its own wording after the zip's path.
        Path linked = Files.createDirectories(base.resolve("unzip-local-linked"));
        Files.createSymbolicLink(linked.resolve("evil"), outside);
        Path through = Files.write(base.resolve("local-through-link.zip"), zip(List.of("evil/pwned.txt"), data));
        ControllerChannel.Outcome r = calls.act(new FilePath$UnzipLocal(new FilePath(through.toString())), linked.toString());
        String message = r.raw() == null ? null : r.raw().getMessage();
        Report.check(r.failed() && r.raw() instanceof IOException && message != null
                && message.startsWith("Zip " + through + " ") && message.endsWith(": evil/pwned.txt"),
                "UnzipLocal of a zip writing through a link is rejected naming the entry: " + message);
        Report.check(!Files.exists(outside.resolve("x.txt")) && !Files.exists(outside.resolve("pwned.txt")),
                "UnzipLocal wrote nothing outside the target");

        Path missing = base.resolve("no-such.zip");
        calls.expectThrown("of a missing zip", new FilePath$UnzipLocal(new FilePath(missing.toString())), dest.toString(),
                java.io.FileNotFoundException.class, missing + " (No such file or directory)");
    }

    /** A zip made with java.util.zip: names ending in '/' are directories, the others hold {@code data}. */
    private static byte[] zip(List<String> names, byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(b)) {
            for (String name : names) {
                out.putNextEntry(new java.util.zip.ZipEntry(name));
                if (!name.endsWith("/")) {
                    out.write(data);
                }
                out.closeEntry();
            }
        }
        return b.toByteArray();
    }

    /** Sends ReadFromTar on {@code dest} and pushes {@code targz} into its Pipe; null when the agent never connected. */
    private ControllerChannel.Outcome readFromTar(Path dest, String description, byte[] targz) throws Exception {
        int oidRos = FilePathCalls.newOid();
        String target = dest.toString();
        FilePath$ReadFromTar callable = new FilePath$ReadFromTar(new FilePath(target), Pipe.createLocalToRemote(oidRos), description,
                FilePath$TarCompression.GZIP, "UTF-8");
        CompletableFuture<Response> call = ch.callAsync(new FilePath.FileCallableWrapper(callable, new FilePath(target)));
        ControllerStreams.Pushed pushed = streams.push(oidRos, () -> new ByteArrayInputStream(targz), call, calls.timeoutMillis);
        if (pushed == null) {
            Report.fail("ReadFromTar into " + target + ": the agent never connected to the pipe (no Pipe$ConnectCommand)");
        }
        return ch.decode(call.get(calls.timeoutMillis, TimeUnit.MILLISECONDS));
    }

    private static List<TarFiles.Entry> readTar(byte[] bytes, FilePath$TarCompression compression, String what) {
        try (InputStream in = compression == FilePath$TarCompression.GZIP
                ? new GZIPInputStream(new ByteArrayInputStream(bytes)) : new ByteArrayInputStream(bytes)) {
            return TarFiles.read(in);
        } catch (IOException e) {
            Report.fail(what + ": the " + bytes.length + " bytes are not a " + compression + " tar: " + e);
            return null;
        }
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(b)) {
            out.write(data);
        }
        return b.toByteArray();
    }
}
