package org.gpuagent.agent.sizing;

import java.util.Map;
import java.util.Objects;
import org.gpuagent.scheduler.ByteSize;

/**
 * What an ffmpeg invocation takes on the GPU, as a sum of parts looked up by picture height:
 * one CUDA context, the decoder's surfaces at the <em>input</em>'s height, the encoder's session
 * and surfaces at each output's height, a GPU scaler's output frames, and a GPU tone mapper's
 * working frames. The defaults and where each comes from are in {@code docs/exec-and-sizing.md}
 * ("The estimate table"); the agent's configuration may replace any of them ({@code sizing.ffmpeg}).
 *
 * <p>The input's height is not in the arguments, so it is guessed: a GPU tone mapper means a
 * UHD HDR source (2160p: HDR video is nearly all UHD); a scaler to 1080p or more means a 2160p
 * source and one to less a 1080p source (Jellyfin's {@code GetHwScaleFilter} writes a size only
 * when it changes it); no scaler means the output's size, else 1080p. Learned peaks per signature
 * correct what the guess gets wrong.
 *
 * @param context      a CUDA context and ffmpeg's own device buffers, once per process
 * @param decodeByHeight NVDEC surfaces by input height class (480, 720, 1080, 1440, 2160)
 * @param encodeByHeight one NVENC session by output height class
 * @param scale        a GPU scaler's output frames
 * @param tonemap      a GPU tone mapper's working frames (for a 2160p source)
 */
public record FfmpegSizeTable(long context, Map<Integer, Long> decodeByHeight, Map<Integer, Long> encodeByHeight,
        long scale, long tonemap) {
    private static final long MIB = 1L << 20;

    /** The defaults; see docs/exec-and-sizing.md for their sources. */
    public static final FfmpegSizeTable DEFAULTS = new FfmpegSizeTable(150 * MIB,
            Map.of(480, 20 * MIB, 720, 40 * MIB, 1080, 60 * MIB, 1440, 110 * MIB, 2160, 420 * MIB),
            Map.of(480, 50 * MIB, 720, 70 * MIB, 1080, 90 * MIB, 1440, 140 * MIB, 2160, 250 * MIB),
            40 * MIB, 650 * MIB);

    public FfmpegSizeTable {
        decodeByHeight = Map.copyOf(decodeByHeight);
        encodeByHeight = Map.copyOf(encodeByHeight);
        for (int h : new int[] {480, 720, 1080, 1440, 2160}) {
            Objects.requireNonNull(decodeByHeight.get(h), "decode size for " + h + "p");
            Objects.requireNonNull(encodeByHeight.get(h), "encode size for " + h + "p");
        }
        if (context < 0 || scale < 0 || tonemap < 0) {
            throw new IllegalArgumentException("sizes cannot be negative");
        }
    }

    /** The estimate for {@code shape}; 0 when nothing of it runs on the GPU. */
    public long estimate(FfmpegShape shape) {
        if (!shape.usesGpu()) {
            return 0;
        }
        boolean gpuTonemap = shape.tonemap().filter(t -> !t.equals("cpu")).isPresent();
        int out = shape.heightClass();
        int in = gpuTonemap ? 2160 : out == 0 ? 1080 : out >= 1080 ? 2160 : 1080;
        int outHeight = out == 0 ? in : out;
        long bytes = context;
        if (shape.gpuDecode()) {
            bytes += decodeByHeight.get(in);
        }
        if (shape.gpuEncode()) {
            bytes += encodeByHeight.get(outHeight) * shape.outputs();
        }
        if (out != 0 && shape.gpuDecode()) {
            bytes += scale;
        }
        if (gpuTonemap) {
            bytes += tonemap;
        }
        return bytes;
    }

    /** One line per part, for logs and docs: "context 150 MiB, decode 1080p 60 MiB, ...". */
    public String describe() {
        return "context " + ByteSize.format(context) + ", decode 1080p " + ByteSize.format(decodeByHeight.get(1080))
                + " / 2160p " + ByteSize.format(decodeByHeight.get(2160)) + ", encode 1080p "
                + ByteSize.format(encodeByHeight.get(1080)) + " / 2160p " + ByteSize.format(encodeByHeight.get(2160))
                + ", scale " + ByteSize.format(scale) + ", tonemap " + ByteSize.format(tonemap);
    }
}
