package hudson.model;

import java.io.Serializable;

/** Mirror of Jenkins' TaskListener interface, the declared type of the launch's listeners. */
public interface TaskListener extends Serializable {}
