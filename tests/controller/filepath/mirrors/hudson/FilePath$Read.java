package hudson;

import hudson.remoting.Pipe;
import java.nio.file.OpenOption;

/**
 * Mirror of FilePath$Read, what FilePath.read() sends for a remote path: the agent streams the
 * file into {@code p} (a remote-to-local Pipe) and returns null.
 */
public final class FilePath$Read extends jenkins.MasterToSlaveFileCallable {
    private static final long serialVersionUID = 1L;
    public final Pipe p;
    public final String verificationRoot;
    public final OpenOption[] openOptions;

    public FilePath$Read(Pipe p, String verificationRoot, OpenOption... openOptions) {
        this.p = p;
        this.verificationRoot = verificationRoot;
        this.openOptions = openOptions;
    }
}
