package org.sqzspark.job.train;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqzspark.data.ChannelStats;
import org.sqzspark.data.CifarDownloader;
import org.sqzspark.data.CifarImages;
import org.sqzspark.data.CifarLayout;
import org.sqzspark.data.CifarReader;
import org.sqzspark.data.DataInputException;

/**
 * CIFAR-10 as read once at the driver: the training records (shuffled once with the run's seed,
 * so every partition holds every class), the test records and the training set's channel statistics.
 *
 * @param train       training records, in the order they are partitioned
 * @param test        test records
 * @param stats       per-channel mean and std of the training records
 * @param source      where they were read from
 * @param loadSeconds wall-clock of reading, validating and normalizing
 */
public record TrainingData(CifarImages train, CifarImages test, ChannelStats stats, String source, double loadSeconds) {

    private static final Logger log = LoggerFactory.getLogger(TrainingData.class);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofSeconds(30);

    /** Reads and validates the data of {@code config}; fetches it first only for the default location. */
    public static TrainingData load(TrainConfig config, Configuration hadoopConf) {
        long start = System.nanoTime();
        if (config.dataIsDefault()) {
            fetchIfAbsent(Path.of(config.data()));
        }
        CifarLayout layout = CifarLayout.resolve(config.data(), hadoopConf);
        CifarImages train = CifarReader.readTrain(layout, config.trainLimit()).shuffled(config.model().seed());
        CifarImages test = CifarReader.readTest(layout, 0);
        ChannelStats stats = ChannelStats.of(train);
        double seconds = (System.nanoTime() - start) / 1e9;
        log.info("Read {} training and {} test images from {} in {} s", train.size(), test.size(),
                layout.describe(), String.format("%.1f", seconds));
        return new TrainingData(train, test, stats, layout.describe(), seconds);
    }

    private static void fetchIfAbsent(Path dir) {
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                if (files.findAny().isPresent()) {
                    return;
                }
            } catch (java.io.IOException e) {
                throw new DataInputException("cannot list " + dir.toAbsolutePath() + ": " + e.getMessage());
            }
        }
        log.info("No CIFAR-10 at {}; fetching {}", dir.toAbsolutePath(), CifarLayout.OFFICIAL_URL);
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new DataInputException("cannot create " + dir.toAbsolutePath() + " for CIFAR-10: " + e.getMessage()
                    + "; create it, or pass --data with the folder that holds the data");
        }
        CifarDownloader.fetch(URI.create(CifarLayout.OFFICIAL_URL), dir, CifarLayout.ARCHIVE_MD5, DOWNLOAD_TIMEOUT);
    }
}
