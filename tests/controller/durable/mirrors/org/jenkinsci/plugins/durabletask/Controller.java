package org.jenkinsci.plugins.durabletask;

import java.io.Serializable;

/** Mirror of durable-task's Controller, the superclass of the object StartWatching carries. */
public abstract class Controller implements Serializable {
    private static final long serialVersionUID = 1L;
}
