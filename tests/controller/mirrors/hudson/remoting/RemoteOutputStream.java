package hudson.remoting;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;

/**
 * Mirror of remoting's RemoteOutputStream as the controller sends it: no field values, custom
 * data = the export id of the controller's stream. The test controller collects what arrives for
 * that id itself, so write() is never used here.
 */
public final class RemoteOutputStream extends OutputStream implements Serializable {
    private static final long serialVersionUID = 1L;
    private final transient int oid;

    public RemoteOutputStream(int oid) {
        this.oid = oid;
    }

    public int oid() {
        return oid;
    }

    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.writeInt(oid);
    }

    @Override
    public void write(int b) throws IOException {
        throw new IOException("the test controller reads its exported stream " + oid + " from ProxyOutputStream commands");
    }
}
