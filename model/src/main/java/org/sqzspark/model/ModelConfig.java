package org.sqzspark.model;

/**
 * Everything that defines the network and its update rule, as plain values.
 *
 * <p>The defaults are synchronous SGD's recipe, measured to learn SqueezeNet v1.1 on CIFAR-10
 * without batch normalization: Nesterov momentum 0.9 at a learning rate of 0.002 with L2 weight
 * decay 5e-4 and minibatches of 32 (31.6% test accuracy after one epoch of all 50,000 images with
 * one replica; PyTorch's SGD with momentum 0.9 at 0.002 and batch 32 reached about 45% after three).
 * Momentum SGD at 0.01 and Adam at 1e-3 leave the network stuck at chance with dead ReLUs; Adam at
 * 1e-4 learns (37.2%, 42.4%, 45.8% after epochs 1-3) but is not linear in the gradient, so P
 * replicas' Adam steps are not one step on their mean gradient.
 *
 * @param classes      number of output classes (10 for CIFAR-10)
 * @param seed         seed of the weight initialization and dropout masks
 * @param optimizer    update rule
 * @param learningRate learning rate (after the warm-up, if any)
 * @param momentum     momentum for {@link Optimizer#NESTEROV}; ignored otherwise
 * @param l2           L2 weight-decay coefficient (0 disables)
 * @param dropout      probability of dropping an activation before conv10 (SqueezeNet uses 0.5)
 * @param warmupSteps  steps over which the learning rate rises linearly to {@code learningRate} (0: none)
 * @param warmupFrom   learning rate at the first warm-up step
 */
public record ModelConfig(int classes, long seed, Optimizer optimizer, double learningRate, double momentum,
                          double l2, double dropout, int warmupSteps, double warmupFrom) {

    public static final int DEFAULT_CLASSES = 10;
    public static final long DEFAULT_SEED = 42;
    public static final Optimizer DEFAULT_OPTIMIZER = Optimizer.NESTEROV;
    public static final double DEFAULT_LEARNING_RATE = 0.002;
    public static final double DEFAULT_MOMENTUM = 0.9;
    public static final double DEFAULT_L2 = 5e-4;
    public static final double DEFAULT_DROPOUT = 0.5;

    public ModelConfig {
        if (classes < 2) {
            throw new IllegalArgumentException("classes must be at least 2, was " + classes);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must be one of SGD, NESTEROV, ADAM");
        }
        if (!(learningRate > 0 && learningRate <= 10)) {
            throw new IllegalArgumentException("learning rate must be in (0, 10], was " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), was " + momentum);
        }
        if (!(l2 >= 0 && l2 < 1)) {
            throw new IllegalArgumentException("l2 must be in [0, 1), was " + l2);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), was " + dropout);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warm-up steps must not be negative, was " + warmupSteps);
        }
        if (warmupSteps > 0 && !(warmupFrom > 0 && warmupFrom <= 10)) {
            throw new IllegalArgumentException("warm-up start rate must be in (0, 10], was " + warmupFrom);
        }
    }

    /** A constant learning rate, no warm-up. */
    public ModelConfig(int classes, long seed, Optimizer optimizer, double learningRate, double momentum, double l2,
                       double dropout) {
        this(classes, seed, optimizer, learningRate, momentum, l2, dropout, 0, learningRate);
    }

    /** The default recipe for CIFAR-10. */
    public static ModelConfig defaults() {
        return new ModelConfig(DEFAULT_CLASSES, DEFAULT_SEED, DEFAULT_OPTIMIZER, DEFAULT_LEARNING_RATE,
                DEFAULT_MOMENTUM, DEFAULT_L2, DEFAULT_DROPOUT);
    }

    /** The same configuration with another learning rate. */
    public ModelConfig withLearningRate(double rate) {
        return new ModelConfig(classes, seed, optimizer, rate, momentum, l2, dropout, warmupSteps, warmupFrom);
    }

    /** The same configuration, its learning rate reached by a linear warm-up from {@code from} over {@code steps}. */
    public ModelConfig withWarmup(int steps, double from) {
        return new ModelConfig(classes, seed, optimizer, learningRate, momentum, l2, dropout, steps, from);
    }
}
