package hudson;

import java.io.OutputStream;

/**
 * Mirror of FilePath$CopyTo, what FilePath.copyTo(OutputStream) sends: the agent writes the file
 * into {@code out} (a RemoteOutputStream the controller exported), closes it and returns null.
 */
public final class FilePath$CopyTo extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 4088559042349254141L;
    public final OutputStream out;

    public FilePath$CopyTo(OutputStream out) {
        this.out = out;
    }
}
