package kite.controller;

import hudson.FilePath;
import hudson.remoting.ProxyOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends FileCallables wrapped as FilePath.act wraps them, and compares the agent's answers with
 * an expected value, an expected exception, or what the same JDK calls return in this JVM. The
 * controller runs on the agent's machine, so a JDK call on the same path is an oracle for what a
 * Java agent would have answered.
 */
final class FilePathCalls {
    /** Export ids of the controller's pipes and streams, above those of ShellStep. */
    private static final AtomicInteger NEXT_OID = new AtomicInteger(400);

    /** One JDK call standing in for a Java agent's callable body. */
    interface JavaCall {
        Object run() throws Exception;
    }

    /** What the JDK call did: its value, or the exception it threw. */
    record JavaOutcome(Object value, Throwable thrown) {}

    final ControllerChannel ch;
    final long timeoutMillis;

    FilePathCalls(ControllerChannel ch, long timeoutMillis) {
        this.ch = ch;
        this.timeoutMillis = timeoutMillis;
    }

    static int newOid() {
        return NEXT_OID.getAndIncrement();
    }

    /** Sends {@code callable} for {@code path} in a FileCallableWrapper and decodes the answer. */
    ControllerChannel.Outcome act(FilePath.FileCallable callable, String path) throws Exception {
        return ch.call(new FilePath.FileCallableWrapper(callable, new FilePath(path)), timeoutMillis);
    }

    static String name(FilePath.FileCallable callable) {
        return ConnectSequence.simpleName(callable);
    }

    /** Expects the value {@code expected}, of the same class; returns what the agent returned. */
    Object expectValue(String what, FilePath.FileCallable callable, String path, Object expected) throws Exception {
        ControllerChannel.Outcome r = act(callable, path);
        String label = name(callable) + " " + what;
        if (r.failed()) {
            Report.fail(label + ": expected " + expected + ", the agent threw " + describe(r.raw() != null ? r.raw() : r.proxy()));
            return null;
        }
        Report.equal(expected, r.value(), label);
        if (expected != null && r.value() != null) {
            Report.equal(expected.getClass().getName(), r.value().getClass().getName(), label + " (class)");
        }
        return r.value();
    }

    /** Expects a value of class {@code type}; returns it, or null after a failure. */
    <T> T expectType(String what, FilePath.FileCallable callable, String path, Class<T> type) throws Exception {
        ControllerChannel.Outcome r = act(callable, path);
        String label = name(callable) + " " + what;
        if (r.failed()) {
            Report.fail(label + ": the agent threw " + describe(r.raw() != null ? r.raw() : r.proxy()));
            return null;
        }
        if (!type.isInstance(r.value())) {
            Report.fail(label + " returned " + ConnectSequence.className(r.value()) + ", not " + type.getName());
            return null;
        }
        Report.pass(label + " returned a " + type.getSimpleName());
        return type.cast(r.value());
    }

    /** Expects exactly {@code type} with getMessage() {@code message}; returns the exception. */
    Throwable expectThrown(String what, FilePath.FileCallable callable, String path, Class<? extends Throwable> type,
            String message) throws Exception {
        ControllerChannel.Outcome r = act(callable, path);
        String label = name(callable) + " " + what;
        if (!r.failed()) {
            Report.fail(label + ": expected " + type.getName() + ": " + message + ", the agent returned " + r.value());
            return null;
        }
        Throwable raw = r.raw();
        Report.equal(type.getName(), ConnectSequence.className(raw), label + " exception class");
        Report.equal(message, raw == null ? null : raw.getMessage(), label + " exception message");
        String proxy = r.proxy() == null ? null : r.proxy().getMessage();
        Report.check(proxy != null && proxy.startsWith(type.getName()),
                label + " ProxyException names " + type.getName() + ": " + proxy);
        return raw;
    }

    /** Expects exactly {@code type} with a message matching {@code regex} (for names with random digits). */
    void expectThrownMatching(String what, FilePath.FileCallable callable, String path, Class<? extends Throwable> type,
            String regex) throws Exception {
        ControllerChannel.Outcome r = act(callable, path);
        String label = name(callable) + " " + what;
        if (!r.failed()) {
            Report.fail(label + ": expected " + type.getName() + ", the agent returned " + r.value());
            return;
        }
        Report.equal(type.getName(), ConnectSequence.className(r.raw()), label + " exception class");
        String message = r.raw() == null ? null : r.raw().getMessage();
        Report.check(message != null && message.matches(regex), label + " exception message matches " + regex + ": " + message);
    }

    /**
     * Runs {@code oracle} in this JVM and expects the agent to return an equal value of the same
     * class, or to throw the same exception class with the same message (and, for java.nio
     * exceptions, the same file, other file and reason). Use it for calls that do not change
     * anything, or that fail.
     */
    Object expectLikeJava(String what, FilePath.FileCallable callable, String path, JavaCall oracle) throws Exception {
        JavaOutcome java = runJava(oracle);
        if (java.thrown() == null) {
            return expectValue(what, callable, path, java.value());
        }
        Throwable raw = expectThrown(what, callable, path, java.thrown().getClass(), java.thrown().getMessage());
        if (java.thrown() instanceof FileSystemException want && raw instanceof FileSystemException got) {
            String label = name(callable) + " " + what;
            Report.equal(want.getFile(), got.getFile(), label + " getFile()");
            Report.equal(want.getOtherFile(), got.getOtherFile(), label + " getOtherFile()");
            Report.equal(want.getReason(), got.getReason(), label + " getReason()");
        }
        return raw;
    }

    static JavaOutcome runJava(JavaCall oracle) {
        try {
            return new JavaOutcome(oracle.run(), null);
        } catch (Exception e) {
            return new JavaOutcome(null, e);
        }
    }

    static String describe(Throwable t) {
        return t == null ? "null" : t.getClass().getName() + ": " + t.getMessage();
    }

    /** The bytes the agent sent to the controller's stream {@code oid}, in arrival order. */
    byte[] received(int oid) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (ProxyOutputStream.Chunk c : ch.chunks) {
            if (c.oid == oid) {
                b.write(c.buf);
            }
        }
        return b.toByteArray();
    }

    /** The ProxyOutputStream$EOF commands the agent sent for {@code oid}. */
    List<ProxyOutputStream.EOF> ends(int oid) {
        List<ProxyOutputStream.EOF> l = new ArrayList<>();
        for (ProxyOutputStream.EOF e : ch.eofs) {
            if (e.oid == oid) {
                l.add(e);
            }
        }
        return l;
    }

    static boolean same(Object a, Object b) {
        return Objects.equals(a, b);
    }
}
