package org.sqzspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ShapeInfoCacheTest {

    @BeforeAll
    static void install() {
        assertTrue(ShapeInfoCache.install(), "ND4J's CPU backend runs the tests: the cache goes in front of it");
    }

    @Test
    void installsOnceInFrontOfTheCpuProvider() {
        assertTrue(Nd4j.getShapeInfoProvider() instanceof ShapeInfoCache);
        assertTrue(ShapeInfoCache.install());
        assertTrue(Nd4j.getShapeInfoProvider() instanceof ShapeInfoCache);
    }

    @Test
    void arraysOfOneShapeShareItsInformationAndOthersDoNot() {
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, new long[] {3, 5, 7}, 'c');
        INDArray b = Nd4j.create(DataType.FLOAT, 3, 5, 7);
        INDArray c = Nd4j.create(DataType.FLOAT, 3, 7, 5);
        INDArray d = Nd4j.create(DataType.DOUBLE, 3, 5, 7);
        INDArray f = Nd4j.create(DataType.FLOAT, new long[] {3, 5, 7}, 'f');
        assertSame(a.shapeInfoDataBuffer(), b.shapeInfoDataBuffer());
        assertNotSame(a.shapeInfoDataBuffer(), c.shapeInfoDataBuffer());
        assertNotSame(a.shapeInfoDataBuffer(), d.shapeInfoDataBuffer());
        assertNotSame(a.shapeInfoDataBuffer(), f.shapeInfoDataBuffer());
        assertArrayEquals(new long[] {3, 7, 5}, c.shape());
        assertEquals(DataType.DOUBLE, d.dataType());
        assertEquals('f', f.ordering());
        assertArrayEquals(new long[] {1, 3, 15}, f.stride());
    }

    @Test
    void viewsAndReshapesKeepTheirOwnShapesAndValues() {
        INDArray x = Nd4j.linspace(DataType.FLOAT, 1, 120, 1).reshape('c', 4, 5, 6);
        INDArray view = x.get(all(), interval(1, 4), all());
        INDArray again = x.get(all(), interval(1, 4), all());
        assertSame(view.shapeInfoDataBuffer(), again.shapeInfoDataBuffer());
        assertArrayEquals(new long[] {30, 6, 1}, view.stride());
        assertEquals(7f, view.getFloat(0, 0, 0));
        assertEquals(view.dup('c').reshape('c', 4, 18), view.reshape('c', 4, 18));
        INDArray flat = x.reshape('c', 20, 6);
        assertEquals(120f, flat.getFloat(19, 5));
        // an empty array keeps its own information
        INDArray empty = Nd4j.empty(DataType.FLOAT);
        assertTrue(empty.isEmpty());
        assertTrue(Nd4j.create(DataType.FLOAT, 4, 5, 6).addi(1).sumNumber().doubleValue() == 120.0);
    }
}
