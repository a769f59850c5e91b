package org.sqzspark.model;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * SqueezeNet v1.1 (Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer
 * parameters"; v1.1 as in the reference implementation and torchvision's {@code squeezenet1_1})
 * for 3x32x32 CIFAR-10 images.
 *
 * <p>Layers: conv1 3x3/2, 64 filters -> max pool 3x3/2 -> fire2, fire3 -> max pool -> fire4, fire5
 * -> max pool -> fire6..fire9 -> dropout 0.5 -> conv10 1x1 (ReLU) -> global average pool ->
 * softmax. A fire module is a 1x1 "squeeze" convolution feeding a 1x1 and a padded 3x3 "expand"
 * convolution whose outputs are concatenated (1x1 channels first, as torchvision does). With 10
 * classes the network has {@value #PARAMETERS} parameters, the same as torchvision's.
 *
 * <p>Pooling uses truncation, which on 32x32 inputs gives the same map sizes as torchvision's
 * ceil mode (15 -> 7 -> 3 -> 1). Weights follow torchvision: Kaiming-uniform for every
 * convolution, N(0, 0.01) for conv10, zero biases.
 *
 * <p>{@link #configuration} computes channels-last (NHWC) with {@link GemmConvolution} layers:
 * the graph's input stays NCHW and {@link ChannelsLast} turns it around before conv1.
 * {@link #referenceConfiguration} is the same network built from DL4J's own NCHW layers, with
 * the same layer names, parameter shapes and order: parameters copied from one give the other the
 * same outputs and gradients (checked by {@code SqueezeNetLayoutsTest}).
 */
public final class SqueezeNetV11 {

    /** Trainable parameters with 10 classes. */
    public static final long PARAMETERS = 727_626L;
    /** Name of the graph's input. */
    public static final String INPUT = "input";
    /** Name of the graph's output (softmax probabilities). */
    public static final String OUTPUT = "output";

    /** Squeeze and expand widths of fire2..fire9 (SqueezeNet v1.1). */
    private static final int[][] FIRES = {
        {16, 64}, {16, 64}, {32, 128}, {32, 128}, {48, 192}, {48, 192}, {64, 256}, {64, 256}
    };

    private SqueezeNetV11() {
    }

    /** The network's configuration for the given settings: NHWC, convolutions as matrix products. */
    public static ComputationGraphConfiguration configuration(ModelConfig config) {
        return configuration(config, Layout.CHANNELS_LAST_GEMM);
    }

    /** The same network from DL4J's stock NCHW convolution layers (slower; the reference). */
    public static ComputationGraphConfiguration referenceConfiguration(ModelConfig config) {
        return configuration(config, Layout.REFERENCE);
    }

    /** A new, initialized reference network (see {@link #referenceConfiguration}). */
    public static ComputationGraph buildReference(ModelConfig config) {
        ComputationGraph net = new ComputationGraph(referenceConfiguration(config));
        net.init();
        return net;
    }

    private enum Layout {
        REFERENCE(CNN2DFormat.NCHW), CHANNELS_LAST_GEMM(CNN2DFormat.NHWC);

        final CNN2DFormat format;

        Layout(CNN2DFormat format) {
            this.format = format;
        }
    }

    private static ComputationGraphConfiguration configuration(ModelConfig config, Layout layout) {
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder()
                .seed(config.seed())
                .dataType(DataType.FLOAT)
                .updater(updater(config))
                .l2(config.l2())
                .weightInit(WeightInit.RELU_UNIFORM)
                .biasInit(0.0)
                .convolutionMode(ConvolutionMode.Truncate)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(32, 32, 3));

        ConvolutionLayer conv1 = conv(layout, 3, 2, 0, 64);
        if (conv1 instanceof GemmConvolution gemm) {
            conv1 = gemm.withoutInputGradient();
        }
        graph.addLayer("conv1", conv1, INPUT)
                .addLayer("pool1", maxPool(layout), "conv1");
        if (layout == Layout.CHANNELS_LAST_GEMM) {
            graph.inputPreProcessor("conv1", new ChannelsLast());
        }
        String last = "pool1";
        last = fire(graph, layout, "fire2", last, FIRES[0]);
        last = fire(graph, layout, "fire3", last, FIRES[1]);
        graph.addLayer("pool3", maxPool(layout), last);
        last = fire(graph, layout, "fire4", "pool3", FIRES[2]);
        last = fire(graph, layout, "fire5", last, FIRES[3]);
        graph.addLayer("pool5", maxPool(layout), last);
        last = fire(graph, layout, "fire6", "pool5", FIRES[4]);
        last = fire(graph, layout, "fire7", last, FIRES[5]);
        last = fire(graph, layout, "fire8", last, FIRES[6]);
        last = fire(graph, layout, "fire9", last, FIRES[7]);

        // DL4J's dropOut(x) is the probability of retaining an activation
        graph.addLayer("drop9", new DropoutLayer.Builder(1.0 - config.dropout()).build(), last)
                .addLayer("conv10", convolution(layout, new ConvolutionLayer.Builder(1, 1)
                        .nOut(config.classes())
                        .activation(Activation.RELU)
                        .weightInit(new WeightInitDistribution(new NormalDistribution(0, 0.01)))), "drop9")
                .addLayer("avgpool", new GlobalPoolingLayer.Builder(PoolingType.AVG)
                        .poolingDimensions(layout.format == CNN2DFormat.NHWC ? new int[] {1, 2} : new int[] {2, 3})
                        .build(), "conv10")
                .addLayer(OUTPUT, new LossLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .activation(Activation.SOFTMAX).build(), "avgpool")
                .setOutputs(OUTPUT);
        return graph.build();
    }

    /**
     * A new, initialized network for the given settings, spreading each minibatch over the threads
     * of its team ({@link ShardedGraph}).
     */
    public static ShardedGraph build(ModelConfig config) {
        ShardedGraph net = new ShardedGraph(configuration(config));
        net.init();
        return net;
    }

    private static String fire(ComputationGraphConfiguration.GraphBuilder graph, Layout layout, String name,
                               String input, int[] widths) {
        int squeeze = widths[0];
        int expand = widths[1];
        MergeVertex concat = layout.format == CNN2DFormat.NHWC ? new ChannelConcat() : new MergeVertex();
        graph.addLayer(name + "_squeeze", conv(layout, 1, 1, 0, squeeze), input)
                .addLayer(name + "_expand1x1", conv(layout, 1, 1, 0, expand), name + "_squeeze")
                .addLayer(name + "_expand3x3", conv(layout, 3, 1, 1, expand), name + "_squeeze")
                .addVertex(name, concat, name + "_expand1x1", name + "_expand3x3");
        return name;
    }

    private static ConvolutionLayer conv(Layout layout, int kernel, int stride, int padding, int filters) {
        return convolution(layout, new ConvolutionLayer.Builder(kernel, kernel)
                .stride(stride, stride)
                .padding(padding, padding)
                .nOut(filters)
                .activation(Activation.RELU));
    }

    private static ConvolutionLayer convolution(Layout layout, ConvolutionLayer.Builder builder) {
        return layout == Layout.CHANNELS_LAST_GEMM ? new GemmConvolution(builder) : builder.build();
    }

    private static SubsamplingLayer maxPool(Layout layout) {
        return new SubsamplingLayer.Builder(PoolingType.MAX)
                .kernelSize(3, 3)
                .stride(2, 2)
                .dataFormat(layout.format)
                .build();
    }

    private static IUpdater updater(ModelConfig config) {
        if (config.warmupSteps() == 0) {
            return switch (config.optimizer()) {
                case SGD -> new Sgd(config.learningRate());
                case NESTEROV -> new Nesterovs(config.learningRate(), config.momentum());
                case ADAM -> new Adam(config.learningRate());
            };
        }
        ISchedule rate = new WarmupSchedule(config.warmupFrom(), config.learningRate(), config.warmupSteps());
        return switch (config.optimizer()) {
            case SGD -> new Sgd(rate);
            case NESTEROV -> new Nesterovs(rate, config.momentum());
            case ADAM -> new Adam(rate);
        };
    }
}
