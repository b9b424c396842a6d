package org.gpuagent.agent.sizing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The {@code --bytes auto} estimate on Jellyfin's own ffmpeg command lines, each mapped to the size
 * class the issue names for it (1080p HEVC to H.264 about 300 MiB, 4K to 1080p about 700 MiB, 4K HDR
 * with tone mapping 1.3-1.5 GiB; software transcodes nothing).
 *
 * <p>The command lines are assembled exactly as Jellyfin 10.11 assembles them (jellyfin/jellyfin at
 * commit c3ed1407ca69, quoted in docs/exec-and-sizing.md, "Jellyfin's command lines"): the HLS
 * template of {@code Jellyfin.Api/Controllers/DynamicHlsController.cs} (line 1642, "{0} {1}
 * -map_metadata -1 ... -f hls -max_delay 5000000 -hls_time ..."), the NVDEC input arguments of
 * {@code EncodingHelper.GetHwaccelType} (line 6693, " -hwaccel cuda -hwaccel_output_format cuda
 * -noautorotate ... -threads 1"), {@code GetCudaDeviceArgs} (" -init_hw_device cuda=cu:0"), and the
 * video filters of {@code GetNvidiaVidFiltersPrefered} (hw scale {@code scale_cuda=w=W:h=H:format=F}
 * from {@code GetHwScaleFilter}, which writes a size only when it changes; tone mapping
 * {@code tonemap_cuda=format=yuv420p:p=bt709:t=bt709:m=bt709:tonemap=..:peak=..:desat=..} from
 * {@code GetHwTonemapFilter}); the progressive/software line is {@code EncodingHelper}'s
 * {@code libx264} path with its software {@code scale}.
 */
class FfmpegShapeTest {
    private static final long MIB = 1L << 20;

    enum SizeClass {
        NONE(0, 0), ABOUT_300_MIB(250 * MIB, 400 * MIB), ABOUT_700_MIB(550 * MIB, 900 * MIB),
        HDR_1_3_TO_1_5_GIB(1331 * MIB, 1536 * MIB);

        final long min;
        final long max;

        SizeClass(long min, long max) {
            this.min = min;
            this.max = max;
        }
    }

    private static final String INPUT_NVDEC = "-analyzeduration 200M -probesize 1G -init_hw_device cuda=cu:0 "
            + "-filter_hw_device cu -hwaccel cuda -hwaccel_output_format cuda -noautorotate -threads 1 "
            + "-hwaccel_flags +unsafe_output -i file:\"/media/Movies/Film (2019)/Film.mkv\"";
    private static final String HLS_OUT = "-codec:a:0 libfdk_aac -ac 2 -ab 256000 -copyts -avoid_negative_ts disabled "
            + "-max_muxing_queue_size 2048 -f hls -max_delay 5000000 -hls_time 6 -hls_segment_type fmp4 "
            + "-hls_fmp4_init_filename \"d41d8-1.mp4\" -start_number 0 -hls_segment_filename "
            + "\"/var/cache/jellyfin/transcodes/d41d8%d.mp4\" -hls_playlist_type vod -hls_list_size 0 "
            + "-y \"/var/cache/jellyfin/transcodes/d41d8.m3u8\"";
    private static final String NVENC = "-map_metadata -1 -map_chapters -1 -threads 0 -map 0:0 -map 0:1 -map -0:s "
            + "-codec:v:0 h264_nvenc -preset p1 -b:v 7616000 -maxrate 7616000 -bufsize 15232000 -g:v:0 72 "
            + "-keyint_min:v:0 72";
    private static final String TONEMAP = "tonemap_cuda=format=yuv420p:p=bt709:t=bt709:m=bt709:tonemap=bt2390"
            + ":peak=100:desat=0:tonemap_mode=lum";
    private static final String HDR_PARAMS = "setparams=color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc";

    static Stream<Arguments> jellyfinCommandLines() {
        return Stream.of(
                Arguments.of("1080p HEVC to 1080p H.264 (NVDEC, NVENC, format change only)", SizeClass.ABOUT_300_MIB,
                        INPUT_NVDEC + " " + NVENC + " -vf \"setparams=color_primaries=bt709:color_trc=bt709:"
                                + "colorspace=bt709,scale_cuda=format=yuv420p\" " + HLS_OUT),
                Arguments.of("1080p to 720p H.264 (NVDEC, NVENC)", SizeClass.ABOUT_300_MIB,
                        INPUT_NVDEC + " " + NVENC + " -vf \"setparams=color_primaries=bt709:color_trc=bt709:"
                                + "colorspace=bt709,scale_cuda=w=1280:h=720:format=yuv420p\" " + HLS_OUT),
                Arguments.of("4K HEVC to 1080p H.264 (NVDEC, scale_cuda, NVENC)", SizeClass.ABOUT_700_MIB,
                        INPUT_NVDEC + " " + NVENC + " -vf \"setparams=color_primaries=bt709:color_trc=bt709:"
                                + "colorspace=bt709,scale_cuda=w=1920:h=1080:format=yuv420p\" " + HLS_OUT),
                Arguments.of("4K HDR10 to 1080p SDR (NVDEC, scale_cuda, tonemap_cuda, NVENC)",
                        SizeClass.HDR_1_3_TO_1_5_GIB, INPUT_NVDEC + " " + NVENC + " -vf \"" + HDR_PARAMS
                                + ",scale_cuda=w=1920:h=1080," + TONEMAP + "\" " + HLS_OUT),
                Arguments.of("4K HDR10 to 4K SDR (NVDEC, tonemap_cuda, NVENC)", SizeClass.HDR_1_3_TO_1_5_GIB,
                        INPUT_NVDEC + " " + NVENC.replace("h264_nvenc", "hevc_nvenc") + " -vf \"" + HDR_PARAMS
                                + "," + TONEMAP + "\" " + HLS_OUT),
                Arguments.of("software transcode (libx264, software scale)", SizeClass.NONE,
                        "-analyzeduration 200M -probesize 1G -i file:\"/media/Movies/Film (2019)/Film.mkv\" "
                                + "-map_metadata -1 -map_chapters -1 -threads 0 -map 0:0 -map 0:1 -map -0:s "
                                + "-codec:v:0 libx264 -preset veryfast -crf 23 -maxrate 7616000 -bufsize 15232000 "
                                + "-profile:v:0 high -level 41 -x264opts:0 subme=0:me_range=16:rc_lookahead=10:"
                                + "me=hex:open_gop=0 -vf \"setparams=color_primaries=bt709,scale=trunc(min(max(iw\\,"
                                + "ih*a)\\,min(1920\\,1080*a))/2)*2:trunc(min(max(iw/a\\,ih)\\,min(1920/a\\,1080))/2)*2,"
                                + "format=yuv420p\" " + HLS_OUT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jellyfinCommandLines")
    void jellyfinCommandLinesLandInTheirSizeClass(String what, SizeClass expected, String commandLine) {
        FfmpegShape shape = FfmpegShape.of(split(commandLine));
        long bytes = FfmpegSizeTable.DEFAULTS.estimate(shape);
        assertTrue(bytes >= expected.min && bytes <= expected.max, what + ": " + shape.signature() + " estimated "
                + bytes / MIB + " MiB, expected " + expected);
        assertEquals(Optional.of(shape), FfmpegShape.fromSignature(shape.signature()), "the signature reads back");
        assertEquals(1, shape.outputs(), what + ": one HLS playlist is one output");
    }

    @Test
    void theShapeOfAToneMappedStream() {
        FfmpegShape s = FfmpegShape.of(split(INPUT_NVDEC + " " + NVENC + " -vf \"" + HDR_PARAMS
                + ",scale_cuda=w=1920:h=1080," + TONEMAP + "\" " + HLS_OUT));
        assertEquals(new FfmpegShape(true, true, 1080, Optional.of("cuda"), 1), s);
        assertEquals("ffmpeg:dec=gpu,enc=gpu,out=1080p,tonemap=cuda,outputs=1", s.signature());
    }

    @Test
    void eachOutputEncodesOnItsOwn() {
        FfmpegShape two = FfmpegShape.of(List.of("-hwaccel", "cuda", "-i", "in.mkv", "-c:v", "h264_nvenc", "-s",
                "1280x720", "a.mp4", "-c:v", "h264_nvenc", "b.mp4"));
        assertEquals(new FfmpegShape(true, true, 720, Optional.empty(), 2), two);
        FfmpegShape one = new FfmpegShape(true, true, 720, Optional.empty(), 1);
        assertEquals(FfmpegSizeTable.DEFAULTS.encodeByHeight().get(720),
                FfmpegSizeTable.DEFAULTS.estimate(two) - FfmpegSizeTable.DEFAULTS.estimate(one));
    }

    @Test
    void otherToneMappersAndDecoders() {
        FfmpegShape placebo = FfmpegShape.of(List.of("-i", "in.mkv", "-vf", "libplacebo=tonemapping=bt2390:format=yuv420p",
                "-c:v", "hevc_nvenc", "out.mkv"));
        assertEquals(Optional.of("vulkan"), placebo.tonemap());
        FfmpegShape cuvid = FfmpegShape.of(List.of("-c:v", "hevc_cuvid", "-i", "in.mkv", "-vf",
                "scale_npp=1280:720,tonemap_opencl=format=nv12", "-c:v", "libx264", "out.mkv"));
        assertEquals(new FfmpegShape(true, false, 720, Optional.of("opencl"), 1), cuvid);
        assertFalse(FfmpegShape.of(List.of("-i", "in.mkv", "-c:v", "libx264", "out.mkv")).usesGpu());
        assertTrue(FfmpegShape.isFfmpeg("/nix/store/abc-jellyfin-ffmpeg-7.1/bin/ffmpeg"));
        assertFalse(FfmpegShape.isFfmpeg("/usr/bin/python3"));
        assertEquals(Optional.empty(), FfmpegShape.fromSignature("ffmpeg:nonsense"));
    }

    /** Splits a command line as .NET's Process does for Jellyfin: spaces separate, double quotes group. */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (char c : line.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
                any = true;
            } else if (c == ' ' && !quoted) {
                if (any) {
                    out.add(cur.toString());
                }
                cur.setLength(0);
                any = false;
            } else {
                cur.append(c);
                any = true;
            }
        }
        if (any) {
            out.add(cur.toString());
        }
        return out;
    }
}
