package org.jvnet.hudson;

import java.io.Serializable;

/** Mirror of extras-memory-monitor's MemoryUsage (bytes). */
public class MemoryUsage implements Serializable {
    private static final long serialVersionUID = 1L;
    public long totalPhysicalMemory;
    public long availablePhysicalMemory;
    public long totalSwapSpace;
    public long availableSwapSpace;
}
