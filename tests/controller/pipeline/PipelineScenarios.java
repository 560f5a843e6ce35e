package kite.controller;

import hudson.FilePath;
import hudson.FilePath$Archive;
import hudson.FilePath$CopyRecursiveRemoteToLocal;
import hudson.FilePath$ExplicitlySpecifiedDirScanner;
import hudson.FilePath$ReadFromTar;
import hudson.FilePath$TarCompression;
import hudson.FilePath$UntarRemote;
import hudson.FilePath$UnzipRemote;
import hudson.remoting.Pipe;
import hudson.remoting.RemoteInputStream;
import hudson.remoting.RemoteOutputStream;
import hudson.remoting.Response;
import hudson.slaves.SlaveComputer;
import hudson.tasks.ArtifactArchiver$ListFiles;
import hudson.util.DirScanner;
import hudson.util.io.ArchiverFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Pipeline's archive and stash steps and the basic file steps, as they cross the wire between a
 * controller and an agent. archiveArtifacts sends ArtifactArchiver$ListFiles, then the artifact
 * manager's copyRecursiveTo as a tar.gz through a Pipe. stash sends FilePath$Archive with a
 * DirScanner$Glob into a RemoteOutputStream. unstash sends FilePath$UntarRemote reading a greedy
 * RemoteInputStream, and hostile archives must be rejected.
 */
public final class PipelineScenarios {
    /** Files of the test workspace, relative path to permission bits. */
    private static final Map<String, Integer> FILES = new LinkedHashMap<>();
    /** Files Ant's default excludes leave out of every selection that honours them. */
    private static final List<String> DEFAULT_EXCLUDED = List.of(
            "out/app.bin~", "out/#note#", "out/.#lock", "out/.DS_Store", "out/.git/config", "out/CVS/Entries");
    /** A path longer than the 100 bytes of a ustar name field, so the tar needs a GNU long name. */
    static final String LONG_PATH = "deep/" + "d".repeat(60) + "/" + "f".repeat(70) + ".txt";
    private static final String EMPTY_DIR = "out/empty";
    /** Symbolic links of the workspace, relative path to link target. */
    private static final Map<String, String> LINKS = new LinkedHashMap<>();

    static {
        FILES.put("README.txt", 0644);
        FILES.put("build.sh", 0755);
        FILES.put("secret.key", 0600);
        FILES.put("readonly.txt", 0444);
        FILES.put("out/app.bin", 0644);
        FILES.put("out/lib/util.o", 0640);
        FILES.put("out/skip/ignored.txt", 0644);
        FILES.put("docs/naïve café.txt", 0644);
        FILES.put("docs/数据.txt", 0664);
        FILES.put(LONG_PATH, 0644);
        for (String excluded : DEFAULT_EXCLUDED) {
            FILES.put(excluded, 0644);
        }
        LINKS.put("out/latest", "app.bin");
        LINKS.put("out/libdir", "lib");
    }

    private Main m;
    private ControllerChannel ch;
    private ConnectSequence seq;
    private ControllerStreams streams;
    private long timeoutMillis;
    private Path root;

    public PipelineScenarios() {}

    public boolean run(Main main, String scenario) throws Exception {
        switch (scenario) {
            case "pipeline-archive", "pipeline-stash", "pipeline-files", "pipeline-bench" -> {
            }
            default -> {
                return false;
            }
        }
        this.m = main;

        ch = m.accept();
        if (ch == null) {
            return true;
        }
        seq = new ConnectSequence(ch, m.o);
        seq.goOnline();
        streams = new ControllerStreams(ch);
        timeoutMillis = m.o.callTimeoutSeconds * 1000L;
        root = m.o.workDir != null ? Path.of(m.o.workDir) : Files.createTempDirectory("kite-pipeline");

        switch (scenario) {
            case "pipeline-archive" -> archiveArtifacts();
            case "pipeline-stash" -> {
                stash();
                hostileUnstash();
            }
            case "pipeline-files" -> new FileStepChecks(ch, seq, streams, root).run();
            default -> new PipelineBench(ch, streams, root, m.o.benchRounds, PipelineBench.CALL_TIMEOUT_MILLIS).run();
        }

        Report.equal(Boolean.TRUE, seq.value(new SlaveComputer.DetectOS()), "channel still serves calls after the scenario");
        Report.check(ch.commandErrors.isEmpty(), "every agent command deserialized");
        Report.check(ch.closeOrderly(10_000), "orderly close after the scenario");
        ch.close();
        return true;
    }

    // ---- workspace

