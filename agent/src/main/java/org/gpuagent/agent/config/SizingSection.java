package org.gpuagent.agent.config;

import java.util.HashMap;
import java.util.Map;
import org.gpuagent.agent.sizing.FfmpegSizeTable;

/**
 * {@code sizing.ffmpeg}: the estimate table for {@code exec --bytes auto} with ffmpeg, each entry
 * optional (the defaults, with their sources, are in docs/exec-and-sizing.md):
 * <pre>
 * sizing:
 *   ffmpeg:
 *     context: 150MiB
 *     decode: {480p: 20MiB, 720p: 40MiB, 1080p: 60MiB, 1440p: 110MiB, 2160p: 420MiB}
 *     encode: {480p: 50MiB, 720p: 70MiB, 1080p: 90MiB, 1440p: 140MiB, 2160p: 250MiB}
 *     scale: 40MiB
 *     tonemap: 650MiB
 * </pre>
 */
final class SizingSection {
    private static final int[] HEIGHTS = {480, 720, 1080, 1440, 2160};

    private SizingSection() {
    }

    static FfmpegSizeTable read(YamlSection sizing) {
        YamlSection f = sizing.section("ffmpeg");
        FfmpegSizeTable d = FfmpegSizeTable.DEFAULTS;
        long context = f.size("context", d.context());
        Map<Integer, Long> decode = byHeight(f.section("decode"), d.decodeByHeight());
        Map<Integer, Long> encode = byHeight(f.section("encode"), d.encodeByHeight());
        long scale = f.size("scale", d.scale());
        long tonemap = f.size("tonemap", d.tonemap());
        f.finish();
        sizing.finish();
        return new FfmpegSizeTable(context, decode, encode, scale, tonemap);
    }

    private static Map<Integer, Long> byHeight(YamlSection s, Map<Integer, Long> defaults) {
        Map<Integer, Long> out = new HashMap<>(defaults);
        for (int h : HEIGHTS) {
            out.put(h, s.size(h + "p", defaults.get(h)));
        }
        s.finish();
        return out;
    }
}
