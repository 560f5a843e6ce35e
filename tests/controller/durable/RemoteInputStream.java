package kite.controller;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.Serializable;

/**
 * Reads remoting's hudson.remoting.RemoteInputStream as the agent writes it in an IOTriplet:
 * no field values, then custom data, a greedy flag and, for the non-greedy form Kite and the Java
 * agent send, the export id of the agent's stream. DurableShell maps the class to this one when
 * it decodes getIOtriplet; the JDK accepts it because the simple names are equal.
 */
final class RemoteInputStream extends InputStream implements Serializable {
    private static final long serialVersionUID = 1L;
    // The descriptor lists these two fields; their values are never written, and greedy is
    // set from the custom data.
    @SuppressWarnings("unused")
    private boolean autoUnexport;
    private boolean greedy;
    /** Export id of the agent's stream (non-greedy form only). */
    transient int oid;

    private void readObject(ObjectInputStream ois) throws IOException, ClassNotFoundException {
        greedy = ois.readBoolean();
        if (greedy) {
            ois.readObject();  // a Pipe: never sent for launch pipes
        } else {
            oid = ois.readInt();
        }
    }

    boolean greedy() {
        return greedy;
    }

    @Override
    public int read() throws IOException {
        throw new IOException("the test controller closes the agent's stream " + oid + " without reading it");
    }
}
