package org.sqzspark.job.train.turns;

import java.util.Iterator;
import java.util.List;
import org.nd4j.linalg.dataset.DataSet;

/**
 * P model replicas of one network trained in turns on this JVM's cores: one network object, each
 * replica's own state swapped in for its turn, and the replicas' results combined at the end of
 * every synchronous round as the DL4J training master combines them on a cluster.
 *
 * <p>Embedded, DL4J's own machinery runs a thread and a model copy per replica, every one of
 * which applies every update (gradient sharing), or a Spark job per round whose task results are
 * Java-serialized parameter copies (parameter averaging): at P=48 on two cores that ran at under
 * 0.02x (sharing) and about 0.2x (averaging) of a plain fit. In turns, one replica trains at a time
 * with all the cores, and a round costs P network passes plus a few copies of the parameters.
 * Cluster runs keep DL4J's path; {@code TurnsMatchTrainingMastersIT} checks that both compute the
 * same parameters.
 */
public interface ReplicasInTurns {

    /**
     * Trains one epoch. Replica {@code i} takes its minibatches, in order, from
     * {@code partitions.get(i)}; a round ends when every replica that still has data has taken its
     * turn. {@code stepsBefore} synchronous steps were taken before this epoch (the learning-rate
     * schedule and Adam's bias correction count from them).
     *
     * @return synchronous rounds trained
     */
    int fitEpoch(List<Iterator<DataSet>> partitions, int stepsBefore);

    /** Replicas taking turns. */
    int replicas();
}
