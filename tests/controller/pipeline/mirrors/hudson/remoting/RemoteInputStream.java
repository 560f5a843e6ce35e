package hudson.remoting;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;

/**
 * Mirror of remoting's RemoteInputStream in its greedy form, as FilePath.untar sends it. The
 * descriptor lists {@code autoUnexport} and {@code greedy} like remoting's class, but writeObject
 * writes only custom data: the boolean true (greedy) and a local-to-remote Pipe through which the
 * controller pushes the stream's bytes once the agent connects to it.
 */
public final class RemoteInputStream extends InputStream implements Serializable {
    private static final long serialVersionUID = 1L;
    // Present only so that the class descriptor matches remoting's; never written.
    private boolean autoUnexport = true;
    private boolean greedy = true;
    private final transient Pipe pipe;

    /** Creates a greedy stream whose bytes the controller writes into {@code pipe}. */
    public RemoteInputStream(Pipe pipe) {
        this.pipe = pipe;
    }

    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.writeBoolean(greedy);
        oos.writeObject(pipe);
    }

    @Override
    public int read() throws IOException {
        throw new IOException("the test controller sends this stream's bytes as ProxyOutputStream commands"
                + (autoUnexport ? "" : " (not auto-unexported)"));
    }
}
