package jenkins;

import hudson.FilePath;

/** Mirror of Jenkins' MasterToSlaveFileCallable, the superclass of file callables. */
public abstract class MasterToSlaveFileCallable implements FilePath.FileCallable {
    private static final long serialVersionUID = 1L;
}
