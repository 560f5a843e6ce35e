package hudson.remoting;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;

/**
 * Mirror of remoting's RemoteOutputStream: no field values, custom data = the export id of the
 * writer's stream (the controller's, or the agent's when the agent returns one). The test
 * controller collects what arrives for an id itself, so write() is never used here.
 */
public final class RemoteOutputStream extends OutputStream implements Serializable {
    private static final long serialVersionUID = 1L;
    private transient int oid;

    public RemoteOutputStream(int oid) {
        this.oid = oid;
    }

    public int oid() {
        return oid;
    }

    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.writeInt(oid);
    }

    private void readObject(ObjectInputStream ois) throws IOException {
        oid = ois.readInt();
    }

    @Override
    public void write(int b) throws IOException {
        throw new IOException("the test controller reads its exported stream " + oid + " from ProxyOutputStream commands");
    }
}
