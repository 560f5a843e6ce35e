package kite.oracle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Externalizable;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.ObjectInput;
import java.io.ObjectInputStream;
import java.io.ObjectOutput;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.io.Serializable;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * JDK reference for Kite's serialization codec, using only the JDK.
 *
 * <pre>
 *   java kite.oracle.Oracle write DIR   writes one NAME.bin per case with ObjectOutputStream
 *   java kite.oracle.Oracle check DIR   reads every NAME.bin in DIR with ObjectInputStream and
 *                                       compares it with the value of case NAME
 *   java kite.oracle.Oracle bench FILE... [ROUNDS]  prints JDK decode/encode throughput
 * </pre>
 *
 * Cases named payload_* are written and read with remoting-style class-loader
 * tags in every class annotation (see TaggedOutput).
 */
public final class Oracle {
    private Oracle() {}

    // ------------------------------------------------------------ test classes

    static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        String name;
        Node next;
        List<Node> children = new ArrayList<>();

        Node(String name) {
            this.name = name;
        }
    }

    /** Calls defaultWriteObject, then writes primitives and objects. */
    static final class Custom implements Serializable {
        private static final long serialVersionUID = 2L;
        int a = 5;
        String b = "bee";
        transient long extra = 77;

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
            out.writeInt(99);
            out.writeUTF("tail");
            out.writeObject("obj");
            out.writeLong(extra);
        }

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            in.readInt();
            in.readUTF();
            in.readObject();
            extra = in.readLong();
        }
    }

    /** Lists object fields but writes only custom data, like remoting's Pipe. */
    static final class NoDefault implements Serializable {
        private static final long serialVersionUID = 3L;
        Object in;
        Object out;
        transient int id = 4;

        private void writeObject(ObjectOutputStream s) throws IOException {
            s.writeBoolean(true);
            s.writeInt(id);
        }

        private void readObject(ObjectInputStream s) throws IOException {
            s.readBoolean();
            id = s.readInt();
        }
    }

    /** Lists primitive fields but writes only custom data, like RemoteInputStream. */
    static final class NoDefaultPrim implements Serializable {
        private static final long serialVersionUID = 4L;
        boolean autoUnexport;
        boolean greedy = true;
        transient Object payload = "p";

        private void writeObject(ObjectOutputStream s) throws IOException {
            s.writeBoolean(greedy);
            s.writeObject(payload);
        }

        private void readObject(ObjectInputStream s) throws IOException, ClassNotFoundException {
            greedy = s.readBoolean();
            payload = s.readObject();
        }
    }

    /** Custom data longer than one 1024-byte block record. */
    static final class BigBlock implements Serializable {
        private static final long serialVersionUID = 5L;
        transient byte[] data = new byte[3000];

        BigBlock() {
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7);
            }
        }

        private void writeObject(ObjectOutputStream s) throws IOException {
            s.defaultWriteObject();
            s.writeInt(data.length);
            s.write(data);
            s.writeObject("after");
            s.writeShort(3);
        }

        private void readObject(ObjectInputStream s) throws IOException, ClassNotFoundException {
            s.defaultReadObject();
            data = new byte[s.readInt()];
            s.readFully(data);
            s.readObject();
            s.readShort();
        }
    }

    public static final class Ext implements Externalizable {
        private static final long serialVersionUID = 6L;
        int x = 12;
        String s = "ext";

        public Ext() {}

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeInt(x);
            out.writeObject(s);
            out.writeUTF("u");
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException, ClassNotFoundException {
            x = in.readInt();
            s = (String) in.readObject();
            in.readUTF();
        }
    }

    static final class Handler implements InvocationHandler, Serializable {
        private static final long serialVersionUID = 7L;
        String id = "handler-1";
        int oid = 12;

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            return null;
        }
    }

    public interface Greeter {
        String greet();
    }

    enum Color {
        RED,
        GREEN {
            @Override
            public String toString() {
                return "green";
            }
        },
        BLUE
    }

    record Point(int x, int y) implements Serializable {}

    /** Its second field is not serializable, so writeObject fails mid-object. */
    static final class Holder implements Serializable {
        private static final long serialVersionUID = 8L;
        Object ok = "fine";
        Object bad = new Object();
    }

    static class Parent implements Serializable {
        private static final long serialVersionUID = 9L;
        long stamp = 77;
    }

    static final class Child extends Parent {
        private static final long serialVersionUID = 10L;
        String label = "child";
    }

    static final class AllPrimitives implements Serializable {
        private static final long serialVersionUID = 11L;
        byte b = -2;
        char c = '\u00e9';
        double d = -0.5;
        float f = 3.25f;
        int i = -100000;
        long j = Long.MIN_VALUE;
        short s = 300;
        boolean z = true;
        String zz = "last";
    }

    // --------------------------------------------------------------- values

    static StackTraceElement[] frames() {
        return new StackTraceElement[] {
            new StackTraceElement("com.example.Worker", "run", "Worker.java", 42),
            new StackTraceElement("com.example.Worker", "main", "Worker.java", 7),
        };
    }

    static <T extends Throwable> T traced(T t) {
        t.setStackTrace(frames());
        return t;
    }

    static String longString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 70 * 1024; i++) {
            sb.append("line ").append(i).append('\n');
        }
        return sb.toString();
    }

    /**
     * Values that Kite's typed helpers build too: Kite must write the same
     * bytes, and the JDK must read Kite's bytes back to an equal value.
     */
    static Map<String, Object> values() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("bool_true", Boolean.TRUE);
        v.put("int_42", 42);
        v.put("long_big", 1234567890123L);
        v.put("short_neg", (short) -7);
        v.put("byte_5", (byte) 5);
        v.put("char_e", '\u00e9');
        v.put("double_half", 3.5);
        v.put("float_quarter", 1.25f);
        v.put("string_hello", "hello");
        v.put("string_nul", "a\u0000b");
        v.put("string_astral", "x\uD83D\uDE00y\u4e2d");
        v.put("string_empty", "");
        v.put("string_70k", longString());
        v.put("bytes_123", new byte[] {1, 2, 3});
        v.put("bytes_empty", new byte[0]);
        v.put("string_array", new String[] {"x", "y"});
        v.put("array_list", new ArrayList<>(List.of("a", "b")));
        v.put("array_list_empty", new ArrayList<>());
        HashMap<String, String> one = new HashMap<>();
        one.put("K", "V");
        v.put("hash_map", one);
        HashMap<String, Integer> twenty = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            twenty.put("key" + i, i * 1000);
        }
        v.put("hash_map_20", twenty);
        v.put("hash_map_empty", new HashMap<>());
        HashSet<String> set = new HashSet<>();
        set.add("a.txt");
        set.add("b.txt");
        set.add("zz");
        v.put("hash_set", set);
        TreeMap<String, Integer> tree = new TreeMap<>();
        tree.put("b", 1000);
        tree.put("a", 2000);
        tree.put("B", 3000);
        v.put("tree_map", tree);
        LinkedHashMap<String, Long> linked = new LinkedHashMap<>();
        linked.put("z", 1L);
        linked.put("a", 2L);
        v.put("linked_hash_map", linked);
        v.put("empty_list", Collections.emptyList());
        v.put("singleton_map", Collections.singletonMap("k", "v"));
        v.put("file", new File("/tmp/x"));
        v.put("enum_thread_state", Thread.State.RUNNABLE);
        v.put("exc_io", traced(new IOException("boom")));
        v.put("exc_runtime_cause",
                traced(new RuntimeException("outer", traced(new IOException("inner")))));
        IOException withSuppressed = traced(new IOException("primary"));
        withSuppressed.addSuppressed(traced(new IllegalStateException("s1")));
        withSuppressed.addSuppressed(traced(new IllegalArgumentException("s2")));
        v.put("exc_suppressed", withSuppressed);
        v.put("exc_no_cause", traced(new IOException("m", null)));
        v.put("exc_interrupted", traced(new InterruptedException("stop")));
        v.put("exc_file_not_found", traced(new FileNotFoundException("/x (No such file or directory)")));
        v.put("exc_no_such_file", traced(new NoSuchFileException("/tmp/missing")));
        v.put("exc_access_denied", traced(new AccessDeniedException("/root/x", null, "denied")));
        InterruptedIOException iio = traced(new InterruptedIOException("timed out"));
        iio.bytesTransferred = 17;
        v.put("exc_interrupted_io", iio);
        v.put("exc_abort", traced(new hudson.AbortException("aborted by user")));
        v.put("exc_proxy", traced(new hudson.remoting.ProxyException("java.lang.Foo: bar")));
        v.put("exc_empty_trace", new IOException("no frames"));
        ((Throwable) v.get("exc_empty_trace")).setStackTrace(new StackTraceElement[0]);
        v.put("payload_point_list", new ArrayList<>(List.of(5, new Point(1, -2))));
        return v;
    }

    /** Whole streams for decode/re-encode checks. */
    interface Case {
        void write(ObjectOutputStream out) throws IOException;
    }

    static Map<String, Case> streams() {
        Map<String, Case> s = new LinkedHashMap<>();
        s.put("custom_write", out -> out.writeObject(new Custom()));
        s.put("no_default", out -> out.writeObject(new NoDefault()));
        s.put("no_default_prim", out -> out.writeObject(new NoDefaultPrim()));
        s.put("big_block", out -> out.writeObject(new BigBlock()));
        s.put("externalizable", out -> out.writeObject(new Ext()));
        s.put("proxy", out -> out.writeObject(Proxy.newProxyInstance(Oracle.class.getClassLoader(),
                new Class<?>[] {Greeter.class, Runnable.class}, new Handler())));
        s.put("cyclic", out -> {
            Node a = new Node("a");
            Node b = new Node("b");
            a.next = b;
            b.next = a;
            a.children.add(a);
            a.children.add(b);
            out.writeObject(a);
        });
        s.put("shared", out -> {
            Custom c = new Custom();
            out.writeObject(new ArrayList<>(List.of(c, c, "s", "s")));
            out.writeObject(c);
        });
        s.put("reset", out -> {
            Custom c = new Custom();
            out.writeObject(c);
            out.reset();
            out.writeObject(c);
            out.writeObject(c);
        });
        s.put("write_aborted", out -> {
            out.writeObject("before");
            try {
                out.writeObject(new Holder());
            } catch (IOException expected) {
                // ObjectOutputStream has written TC_EXCEPTION and the exception.
            }
            out.writeObject("after");
        });
        s.put("top_level_block", out -> {
            out.writeInt(7);
            out.writeUTF("hi");
            out.writeObject(1);
            byte[] big = new byte[2500];
            Arrays.fill(big, (byte) 9);
            out.write(big);
            out.writeObject("end");
        });
        s.put("class_objects", out -> {
            out.writeObject(String.class);
            out.writeObject(int[].class);
            out.writeObject(String.class);
            out.writeObject(ObjectStreamClass.lookup(Custom.class));
        });
        s.put("record", out -> out.writeObject(new Point(3, 4)));
        s.put("inheritance", out -> out.writeObject(new Child()));
        s.put("all_primitives", out -> out.writeObject(new AllPrimitives()));
        s.put("primitive_arrays", out -> {
            out.writeObject(new boolean[] {true, false});
            out.writeObject(new char[] {'a', '\u4e2d'});
            out.writeObject(new short[] {1, -1});
            out.writeObject(new int[] {1, 2, 3});
            out.writeObject(new long[] {Long.MAX_VALUE});
            out.writeObject(new float[] {1.5f});
            out.writeObject(new double[] {Double.NaN, -0.0});
        });
        s.put("nested_arrays", out -> {
            out.writeObject(new int[][] {{1, 2}, {3}, null});
            out.writeObject(new Object[] {"s", new long[] {1}, null, new String[][] {{"deep"}}});
        });
        s.put("enums", out -> {
            out.writeObject(Color.GREEN);
            out.writeObject(new ArrayList<>(List.of(Color.RED, Color.GREEN, Color.BLUE, Color.GREEN)));
        });
        s.put("deep_chain", out -> {
            Node head = new Node("0");
            Node cur = head;
            for (int i = 1; i < 150; i++) {
                cur.next = new Node(Integer.toString(i));
                cur = cur.next;
            }
            out.writeObject(head);
        });
        s.put("many_values", out -> {
            for (Object o : values().values()) {
                out.writeObject(o);
            }
        });
        s.put("payload_mixed", null);
        return s;
    }

    // ------------------------------------------------- remoting-style tags

    /** Writes a class-loader tag after each descriptor, as remoting's MultiClassLoaderSerializer does. */
    static final class TaggedOutput extends ObjectOutputStream {
        private final Map<ClassLoader, Integer> loaders = new IdentityHashMap<>();

        TaggedOutput(OutputStream out) throws IOException {
            super(out);
        }

        @Override
        protected void annotateClass(Class<?> c) throws IOException {
            tag(c.getClassLoader());
        }

        @Override
        protected void annotateProxyClass(Class<?> c) throws IOException {
            tag(c.getClassLoader());
        }

        private void tag(ClassLoader cl) throws IOException {
            if (cl == null) {
                writeInt(-3);
                return;
            }
            Integer index = loaders.get(cl);
            if (index != null) {
                writeInt(index);
                return;
            }
            loaders.put(cl, loaders.size());
            writeInt(-1);
            writeInt(7);
        }
    }

    /** Reads the tags TaggedOutput (or Kite's writer) puts in class annotations. */
    static final class TaggedInput extends ObjectInputStream {
        TaggedInput(InputStream in) throws IOException {
            super(in);
        }

        private void readTag() throws IOException {
            int tag = readInt();
            if (tag == -1 || tag == -2) {
                readInt();
            } else if (tag < -3) {
                throw new IOException("invalid class-loader tag " + tag);
            }
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            readTag();
            return super.resolveClass(desc);
        }

        @Override
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
            readTag();
            return super.resolveProxyClass(interfaces);
        }
    }

    static byte[] serialize(String name, Case c) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = name.startsWith("payload_") ? new TaggedOutput(bytes)
                : new ObjectOutputStream(bytes)) {
            c.write(out);
        }
        return bytes.toByteArray();
    }

    static ObjectInputStream input(String name, byte[] data) throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(data);
        return name.startsWith("payload_") ? new TaggedInput(in) : new ObjectInputStream(in);
    }

    // ----------------------------------------------------------- equality

    static boolean same(Object expected, Object actual, IdentityHashMap<Object, Object> seen) {
        if (expected == null || actual == null) {
            return expected == actual;
        }
        if (expected.getClass() != actual.getClass()) {
            return false;
        }
        if (seen.put(expected, actual) != null) {
            return true;
        }
        if (expected instanceof Throwable e) {
            Throwable a = (Throwable) actual;
            if (!Objects.equals(e.getMessage(), a.getMessage())
                    || !Arrays.equals(e.getStackTrace(), a.getStackTrace())) {
                return false;
            }
            Throwable[] es = e.getSuppressed();
            Throwable[] as = a.getSuppressed();
            if (es.length != as.length) {
                return false;
            }
            for (int i = 0; i < es.length; i++) {
                if (!same(es[i], as[i], seen)) {
                    return false;
                }
            }
            if (e instanceof InterruptedIOException ei
                    && ei.bytesTransferred != ((InterruptedIOException) a).bytesTransferred) {
                return false;
            }
            return same(e.getCause(), a.getCause(), seen);
        }
        if (expected instanceof Object[] e) {
            return Arrays.deepEquals(e, (Object[]) actual);
        }
        if (expected instanceof byte[] e) {
            return Arrays.equals(e, (byte[]) actual);
        }
        return expected.equals(actual);
    }

    // ------------------------------------------------------------- modes

    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, Object> e : values().entrySet()) {
            Object value = e.getValue();
            Files.write(dir.resolve(e.getKey() + ".bin"), serialize(e.getKey(), out -> out.writeObject(value)));
        }
        for (Map.Entry<String, Case> e : streams().entrySet()) {
            Case c = e.getValue();
            if (c == null) {
                c = out -> {
                    out.writeObject(new ArrayList<>(List.of(new Custom(), 5, new Custom())));
                    out.writeObject(Proxy.newProxyInstance(Oracle.class.getClassLoader(),
                            new Class<?>[] {Greeter.class}, new Handler()));
                    out.writeObject(Color.BLUE);
                };
            }
            Files.write(dir.resolve(e.getKey() + ".bin"), serialize(e.getKey(), c));
        }
    }

    static int check(Path dir) throws IOException {
        Map<String, Object> expected = values();
        int failures = 0;
        int checked = 0;
        try (var files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                String file = p.getFileName().toString();
                if (!file.endsWith(".bin")) {
                    continue;
                }
                String name = file.substring(0, file.length() - 4);
                if (!expected.containsKey(name)) {
                    System.out.println("FAIL " + name + ": no such case");
                    failures++;
                    continue;
                }
                checked++;
                try (ObjectInputStream in = input(name, Files.readAllBytes(p))) {
                    Object actual = in.readObject();
                    if (in.available() != 0 || in.read() != -1) {
                        System.out.println("FAIL " + name + ": trailing bytes");
                        failures++;
                    } else if (!same(expected.get(name), actual, new IdentityHashMap<>())) {
                        System.out.println("FAIL " + name + ": read " + actual + ", expected " + expected.get(name));
                        failures++;
                    } else {
                        System.out.println("ok " + name);
                    }
                } catch (Exception ex) {
                    System.out.println("FAIL " + name + ": " + ex);
                    failures++;
                }
            }
        }
        System.out.println(checked + " checked, " + failures + " failed");
        return failures == 0 && checked > 0 ? 0 : 1;
    }

    /** Decodes and re-encodes each file ROUNDS times after a warm-up; prints MB/s. */
    static void bench(List<Path> files, int rounds) throws Exception {
        List<byte[]> inputs = new ArrayList<>();
        List<List<Object>> decoded = new ArrayList<>();
        long total = 0;
        for (Path p : files) {
            byte[] b = Files.readAllBytes(p);
            List<Object> objects = readAll(b);
            if (objects != null) {
                inputs.add(b);
                decoded.add(objects);
                total += b.length;
            }
        }
        for (int warm = 0; warm < 3; warm++) {
            runDecode(inputs, rounds);
            runEncode(decoded, rounds);
        }
        long t0 = System.nanoTime();
        runDecode(inputs, rounds);
        long t1 = System.nanoTime();
        runEncode(decoded, rounds);
        long t2 = System.nanoTime();
        double mb = (double) total * rounds / 1e6;
        System.out.printf("jdk files=%d bytes=%d rounds=%d decode_MBps=%.1f encode_MBps=%.1f%n",
                inputs.size(), total, rounds, mb / ((t1 - t0) / 1e9), mb / ((t2 - t1) / 1e9));
        for (Path p : files) {
            byte[] b = Files.readAllBytes(p);
            if (readAll(b) != null) {
                System.out.println("jdk-readable " + p.getFileName());
            }
        }
    }

    /** Every top-level object of a plain stream, or null when the JDK cannot read it all. */
    static List<Object> readAll(byte[] b) {
        List<Object> objects = new ArrayList<>();
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
            for (;;) {
                objects.add(in.readObject());
            }
        } catch (java.io.EOFException end) {
            return objects;
        } catch (Exception unreadable) {
            return null;
        }
    }

    static void runDecode(List<byte[]> inputs, int rounds) throws Exception {
        for (int r = 0; r < rounds; r++) {
            for (byte[] b : inputs) {
                try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
                    for (;;) {
                        in.readObject();
                    }
                } catch (java.io.EOFException end) {
                    // All objects read.
                }
            }
        }
    }

    static void runEncode(List<List<Object>> values, int rounds) throws Exception {
        for (int r = 0; r < rounds; r++) {
            for (List<Object> objects : values) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                    for (Object v : objects) {
                        out.writeObject(v);
                    }
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("write")) {
            write(Path.of(args[1]));
        } else if (args.length >= 2 && args[0].equals("check")) {
            System.exit(check(Path.of(args[1])));
        } else if (args.length >= 2 && args[0].equals("bench")) {
            List<Path> files = new ArrayList<>();
            int rounds = 50;
            for (int i = 1; i < args.length; i++) {
                if (args[i].matches("\\d+")) {
                    rounds = Integer.parseInt(args[i]);
                } else {
                    files.add(Path.of(args[i]));
                }
            }
            bench(files, rounds);
        } else {
            System.err.println("usage: Oracle write DIR | check DIR | bench FILE... [ROUNDS]");
            System.exit(2);
        }
    }
}
