package org.sqzspark.job.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterSecretTest {

    @TempDir
    Path tmp;

    @Test
    void anEmbeddedRunNeedsNoSecretEvenWithAuthenticationOn() {
        SparkConf conf = new SparkConf().setMaster("local[2]").set(ClusterSecret.AUTHENTICATE, "true");
        ClusterSecret.apply(conf);
        assertFalse(conf.contains(ClusterSecret.SECRET), "Spark makes an embedded run's secret itself");
    }

    @Test
    void readsTheSecretWithoutItsLineEnd() throws Exception {
        Path file = Files.writeString(tmp.resolve("spark-secret"), "c2VjcmV0\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertEquals("c2VjcmV0", ClusterSecret.read(file));
    }

    @Test
    void refusesASecretFileOtherUsersCanReadNamingTheFix() throws Exception {
        Path file = Files.writeString(tmp.resolve("spark-secret"), "c2VjcmV0\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterSecret.read(file));
        assertTrue(e.getMessage().contains("is readable by other users: chmod 600 " + file), e.getMessage());
    }

    @Test
    void refusesAMissingOrEmptySecretFileNamingWhatMakesIt() throws Exception {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ClusterSecret.read(tmp.resolve("absent")));
        assertTrue(missing.getMessage().contains("does not exist: submit/start-cluster.sh makes it"),
                missing.getMessage());
        Path empty = Files.writeString(tmp.resolve("empty"), "\n");
        Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("rw-------"));
        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class, () -> ClusterSecret.read(empty));
        assertTrue(blank.getMessage().contains("is empty"), blank.getMessage());
    }

    @Test
    void aClusterRunWithAuthenticationButNoSecretFileIsRefusedBeforeSparkStarts() {
        SparkConf conf = new SparkConf().setMaster("spark://127.0.0.1:1").set(ClusterSecret.AUTHENTICATE, "true");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterSecret.apply(conf));
        assertTrue(e.getMessage().contains("set " + ClusterSecret.SECRET_FILE), e.getMessage());
    }
}
