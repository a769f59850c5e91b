package org.sqzspark.model;

/** The update rules the model can be trained with; names as used on the command line. */
public enum Optimizer {
    /** Plain stochastic gradient descent. */
    SGD,
    /** SGD with Nesterov momentum (DL4J's {@code Nesterovs}). */
    NESTEROV,
    /** Adam (Kingma and Ba 2015). */
    ADAM;

    /** The name as used on the command line. */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
