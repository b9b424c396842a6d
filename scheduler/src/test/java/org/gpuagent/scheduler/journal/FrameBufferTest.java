package org.gpuagent.scheduler.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The encoder's buffer against {@link ByteBuffer} as the model: random writes of every width,
 * from a buffer far too small, so that every growth step is crossed; the seed is in the name.
 */
class FrameBufferTest {
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 42})
    void writesWhatAByteBufferWouldWhateverItsSize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        FrameBuffer b = new FrameBuffer(1);
        ByteBuffer model = ByteBuffer.allocate(1 << 20);
        for (int op = 0; op < 2000; op++) {
            switch (random.nextInt(5)) {
                case 0 -> {
                    int v = random.nextInt();
                    b.putByte(v);
                    model.put((byte) v);
                }
                case 1 -> {
                    int v = random.nextInt(1 << 16);
                    b.putShort(v);
                    model.putShort((short) v);
                }
                case 2 -> {
                    int v = random.nextInt();
                    b.putInt(v);
                    model.putInt(v);
                }
                case 3 -> {
                    long v = random.nextLong();
                    b.putLong(v);
                    model.putLong(v);
                }
                default -> {
                    byte[] bytes = new byte[random.nextInt(300)];
                    random.nextBytes(bytes);
                    b.putBytes(bytes);
                    model.put(bytes);
                }
            }
        }
        assertEquals(model.position(), b.size());
        byte[] expected = new byte[model.position()];
        model.flip().get(expected);
        assertArrayEquals(expected, b.toByteArray());
        ByteBuffer view = b.asByteBuffer();
        assertEquals(expected.length, view.remaining());
        b.reset();
        assertEquals(0, b.size());
        byte[] big = new byte[100_000];
        b.putBytes(big);
        assertEquals(big.length, b.size(), "one write far larger than twice the buffer");
    }
}
