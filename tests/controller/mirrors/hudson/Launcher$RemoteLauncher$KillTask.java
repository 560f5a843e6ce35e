package hudson;

import java.util.Map;

/** Mirror of Launcher$RemoteLauncher$KillTask: kills every process whose environment contains the model. */
public final class Launcher$RemoteLauncher$KillTask extends jenkins.security.MasterToSlaveCallable {
    private static final long serialVersionUID = 1L;
    public final Map<String, String> modelEnvVars;

    public Launcher$RemoteLauncher$KillTask(Map<String, String> modelEnvVars) {
        this.modelEnvVars = modelEnvVars;
    }
}