    /** Builds the test workspace below {@code ws}: files with distinct modes, links, an empty directory. */
    static void buildWorkspace(Path ws) throws IOException {
        Random random = new Random(42);
        long mtime = 1_600_000_000L;
        for (Map.Entry<String, Integer> f : FILES.entrySet()) {
            Path p = ws.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            byte[] content;
            if (f.getKey().equals("out/app.bin")) {
                content = new byte[3 << 20];
                random.nextBytes(content);
            } else {
                content = ("contents of " + f.getKey() + "\n").getBytes(StandardCharsets.UTF_8);
            }
            Files.write(p, content);
            Files.setLastModifiedTime(p, FileTime.from(mtime, TimeUnit.SECONDS));
            Files.setAttribute(p, "unix:mode", f.getValue());
            mtime += 3600;
        }
        Path empty = ws.resolve(EMPTY_DIR);
        Files.createDirectories(empty);
        Files.setAttribute(empty, "unix:mode", 0750);
        for (Map.Entry<String, String> l : LINKS.entrySet()) {
            Files.createSymbolicLink(ws.resolve(l.getKey()), Path.of(l.getValue()));
        }
    }

    static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    /** Returns a path below the scenario root that does not exist yet, or throws if it does. */
    private Path fresh(String name) throws IOException {
        Path p = root.resolve(name);
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(p + " already exists");
        }
        return p;
    }

    Object act(FilePath.FileCallable callable, Path dir) throws Exception {
        return seq.value(new FilePath.FileCallableWrapper(callable, new FilePath(dir.toString())));
    }

    ControllerChannel.Outcome call(FilePath.FileCallable callable, Path dir) throws Exception {
        return ch.call(new FilePath.FileCallableWrapper(callable, new FilePath(dir.toString())), timeoutMillis);
    }

    private static Set<String> set(String... names) {
        return new TreeSet<>(Arrays.asList(names));
    }

    private static Set<String> union(Set<String> a, java.util.Collection<String> b) {
        Set<String> s = new TreeSet<>(a);
        s.addAll(b);
        return s;
    }

    // ---- archiveArtifacts

    /**
     * archiveArtifacts: ArtifactArchiver$ListFiles with the step's globs and flags, then
     * StandardArtifactManager.archive, which calls copyRecursiveTo with an
     * ExplicitlySpecifiedDirScanner and gzip into a remote-to-local Pipe.
     */
    private void archiveArtifacts() throws Exception {
        Path ws = fresh("workspace/archive-job");
        buildWorkspace(ws);

        String includes = "out/**, *.txt, docs/**, deep/**";
        Set<String> expected = set("README.txt", "readonly.txt", "out/app.bin", "out/lib/util.o", "out/latest",
                "out/libdir/util.o", "docs/naïve café.txt", "docs/数据.txt", LONG_PATH);
        Object listed = act(new ArtifactArchiver$ListFiles(includes, "out/skip/**", true, true, true), ws);
        Report.check(listed instanceof HashSet<?>, "ListFiles returns java.util.HashSet: " + ConnectSequence.className(listed));
        Report.equal(expected, listed instanceof Set<?> s ? new TreeSet<>(s) : listed, "ListFiles with default excludes");

        Object all = act(new ArtifactArchiver$ListFiles(includes, "out/skip/**", false, true, true), ws);
        Report.equal(union(expected, DEFAULT_EXCLUDED), all instanceof Set<?> s ? new TreeSet<>(s) : all,
                "ListFiles without default excludes");
        Object noLinks = act(new ArtifactArchiver$ListFiles(includes, "out/skip/**", true, true, false), ws);
        Set<String> withoutLinks = new TreeSet<>(expected);
        withoutLinks.removeAll(Set.of("out/latest", "out/libdir/util.o"));
        Report.equal(withoutLinks, noLinks instanceof Set<?> s ? new TreeSet<>(s) : noLinks, "ListFiles not following links");
        Object folded = act(new ArtifactArchiver$ListFiles("OUT/LIB/**, *.TXT", null, true, false, true), ws);
        Report.equal(set("README.txt", "readonly.txt", "out/lib/util.o"), folded instanceof Set<?> s ? new TreeSet<>(s) : folded,
                "ListFiles case-insensitive");
        ControllerChannel.Outcome missing = call(new ArtifactArchiver$ListFiles("**", null, true, true, true), ws.resolve("nonexistent"));
        Report.check(missing.failed() && messages(missing.raw()).contains("nonexistent"),
                "ListFiles on a missing workspace raises an exception naming it: " + messages(missing.raw()));

        Map<String, String> artifacts = new HashMap<>();
        for (String f : expected) {
            artifacts.put(f, f);
        }
        Path archiveDir = fresh("jobs/archive-job/builds/1/archive");
        for (FilePath$TarCompression compression : FilePath$TarCompression.values()) {
            byte[] tar = copyRecursiveToController(ws, artifacts, compression, expected.size());
            if (tar == null) {
                continue;
            }
            List<TarFiles.Entry> entries = TarFiles.read(new ByteArrayInputStream(tar));
            checkEntries(ws, entries, expected, "artifact tar (" + compression + ")");
            if (compression == FilePath$TarCompression.GZIP) {
                Files.createDirectories(archiveDir);
                unpackWithTar(tar, archiveDir);
                checkTree(ws, archiveDir, expected, "artifacts unpacked by /usr/bin/tar");
            }
        }

        Map<String, String> renamed = new HashMap<>();
        renamed.put("renamed/app.bin", "out/app.bin");
        byte[] tar = copyRecursiveToController(ws, renamed, FilePath$TarCompression.GZIP, 1);
        if (tar != null) {
            List<TarFiles.Entry> entries = TarFiles.read(new ByteArrayInputStream(tar));
            Report.equal(List.of("renamed/app.bin"), entries.stream().map(TarFiles.Entry::name).toList(),
                    "ExplicitlySpecifiedDirScanner archives a file under its archive path");
        }

        Map<String, String> absent = new HashMap<>();
        absent.put("gone.txt", "gone.txt");
        int oid = ControllerStreams.newOid();
        ControllerStreams.Collected out = streams.collect(oid);
        ControllerChannel.Outcome failed = call(new FilePath$CopyRecursiveRemoteToLocal(Pipe.createRemoteToLocal(oid),
                new FilePath$ExplicitlySpecifiedDirScanner(absent), FilePath$TarCompression.GZIP, "UTF-8"), ws);
        Report.check(failed.failed() && messages(failed.raw()).contains(ws.resolve("gone.txt").toString()),
                "artifact transfer of a missing file raises an exception naming it: " + messages(failed.raw()));
        Report.check(out.awaitEof(5000), "the pipe of the failed transfer is closed, so the controller's reader ends");
    }

    /**
     * Runs FilePath$CopyRecursiveRemoteToLocal as StandardArtifactManager.archive does, checks
     * the entry count and the pipe's EOF, and returns the tar (gunzipped), or null on failure.
     */
    private byte[] copyRecursiveToController(Path ws, Map<String, String> artifacts, FilePath$TarCompression compression,
            int count) throws Exception {
        int oid = ControllerStreams.newOid();
        ControllerStreams.Collected out = streams.collect(oid);
        Object n = act(new FilePath$CopyRecursiveRemoteToLocal(Pipe.createRemoteToLocal(oid),
                new FilePath$ExplicitlySpecifiedDirScanner(artifacts), compression, "UTF-8"), ws);
        Report.equal(count, n, "CopyRecursiveRemoteToLocal (" + compression + ") entry count");
        Report.check(out.awaitEof(5000), "agent closed the artifact pipe " + oid + " with EOF");
        byte[] bytes = out.bytes();
        if (n == null || bytes.length == 0) {
            return null;
        }
        if (compression == FilePath$TarCompression.GZIP) {
            Report.check(bytes.length > 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b,
                    "GZIP transfer starts with the gzip magic");
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                return in.readAllBytes();
            }
        }
        Report.check(bytes.length % TarFiles.BLOCK == 0, "uncompressed transfer is whole tar blocks: " + bytes.length);
        return bytes;
    }

    /**
     * Checks a tar's entries against the workspace: exactly {@code names}, each a regular file
     * with the file's bytes, permission bits and mtime, or a symbolic link with its target.
     */
    private static void checkEntries(Path ws, List<TarFiles.Entry> entries, Set<String> names, String what) throws IOException {
        Set<String> got = new TreeSet<>();
        for (TarFiles.Entry e : entries) {
            got.add(e.name());
        }
        Report.equal(names, got, what + ": entry names");
        Report.equal(names.size(), entries.size(), what + ": no entry twice");
        int wrong = 0;
        for (TarFiles.Entry e : entries) {
            Path source = ws.resolve(e.name());
            if (Files.isSymbolicLink(source)) {
                String target = Files.readSymbolicLink(source).toString();
                if (!e.isSymlink() || !e.linkName().equals(target)) {
                    Report.fail(what + ": " + e.name() + " should be a symbolic link to " + target + ", is type "
                            + e.type() + " -> " + e.linkName());
                    wrong++;
                }
                continue;
            }
            if (!e.isFile()) {
                Report.fail(what + ": " + e.name() + " should be a regular file, is type " + e.type());
                wrong++;
                continue;
            }
            byte[] content = Files.readAllBytes(source);
            long mtime = Files.getLastModifiedTime(source).to(TimeUnit.SECONDS);
            if (!Arrays.equals(content, e.data()) || e.mode() != mode(source) || e.mtime() != mtime) {
                Report.fail(String.format("%s: %s has %d bytes, mode %o, mtime %d; the file has %d bytes, mode %o, mtime %d",
                        what, e.name(), e.data().length, e.mode(), e.mtime(), content.length, mode(source), mtime));
                wrong++;
            }
        }
        Report.check(wrong == 0, what + ": contents, modes, mtimes and link targets of " + entries.size() + " entries");
    }

    /** Unpacks a tar with /usr/bin/tar, keeping permissions, as an independent reader. */
    static void unpackWithTar(byte[] tar, Path dir) throws Exception {
        Process p = new ProcessBuilder("tar", "-x", "-p", "-f", "-", "-C", dir.toString()).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(tar);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Report.check(p.waitFor() == 0 && output.isEmpty(), "/usr/bin/tar unpacked the archive without complaint: " + output.trim());
    }

    /**
     * Checks that {@code copy} contains {@code names} as in {@code ws}: same bytes, permission
     * bits and mtime for files, same target for links.
     */
    static void checkTree(Path ws, Path copy, Set<String> names, String what) throws IOException {
        int wrong = 0;
        for (String name : names) {
            Path source = ws.resolve(name);
            Path target = copy.resolve(name);
            if (Files.isSymbolicLink(source)) {
                if (!Files.isSymbolicLink(target)
                        || !Files.readSymbolicLink(target).equals(Files.readSymbolicLink(source))) {
                    Report.fail(what + ": " + name + " is not a link to " + Files.readSymbolicLink(source));
                    wrong++;
                }
                continue;
            }
            if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
                Report.fail(what + ": " + name + " is missing or not a regular file");
                wrong++;
                continue;
            }
            boolean same = Arrays.equals(Files.readAllBytes(source), Files.readAllBytes(target))
                    && mode(source) == mode(target)
                    && Files.getLastModifiedTime(source).to(TimeUnit.SECONDS) == Files.getLastModifiedTime(target).to(TimeUnit.SECONDS);
            if (!same) {
                Report.fail(String.format("%s: %s differs: mode %o vs %o, mtime %s vs %s", what, name, mode(target),
                        mode(source), Files.getLastModifiedTime(target), Files.getLastModifiedTime(source)));
                wrong++;
            }
        }
        Report.check(wrong == 0, what + ": " + names.size() + " paths match the workspace");
    }

    // ---- stash and unstash

    /** Runs FilePath$Archive as StashManager.stash does and returns the tar.gz bytes, or null. */
    byte[] stashBytes(Path ws, DirScanner scanner, ArchiverFactory factory, int expectedCount, String what) throws Exception {
        int oid = ControllerStreams.newOid();
        ControllerStreams.Collected out = streams.collect(oid);
        Object n = act(new FilePath$Archive(factory, new RemoteOutputStream(oid), scanner, null, new OpenOption[0]), ws);
        Report.equal(expectedCount, n, what + ": FilePath$Archive entry count");
        Report.check(out.awaitEof(5000), what + ": agent closed the stash stream with EOF");
        return n == null ? null : out.bytes();
    }

    private List<TarFiles.Entry> gunzipTar(byte[] targz) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(targz))) {
            return TarFiles.read(in);
        }
    }

    /** stash with several globs, then unstash of the stash and of a controller-built tar. */
    private void stash() throws Exception {
        Path ws = fresh("workspace/stash-job");
        buildWorkspace(ws);

        Set<String> everything = new TreeSet<>(FILES.keySet());
        everything.removeAll(DEFAULT_EXCLUDED);
        everything.add("out/latest");
        everything.add("out/libdir/util.o");
        byte[] s1 = stashBytes(ws, new DirScanner.Glob("**", null, true), ArchiverFactory.TARGZ, everything.size(),
                "stash includes '**'");
        if (s1 != null) {
            List<TarFiles.Entry> entries = gunzipTar(s1);
            checkEntries(ws, entries, everything, "stash includes '**'");
            Report.check(entries.stream().noneMatch(TarFiles.Entry::isDirectory),
                    "a Glob stash has no directory entries, as in Jenkins");
        }

        byte[] s2 = stashBytes(ws, new DirScanner.Glob("out/**", "**/*.o, out/skip/", true), ArchiverFactory.TARGZ, 2,
                "stash out/** without *.o and out/skip/");
        if (s2 != null) {
            checkEntries(ws, gunzipTar(s2), set("out/app.bin", "out/latest"), "stash out/** without *.o and out/skip/");
        }

        Set<String> outAll = union(set("out/app.bin", "out/lib/util.o", "out/skip/ignored.txt", "out/latest",
                "out/libdir/util.o"), DEFAULT_EXCLUDED);
        byte[] s3 = stashBytes(ws, new DirScanner.Glob("out/**", null, false), ArchiverFactory.TARGZ, outAll.size(),
                "stash out/** with useDefaultExcludes false");
        if (s3 != null) {
            checkEntries(ws, gunzipTar(s3), outAll, "stash out/** with useDefaultExcludes false");
        }

        // FilePath.archive with LinkOption.NOFOLLOW_LINKS passes it to the scanner and the
        // callable: links are neither archived nor followed.
        Set<String> noLinks = new TreeSet<>(everything);
        noLinks.removeAll(Set.of("out/latest", "out/libdir/util.o"));
        int oidNoLinks = ControllerStreams.newOid();
        ControllerStreams.Collected noLinksOut = streams.collect(oidNoLinks);
        OpenOption[] noFollow = {LinkOption.NOFOLLOW_LINKS};
        Object noLinksCount = act(new FilePath$Archive(ArchiverFactory.TARGZ, new RemoteOutputStream(oidNoLinks),
                new DirScanner.Glob("**", null, true, noFollow), null, noFollow), ws);
        Report.equal(noLinks.size(), noLinksCount, "stash with NOFOLLOW_LINKS: FilePath$Archive entry count");
        Report.check(noLinksOut.awaitEof(5000), "stash with NOFOLLOW_LINKS: agent closed the stream with EOF");
        if (noLinksCount != null) {
            checkEntries(ws, gunzipTar(noLinksOut.bytes()), noLinks, "stash with NOFOLLOW_LINKS");
        }

        byte[] s4 = stashBytes(ws, new DirScanner.Glob("nothing/**", null, true), ArchiverFactory.TARGZ, 0, "empty stash");
        if (s4 != null) {
            Report.equal(0, gunzipTar(s4).size(), "empty stash is a valid tar.gz without entries");
        }

        // Glob with empty includes and no excludes scans like DirScanner$Full in Jenkins: the
        // directory under its own name, directories included, no default excludes.
        String base = ws.getFileName().toString();
        int oid = ControllerStreams.newOid();
        ControllerStreams.Collected out = streams.collect(oid);
        Object n = act(new FilePath$Archive(ArchiverFactory.TARGZ, new RemoteOutputStream(oid),
                new DirScanner.Glob("", null, true), null, new OpenOption[0]), ws);
        Report.check(out.awaitEof(5000), "full stash: agent closed the stream with EOF");
        if (n instanceof Integer count) {
            List<TarFiles.Entry> full = gunzipTar(out.bytes());
            Report.equal(count, full.size(), "full stash: the count is the number of entries");
            Map<String, TarFiles.Entry> byName = new HashMap<>();
            full.forEach(e -> byName.put(e.name(), e));
            TarFiles.Entry empty = byName.get(base + "/" + EMPTY_DIR + "/");
            Report.check(empty != null && empty.isDirectory() && empty.mode() == 0750,
                    "full stash: the empty directory is an entry with mode 750: " + empty);
            Report.check(byName.containsKey(base + "/out/.git/config"), "full stash: default excludes do not apply");
            Report.check(byName.containsKey(base + "/") && byName.get(base + "/").isDirectory(),
                    "full stash: the workspace itself is the first directory entry");
        } else {
            Report.fail("full stash returned " + ConnectSequence.className(n));
        }

        if (s1 != null) {
            Path target = fresh("workspace/unstash-job");
            unstash(s1, "stash1.tar.gz", target);
            checkTree(ws, target, everything, "unstash of the '**' stash");
            copyToAgent(s1, everything, ws);
        }
        unstashBuiltTar();
        unstashLarge();
        unstashGnuTar(ws);
        zipRoundTrip(ws);

        Path existing = fresh("workspace/unstash-over");
        Files.createDirectories(existing.resolve("out"));
        Files.writeString(existing.resolve("out/app.bin"), "old content that the stash replaces");
        Files.setAttribute(existing.resolve("out/app.bin"), "unix:mode", 0600);
        if (s2 != null) {
            unstash(s2, "stash2.tar.gz", existing);
            checkTree(ws, existing, set("out/app.bin", "out/latest"), "unstash over an existing workspace");
        }
    }

    /**
     * Sends FilePath$UntarRemote with a greedy RemoteInputStream, pushes {@code targz} through
     * its Pipe once the agent connects to it, and returns the decoded outcome.
     */
    ControllerChannel.Outcome untar(byte[] targz, String name, Path target) throws Exception {
        int oidRos = ControllerStreams.newOid();
        RemoteInputStream in = new RemoteInputStream(Pipe.createLocalToRemote(oidRos));
        CompletableFuture<Response> call = ch.callAsync(new FilePath.FileCallableWrapper(
                new FilePath$UntarRemote(name, FilePath$TarCompression.GZIP, in), new FilePath(target.toString())));
        ControllerStreams.Pushed pushed = streams.push(oidRos, () -> new ByteArrayInputStream(targz), call, timeoutMillis);
        Report.check(pushed != null, "agent sent Pipe$ConnectCommand for the unstash stream " + oidRos);
        return ch.decode(call.get(timeoutMillis, TimeUnit.MILLISECONDS));
    }

    /**
     * copyRecursiveTo from the controller to an agent (the unarchive step): FilePath$ReadFromTar
     * on the target with a local-to-remote Pipe the controller writes the tar.gz into.
     */
    private void copyToAgent(byte[] targz, Set<String> names, Path ws) throws Exception {
        Path target = fresh("workspace/unarchive-job");
        int oidRos = ControllerStreams.newOid();
        FilePath to = new FilePath(target.toString());
        CompletableFuture<Response> call = ch.callAsync(new FilePath.FileCallableWrapper(new FilePath$ReadFromTar(to,
                Pipe.createLocalToRemote(oidRos), "transfer of " + names.size() + " files", FilePath$TarCompression.GZIP,
                "UTF-8"), to));
        Report.check(streams.push(oidRos, () -> new ByteArrayInputStream(targz), call, timeoutMillis) != null,
                "agent sent Pipe$ConnectCommand for the copyRecursiveTo stream " + oidRos);
        ControllerChannel.Outcome r = ch.decode(call.get(timeoutMillis, TimeUnit.MILLISECONDS));
        Report.check(!r.failed() && r.value() == null, "FilePath$ReadFromTar returned null: " + (r.failed() ? messages(r.raw()) : r.value()));
        checkTree(ws, target, names, "copyRecursiveTo from the controller");
    }

    private void unstash(byte[] targz, String name, Path target) throws Exception {
        ControllerChannel.Outcome r = untar(targz, name, target);
        Report.check(!r.failed() && r.value() == null, "FilePath$UntarRemote of " + name + " into " + target.getFileName()
                + " returned null: " + (r.failed() ? r.raw() : r.value()));
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(b)) {
            out.write(data);
        }
        return b.toByteArray();
    }

    /** unstash of a tar the controller writes itself: empty directories, modes, links, implicit parents. */
    private void unstashBuiltTar() throws Exception {
        List<TarFiles.Entry> entries = List.of(
                TarFiles.Entry.directory("a", 0755),
                TarFiles.Entry.directory("a/empty", 0700),
                TarFiles.Entry.file("a/run.sh", 0755, Main.bytes("#!/bin/sh\necho run\n")),
                TarFiles.Entry.file("a/private", 0600, Main.bytes("private\n")),
                TarFiles.Entry.file("a/ro.txt", 0444, Main.bytes("read only\n")),
                TarFiles.Entry.symlink("a/link", "run.sh"),
                TarFiles.Entry.file("b/c/d/deep.txt", 0640, Main.bytes("three levels below an implicit parent\n")),
                TarFiles.Entry.symlink("abs-link", "/etc/hostname"),
                TarFiles.Entry.file("binary.dat", 0644, new byte[] {0, 1, 2, (byte) 0xff, (byte) 0x80, '\n'}));
        Path target = fresh("workspace/unstash-built");
        unstash(gzip(TarFiles.write(entries)), "built.tar.gz", target);
        int wrong = 0;
        for (TarFiles.Entry e : entries) {
            Path p = target.resolve(e.name());
            boolean ok;
            if (e.isDirectory()) {
                ok = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
            } else if (e.isSymlink()) {
                ok = Files.isSymbolicLink(p) && Files.readSymbolicLink(p).toString().equals(e.linkName());
            } else {
                ok = Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Arrays.equals(Files.readAllBytes(p), e.data())
                        && mode(p) == e.mode() && Files.getLastModifiedTime(p).to(TimeUnit.SECONDS) == e.mtime();
            }
            if (!ok) {
                Report.fail("unstash of the built tar: " + e.name() + " (type " + e.type() + ") was not restored as sent");
                wrong++;
            }
        }
        Report.check(wrong == 0, "unstash of the built tar restored " + entries.size() + " entries with modes and links");
        try (var listing = Files.list(target.resolve("a/empty"))) {
            Report.equal(0L, listing.count(), "unstash keeps an empty directory empty");
        }
    }

    /**
     * unstash of the whole workspace packed by GNU tar in pax format: "./"-prefixed names, pax
     * records for the long name, every file mode, both links and the empty directory.
     */
    private void unstashGnuTar(Path ws) throws Exception {
        Process p = new ProcessBuilder("tar", "--format=pax", "-czf", "-", "-C", ws.toString(), ".")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] targz = p.getInputStream().readAllBytes();
        Report.equal(0, p.waitFor(), "GNU tar packed the workspace");
        Path target = fresh("workspace/unstash-gnu");
        unstash(targz, "gnu.tar.gz", target);
        Set<String> names = union(FILES.keySet(), LINKS.keySet());
        checkTree(ws, target, names, "unstash of a GNU tar pax archive");
        Path empty = target.resolve(EMPTY_DIR);
        Report.check(Files.isDirectory(empty, LinkOption.NOFOLLOW_LINKS), "unstash of a GNU tar archive creates the empty directory");
    }

    /**
     * FilePath.zip and unzip: FilePath$Archive with ArchiverFactory.ZIP, read with the JDK, then
     * FilePath$UnzipRemote of that zip into a fresh directory. Jenkins' ZipArchiver does not
     * understand symbolic links, so a link is stored as the file it points to.
     */
    private void zipRoundTrip(Path ws) throws Exception {
        byte[] zip = stashBytes(ws, new DirScanner.Glob("out/**", "**/*.o, out/skip/", true), ArchiverFactory.ZIP, 2,
                "zip of out/**");
        if (zip == null) {
            return;
        }
        byte[] app = Files.readAllBytes(ws.resolve("out/app.bin"));
        Map<String, byte[]> entries = new HashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                entries.put(e.getName(), in.readAllBytes());
            }
        }
        Report.equal(set("out/app.bin", "out/latest"), new TreeSet<>(entries.keySet()), "zip entry names");
        Report.check(Arrays.equals(app, entries.get("out/app.bin")), "zip entry out/app.bin has the file's bytes");
        Report.check(Arrays.equals(app, entries.get("out/latest")),
                "zip entry out/latest is the linked file's content, as Jenkins' ZipArchiver stores a link");

        int oidRos = ControllerStreams.newOid();
        Path target = fresh("workspace/unzip-job");
        CompletableFuture<Response> call = ch.callAsync(new FilePath.FileCallableWrapper(
                new FilePath$UnzipRemote(new RemoteInputStream(Pipe.createLocalToRemote(oidRos))), new FilePath(target.toString())));
        Report.check(streams.push(oidRos, () -> new ByteArrayInputStream(zip), call, timeoutMillis) != null,
                "agent sent Pipe$ConnectCommand for the unzip stream " + oidRos);
        ControllerChannel.Outcome r = ch.decode(call.get(timeoutMillis, TimeUnit.MILLISECONDS));
        Report.check(!r.failed() && r.value() == null, "FilePath$UnzipRemote returned null: " + (r.failed() ? messages(r.raw()) : r.value()));
        Report.check(Arrays.equals(app, Files.readAllBytes(target.resolve("out/app.bin"))), "unzip restored out/app.bin");
        Report.check(Files.isRegularFile(target.resolve("out/latest"), LinkOption.NOFOLLOW_LINKS)
                && Arrays.equals(app, Files.readAllBytes(target.resolve("out/latest"))), "unzip restored out/latest as a regular file");
        Report.equal(0644, mode(target.resolve("out/app.bin")), "unzip restored the Unix mode of out/app.bin");
    }

    /** Joins the messages of an exception and its causes, as a stack trace prints them. */
    static String messages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            b.append(b.length() == 0 ? "" : " / caused by ").append(c);
        }
        return b.toString();
    }

    /**
     * unstash of 24 MiB of random bytes, three times the agent's read-ahead buffer, so the
     * controller's writes wait for the agent's Acks and the extraction's progress.
     */
    private void unstashLarge() throws Exception {
        byte[] big = new byte[24 << 20];
        new Random(24).nextBytes(big);
        Path target = fresh("workspace/unstash-large");
        long start = System.nanoTime();
        unstash(gzip(TarFiles.write(List.of(TarFiles.Entry.file("large.bin", 0600, big)))), "large.tar.gz", target);
        Report.info(String.format("unstash of 24 MiB took %.0f ms", (System.nanoTime() - start) / 1e6));
        Path file = target.resolve("large.bin");
        Report.check(Files.isRegularFile(file) && Arrays.equals(big, Files.readAllBytes(file)),
                "unstash of a 24 MiB file restored every byte");
    }

    /**
     * unstash of hostile archives: each must be rejected with an IOException naming the entry,
     * with nothing written outside the workspace, and the channel must stay usable.
     */
    private void hostileUnstash() throws Exception {
        Path outside = fresh("outside");
        Files.createDirectories(outside);
        Path victim = outside.resolve("victim.txt");
        Files.writeString(victim, "untouched\n");
        String absoluteTarget = outside.resolve("absolute.txt").toString();

        record Hostile(String what, String entry, byte[] targz) {}
        byte[] payload = Main.bytes("written by a hostile archive\n");
        byte[] fullStash = gzip(TarFiles.write(List.of(TarFiles.Entry.file("big.bin", 0644, new byte[256 * 1024]))));
        List<Hostile> cases = List.of(
                new Hostile("a parent reference", "../escaped.txt", gzip(TarFiles.write(
                        List.of(TarFiles.Entry.file("ok.txt", 0644, payload), TarFiles.Entry.file("../escaped.txt", 0644, payload))))),
                new Hostile("a parent reference after a directory", "sub/../../escaped.txt", gzip(TarFiles.write(
                        List.of(TarFiles.Entry.file("sub/../../escaped.txt", 0644, payload))))),
                new Hostile("an absolute path", absoluteTarget, gzip(TarFiles.write(
                        List.of(TarFiles.Entry.file(absoluteTarget, 0644, payload))))),
                new Hostile("a file through an absolute symbolic link", "evil/pwned.txt", gzip(TarFiles.write(
                        List.of(TarFiles.Entry.symlink("evil", outside.toString()), TarFiles.Entry.file("evil/pwned.txt", 0644, payload))))),
                new Hostile("a file through a relative symbolic link", "up/pwned.txt", gzip(TarFiles.write(
                        List.of(TarFiles.Entry.symlink("up", "../../../outside"), TarFiles.Entry.file("up/pwned.txt", 0644, payload))))),
                new Hostile("a file over a symbolic link to a file", "victim.txt", gzip(TarFiles.write(
                        List.of(TarFiles.Entry.symlink("victim.txt", victim.toString()), TarFiles.Entry.file("victim.txt", 0644, payload))))),
                new Hostile("a directory through a symbolic link", "evil/newdir", gzip(TarFiles.write(
                        List.of(TarFiles.Entry.symlink("evil", outside.toString()), TarFiles.Entry.directory("evil/newdir", 0755))))),
                new Hostile("a hard link to a file outside", "hard.txt", gzip(TarFiles.write(
                        List.of(new TarFiles.Entry("hard.txt", '1', 0644, 0, 1_700_000_000L, victim.toString(), new byte[0]),
                                TarFiles.Entry.file("hard.txt", 0644, payload))))),
                new Hostile("a truncated stream", "", Arrays.copyOf(fullStash, fullStash.length / 2)),
                new Hostile("bytes that are not gzip", "", Main.bytes("this is not a gzip stream\n".repeat(100))));
        int round = 0;
        for (Hostile h : cases) {
            Path target = fresh("workspace/hostile-" + round++ + "/ws");
            Files.createDirectories(target);
            String name = "hostile-" + round + ".tar.gz";
            ControllerChannel.Outcome r = untar(h.targz(), name, target);
            String message = messages(r.raw());
            Report.check(r.failed() && r.raw() instanceof IOException, "unstash of an archive with " + h.what() + " is rejected with an IOException: "
                    + (r.failed() ? r.raw() : "returned " + r.value()));
            Report.check(r.raw() != null && String.valueOf(r.raw().getMessage()).startsWith("Failed to extract " + name),
                    "the rejection says which archive failed: " + (r.raw() == null ? null : r.raw().getMessage()));
            Report.check(message.contains(h.entry()), "the rejection or its cause names the entry " + h.entry() + ": " + message);
            try (var listing = Files.list(outside)) {
                Set<String> names = new TreeSet<>();
                listing.forEach(p -> names.add(p.getFileName().toString()));
                Report.equal(set("victim.txt"), names, "nothing was written outside the workspace (" + h.what() + ")");
            }
            Report.check(!Files.exists(target.getParent().resolve("escaped.txt")) && !Files.exists(root.resolve("escaped.txt")),
                    "no escaped.txt above the workspace (" + h.what() + ")");
            Report.equal("untouched\n", Files.readString(victim), "the file outside keeps its content (" + h.what() + ")");
        }
        Report.equal(Boolean.TRUE, seq.value(new SlaveComputer.DetectOS()), "channel serves calls after the hostile archives");
    }
}
