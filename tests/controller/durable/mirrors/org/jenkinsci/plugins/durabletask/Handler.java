package org.jenkinsci.plugins.durabletask;

import java.io.Serializable;

/**
 * Mirror of durable-task's Handler. The plugin declares no serialVersionUID; the value here is
 * the one the JDK computes for the plugin's class (two public abstract methods, no fields).
 */
public abstract class Handler implements Serializable {
    private static final long serialVersionUID = 7125658611104808824L;
}
