package kite.controller;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Payload streams as remoting's MultiClassLoaderSerializer writes them: after every class
 * descriptor comes one int naming the class loader (-3 bootstrap, -2 exported by the writer with
 * its oid, -1 a loader of the reader with the reader's oid, n >= 0 the n-th loader already named
 * in this payload).
 */
final class Payloads {
    static final int TAG_SYSTEM = -3;
    static final int TAG_EXPORTED = -2;
    static final int TAG_LOCAL = -1;

    /** One class-loader annotation read from an agent payload, for the checks. */
    record Annotation(String className, int tag, int oid) {}

    private Payloads() {}

    /** Serializes {@code value}, naming the controller's class loader with export id {@code loaderOid}. */
    static byte[] write(Object value, int loaderOid) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new AnnotatingOutput(bytes, loaderOid)) {
            out.writeObject(value);
        }
        return bytes.toByteArray();
    }

    /**
     * Deserializes an agent payload. Loader annotations are checked against the grammar and
     * collected into {@code seen}; classes resolve through this JVM's loaders whatever the tag,
     * like the controller's fallback to its core loader.
     */
    static Object read(byte[] payload, int loaderOid, List<Annotation> seen)
            throws IOException, ClassNotFoundException {
        try (ObjectInputStream in = new AnnotatedInput(new ByteArrayInputStream(payload), loaderOid, seen)) {
            return in.readObject();
        }
    }

    /** Payload writer; scenario groups subclass it to write a mirror under another class name. */
    static class AnnotatingOutput extends ObjectOutputStream {
        private final int loaderOid;
        private final Map<ClassLoader, Integer> announced = new IdentityHashMap<>();

        AnnotatingOutput(OutputStream out, int loaderOid) throws IOException {
            super(out);
            this.loaderOid = loaderOid;
        }

        private void annotate(ClassLoader loader) throws IOException {
            if (loader == null) {
                writeInt(TAG_SYSTEM);
                return;
            }
            Integer index = announced.get(loader);
            if (index != null) {
                writeInt(index);
                return;
            }
            announced.put(loader, announced.size());
            writeInt(TAG_EXPORTED);
            writeInt(loaderOid);
        }

        @Override
        protected void annotateClass(Class<?> c) throws IOException {
            annotate(c.getClassLoader());
        }

        @Override
        protected void annotateProxyClass(Class<?> c) throws IOException {
            annotate(c.getClassLoader());
        }
    }

    private static final class AnnotatedInput extends ObjectInputStream {
        private final int loaderOid;
        private final List<Annotation> seen;
        private final List<Integer> loaders = new ArrayList<>();

        AnnotatedInput(InputStream in, int loaderOid, List<Annotation> seen) throws IOException {
            super(in);
            this.loaderOid = loaderOid;
            this.seen = seen;
        }

        private void readAnnotation(String className) throws IOException {
            int tag = readInt();
            int oid = 0;
            if (tag == TAG_EXPORTED || tag == TAG_LOCAL) {
                oid = readInt();
                if (tag == TAG_LOCAL && oid != loaderOid) {
                    throw new IOException("class " + className + " names controller loader " + oid
                            + " but the controller exported only loader " + loaderOid);
                }
                loaders.add(oid);
            } else if (tag >= 0) {
                if (tag >= loaders.size()) {
                    throw new IOException("class " + className + " refers to loader index " + tag
                            + " but only " + loaders.size() + " were announced");
                }
                oid = loaders.get(tag);
            } else if (tag != TAG_SYSTEM) {
                throw new IOException("class " + className + " has an invalid loader tag " + tag);
            }
            seen.add(new Annotation(className, tag, oid));
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            readAnnotation(desc.getName());
            return Class.forName(desc.getName(), false, Payloads.class.getClassLoader());
        }

        @Override
        @SuppressWarnings("deprecation")
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
            readAnnotation("proxy" + List.of(interfaces));
            if (!seen.isEmpty() && seen.get(seen.size() - 1).tag() == TAG_SYSTEM) {
                throw new ClassNotFoundException("proxy " + List.of(interfaces)
                        + " is annotated with the bootstrap loader, which cannot load its interfaces");
            }
            Class<?>[] classes = new Class<?>[interfaces.length];
            for (int i = 0; i < interfaces.length; i++) {
                classes[i] = Class.forName(interfaces[i], false, Payloads.class.getClassLoader());
            }
            return Proxy.getProxyClass(Payloads.class.getClassLoader(), classes);
        }
    }
}
