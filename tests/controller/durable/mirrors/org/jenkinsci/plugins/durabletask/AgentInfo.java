package org.jenkinsci.plugins.durabletask;

import java.io.Serializable;

/**
 * Mirror of durable-task's AgentInfo: what the agent reports before a launch (its OS, the
 * architecture name, and whether the plugin's Go wrapper binary can run there).
 */
public final class AgentInfo implements Serializable {
    private static final long serialVersionUID = 7599995179651071957L;
    public OsType os;
    public String binaryPath;
    public String architecture;
    public boolean binaryCompatible;
    public boolean binaryCached;
    public boolean cachingAvailable;

    /** Mirror of AgentInfo$OsType; enums travel by constant name. */
    public enum OsType {
        DARWIN, LINUX, WINDOWS, FREEBSD, ZOS, UNKNOWN
    }

    /** Mirror of AgentInfo$GetAgentInfo, run on the node root; binaryVersion is the plugin version. */
    public static final class GetAgentInfo extends jenkins.MasterToSlaveFileCallable {
        private static final long serialVersionUID = 1L;
        public final String binaryVersion;

        public GetAgentInfo(String binaryVersion) {
            this.binaryVersion = binaryVersion;
        }
    }
}
