package org.sqzspark.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import java.util.concurrent.atomic.AtomicLong;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Run in a JVM of its own by {@link GemmConvolutionLayerTest}: two threads set rows to a bias (a
 * view into a larger parameter array, as a layer's bias is) as fast as they can with
 * {@link GemmConvolutionLayer#fillRows}, while a third allocates garbage so that young collections
 * follow each other closely (the JVM is started with a small young generation). Prints
 * {@value #DONE} and the broadcasts run if the JVM survives {@code args[0]} seconds.
 */
final class BiasBroadcastStress {

    static final String DONE = "bias broadcasts survived:";

    private BiasBroadcastStress() {
    }

    public static void main(String[] args) throws InterruptedException {
        long seconds = Long.parseLong(args[0]);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        AtomicLong broadcasts = new AtomicLong();
        Thread[] workers = new Thread[2];
        for (int t = 0; t < workers.length; t++) {
            workers[t] = new Thread(() -> {
                INDArray params = Nd4j.rand(DataType.FLOAT, 1, 1000);
                INDArray bias = params.get(point(0), interval(100, 164)).reshape(1, 64);
                INDArray z = Nd4j.create(DataType.FLOAT, 16, 64);
                INDArray ones = Nd4j.ones(DataType.FLOAT, 1, 16);
                while (System.nanoTime() < end) {
                    for (int i = 0; i < 1000; i++) {
                        GemmConvolutionLayer.fillRows(z, bias, ones);
                    }
                    broadcasts.addAndGet(1000);
                }
            }, "bias-broadcast-" + t);
            workers[t].start();
        }
        Thread garbage = new Thread(() -> {
            byte[][] recent = new byte[64][];
            for (int i = 0; System.nanoTime() < end; i++) {
                recent[i & 63] = new byte[64 * 1024];
            }
        }, "garbage");
        garbage.setDaemon(true);
        garbage.start();
        for (Thread w : workers) {
            w.join();
        }
        System.out.println(DONE + " " + broadcasts.get());
    }
}
