package org.sqzspark.job.predict;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sqzspark.job.predict.ConfusionMatrix;
import org.sqzspark.job.predict.Predictor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The confusion matrix's counts and CSV, and the ranking of class probabilities. */
class ConfusionMatrixTest {

    @Test
    void csvHasAHeaderAndOneRowPerClassSummingToTheImages() {
        ConfusionMatrix m = new ConfusionMatrix();
        m.add(3, 3);
        m.add(3, 5);
        m.add(9, 9);
        m.add(0, 8);

        List<String> rows = m.toCsv().lines().toList();

        assertEquals(11, rows.size());
        assertEquals("actual/predicted,airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck", rows.get(0));
        assertEquals("airplane,0,0,0,0,0,0,0,0,1,0", rows.get(1));
        assertEquals("cat,0,0,0,1,0,1,0,0,0,0", rows.get(4));
        assertEquals("truck,0,0,0,0,0,0,0,0,0,1", rows.get(10));
        assertEquals(4, m.total());
        assertEquals(2, m.correct());
        assertEquals(0.5, m.accuracy());
    }

    @Test
    void parseReadsBackWhatToCsvWrote() {
        ConfusionMatrix m = new ConfusionMatrix();
        for (int i = 0; i < 57; i++) {
            m.add(i % 10, (i * 7) % 10);
        }

        ConfusionMatrix back = ConfusionMatrix.parse("x.csv", m.toCsv());

        assertEquals(m.toCsv(), back.toCsv());
        assertEquals(57, back.total());
    }

    @Test
    void parseNamesTheFileAndTheBadRow() {
        String csv = new ConfusionMatrix().toCsv().replace("bird,0,0", "bird,0,x");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfusionMatrix.parse("m.csv", csv));

        assertEquals("m.csv: row 4, column 3 is 'x', not a count", e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.parse("m.csv", "a,b\n"))
                .getMessage().startsWith("m.csv has 1 rows"));
    }

    @Test
    void topRanksClassesByProbabilityLowerLabelFirstOnTies() {
        float[] p = {0.1f, 0.3f, 0.05f, 0.3f, 0.25f, 0, 0, 0, 0, 0};

        List<Predictor.Ranked> top = Predictor.top(p, 3);

        assertEquals(List.of(new Predictor.Ranked(1, 0.3f), new Predictor.Ranked(3, 0.3f),
                new Predictor.Ranked(4, 0.25f)), top);
    }
}
