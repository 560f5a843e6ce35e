package hudson.remoting;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;

/**
 * Mirror of remoting's Pipe as the controller writes it. The descriptor lists the fields
 * {@code in} and {@code out} like remoting's class, but writeObject writes only its custom data:
 * a boolean (true when the reader, here the controller, exported the receiving end) and that
 * export id. The test controller collects the ProxyOutputStream commands for the id itself.
 */
public final class Pipe implements Serializable {
    private static final long serialVersionUID = 1L;
    private final transient boolean remoteWrites;
    private final transient int oid;
    // Present only so that the class descriptor matches remoting's; never written.
    private InputStream in;
    private OutputStream out;

    private Pipe(boolean remoteWrites, int oid) {
        this.remoteWrites = remoteWrites;
        this.oid = oid;
    }

    /** Pipe.createRemoteToLocal(): the agent writes, the controller reads what arrives for {@code oid}. */
    public static Pipe createRemoteToLocal(int oid) {
        return new Pipe(true, oid);
    }

    /** Pipe.createLocalToRemote(): the controller writes; the agent answers with Pipe$ConnectCommand for {@code oid}. */
    public static Pipe createLocalToRemote(int oid) {
        return new Pipe(false, oid);
    }

    public int oid() {
        return oid;
    }

    private void writeObject(ObjectOutputStream oos) throws IOException {
        oos.writeBoolean(remoteWrites);
        oos.writeInt(oid);
    }

    /**
     * Mirror of Pipe$ConnectCommand: the agent's answer to a local-to-remote Pipe, asking the
     * controller to send the pipe's data ({@code oidRos}, the controller's writer) to the agent's
     * export {@code oidPos}.
     */
    public static final class ConnectCommand extends Command {
        static final long serialVersionUID = -9128735897846418140L;
        public final int oidRos;
        public final int oidPos;

        public ConnectCommand(int oidRos, int oidPos) {
            this.oidRos = oidRos;
            this.oidPos = oidPos;
        }
    }
}
