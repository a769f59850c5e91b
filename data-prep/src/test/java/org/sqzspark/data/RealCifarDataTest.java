package org.sqzspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** Reads the real CIFAR-10 from {@code shared/cifar10} next to the repository; skipped when absent. */
class RealCifarDataTest {

    @Test
    void readsTheFullRealDataSetWithBalancedClasses() {
        Path shared = TestCifarFiles.findSharedCifar10();
        assumeTrue(shared != null, "shared/cifar10 not found in the working directory or its parents");
        CifarLayout layout = CifarLayout.resolve(shared.toString(), new Configuration());

        CifarImages train = CifarReader.readTrain(layout, 0);
        CifarImages test = CifarReader.readTest(layout, 0);

        assertEquals(50_000, train.size());
        assertEquals(10_000, test.size());
        int[] fiveThousand = new int[10];
        Arrays.fill(fiveThousand, 5_000);
        int[] oneThousand = new int[10];
        Arrays.fill(oneThousand, 1_000);
        assertArrayEquals(fiveThousand, train.classCounts());
        assertArrayEquals(oneThousand, test.classCounts());
        assertEquals(6, train.label(0), "the first image of data_batch_1 is a frog");
        assertEquals(train.slice(0, 100), CifarReader.readTrain(layout, 100));
    }
}
