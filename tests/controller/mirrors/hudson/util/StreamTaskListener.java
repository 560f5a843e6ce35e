package hudson.util;

import hudson.remoting.RemoteOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;

/**
 * Mirror of hudson.util.StreamTaskListener as a build listener travels: the descriptor names
 * the fields out and charset, but writeObject sends no field values, only a RemoteOutputStream
 * and then the charset name.
 */
public class StreamTaskListener extends AbstractTaskListener {
    private static final long serialVersionUID = 1L;
    private final transient Charset charset;
    private final transient RemoteOutputStream remote;

    public StreamTaskListener(RemoteOutputStream remote, Charset charset) {
        this.remote = remote;
        this.charset = charset;
    }

    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.writeObject(remote);
        oos.writeObject(charset == null ? null : charset.name());
    }

    private static final java.io.ObjectStreamField[] serialPersistentFields = {
        new java.io.ObjectStreamField("charset", Charset.class),
        new java.io.ObjectStreamField("out", PrintStream.class),
    };
}
