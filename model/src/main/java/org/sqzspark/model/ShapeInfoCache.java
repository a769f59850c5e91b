package org.sqzspark.model;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.ShapeInfoProvider;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ND4J's CPU shape-information provider with a cache for the variant every new array asks for.
 * ND4J 1.0.0-M2's {@code DirectShapeInfoProvider} caches shape information by
 * shape, strides, order and data type, but not through
 * {@code createShapeInformation(shape, stride, ews, order, dataType, empty)}, the call an array's
 * constructor makes: every array, view and reshape got a new buffer object for the same constant
 * native shape, registered with ND4J's deallocator service like any native buffer. Those were half
 * of the objects a training step registered, which the collector then has to find unreachable and
 * the service's threads have to release. Shape information is immutable once made (ND4J's own
 * cache already hands the same buffer to many arrays), so one buffer per distinct shape serves all.
 *
 * <p>Bounded like ND4J's own cache: past {@value #MAX_ENTRIES} distinct shapes, new ones are made
 * as before without being kept.
 */
final class ShapeInfoCache implements ShapeInfoProvider {

    static final int MAX_ENTRIES = 4096;
    /** The provider ND4J's CPU backend installs (nd4j-native.properties). */
    static final String CPU_PROVIDER = "org.nd4j.linalg.cpu.nativecpu.DirectShapeInfoProvider";

    private static final Logger LOG = LoggerFactory.getLogger(ShapeInfoCache.class);

    private final ShapeInfoProvider provider;
    private final Map<Key, Pair<DataBuffer, long[]>> cache = new ConcurrentHashMap<>();

    private ShapeInfoCache(ShapeInfoProvider provider) {
        this.provider = provider;
    }

    /**
     * Makes this the process's shape-information provider, in front of the CPU backend's
     * {@value #CPU_PROVIDER}; elsewhere (another backend, or a provider already replaced)
     * leaves it alone. Returns whether this cache is in place after the call.
     */
    static synchronized boolean install() {
        ShapeInfoProvider current = Nd4j.getShapeInfoProvider();
        if (current instanceof ShapeInfoCache) {
            return true;
        }
        if (current == null || !current.getClass().getName().equals(CPU_PROVIDER)) {
            return false;
        }
        try {
            Field field = Nd4j.class.getDeclaredField("shapeInfoProvider");
            field.setAccessible(true);
            field.set(null, new ShapeInfoCache(current));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("ND4J's shape information stays uncached for new arrays ({}); training runs, with more"
                    + " work for the collector", e.toString());
            return false;
        }
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, long[] stride, long elementWiseStride,
                                                           char order, DataType dataType, boolean empty) {
        // looked up with the caller's arrays; a key that is kept holds copies of its own
        Pair<DataBuffer, long[]> cached = cache.get(new Key(shape, stride, elementWiseStride, order, dataType, empty));
        if (cached != null) {
            return cached;
        }
        Pair<DataBuffer, long[]> made = provider.createShapeInformation(shape, stride, elementWiseStride, order,
                dataType, empty);
        if (cache.size() < MAX_ENTRIES) {
            Key kept = new Key(shape.clone(), stride.clone(), elementWiseStride, order, dataType, empty);
            Pair<DataBuffer, long[]> raced = cache.putIfAbsent(kept, made);
            return raced != null ? raced : made;
        }
        return made;
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, DataType dataType) {
        return createShapeInformation(shape, Nd4j.order(), dataType);
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, char order, DataType dataType) {
        // the CPU provider's own calls this with C strides, through the variant cached here
        return createShapeInformation(shape, Nd4j.getStrides(shape, order), 1, order, dataType, false);
    }

    @Override
    public Pair<DataBuffer, long[]> createShapeInformation(long[] shape, long[] stride, long elementWiseStride,
                                                           char order, long extras) {
        return provider.createShapeInformation(shape, stride, elementWiseStride, order, extras);
    }

    @Override
    public void purgeCache() {
        provider.purgeCache();
        cache.clear();
    }

    @Override
    public long getCachedBytes() {
        return provider.getCachedBytes();
    }

    /** What a shape's information is made from. */
    private record Key(long[] shape, long[] stride, long elementWiseStride, char order, DataType dataType,
                       boolean empty) {

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && elementWiseStride == k.elementWiseStride && order == k.order
                    && empty == k.empty && dataType == k.dataType
                    && Arrays.equals(shape, k.shape) && Arrays.equals(stride, k.stride);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(shape) + Arrays.hashCode(stride))
                    + Long.hashCode(elementWiseStride) + order + dataType.hashCode() + (empty ? 1 : 0);
        }
    }
}
