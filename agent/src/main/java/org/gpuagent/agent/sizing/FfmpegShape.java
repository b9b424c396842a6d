package org.gpuagent.agent.sizing;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an ffmpeg command line asks of the GPU, read from its arguments alone (the input file is
 * never opened: {@code exec} must not add a probe to every stream's start): whether it decodes and
 * encodes on the GPU, how tall its largest output picture is, whether it tone-maps on the GPU,
 * how many outputs it writes. Its {@link #signature()} is the key under which the agent learns
 * what such invocations really take, and from which {@link FfmpegSizeTable} estimates.
 *
 * <p>Rules (each checked by {@code FfmpegShapeTest} on Jellyfin's command lines):
 * <ul>
 *   <li>GPU decode: {@code -hwaccel cuda|nvdec|cuvid}, or a {@code *_cuvid} input codec.</li>
 *   <li>GPU encode: a video codec {@code *_nvenc} ({@code -c:v}, {@code -codec:v:0}, {@code -vcodec}).</li>
 *   <li>Output height: the largest {@code h} of {@code scale_cuda}/{@code scale_npp}/{@code scale}/{@code
 *   vpp_*} filters ({@code w=1920:h=1080} or {@code 1920:1080}), else of {@code -s WxH}; 0 when no
 *   filter or option names one (the picture keeps the input's size, which the arguments do not say).</li>
 *   <li>Tone mapping: {@code tonemap_cuda}, {@code tonemap_opencl}, {@code tonemap_vaapi},
 *   {@code libplacebo}, or the software {@code tonemap}/{@code tonemapx} filters.</li>
 *   <li>Outputs: the arguments that are neither an option, an option's value nor an input.</li>
 * </ul>
 *
 * @param outputHeight 0 when unknown
 */
public record FfmpegShape(boolean gpuDecode, boolean gpuEncode, int outputHeight, Optional<String> tonemap,
        int outputs) {
    public static final String PREFIX = "ffmpeg:";

    /** ffmpeg options that take no value (the rest take one); enough to tell outputs from values. */
    private static final Set<String> FLAGS = Set.of("-y", "-n", "-nostdin", "-stdin", "-hide_banner", "-nostats",
            "-stats", "-an", "-vn", "-sn", "-dn", "-copyts", "-start_at_zero", "-shortest", "-noautorotate",
            "-autorotate", "-re", "-xerror", "-ignore_unknown", "-copy_unknown", "-benchmark", "-benchmark_all",
            "-dump", "-hex", "-accurate_seek", "-noaccurate_seek", "-autoscale", "-noautoscale", "-report",
            "-sub2video", "-fix_sub_duration", "-debug_ts", "-vstats", "-qphist", "-apad", "-reinit_filter",
            "-nofix_sub_duration", "-noreinit_filter");
    private static final Pattern SCALE = Pattern.compile(
            "(?:^|[,;\\]\\s])(?:scale_cuda|scale_npp|scale_opencl|scale_vaapi|scale_vulkan|vpp_qsv|vpp_vaapi|scale)"
                    + "=([^,;\\[]*)");
    private static final Pattern NAMED_H = Pattern.compile("(?:^|:)h(?:eight)?=(-?\\d+)(?::|$)");
    private static final Pattern POSITIONAL_WH = Pattern.compile("^(-?\\d+):(-?\\d+)(?::|$)");
    private static final Pattern SIZE_OPTION = Pattern.compile("^(\\d+)x(\\d+)$");
    private static final Pattern TONEMAP = Pattern.compile(
            "(?:^|[,;\\]\\s])(tonemap_cuda|tonemap_opencl|tonemap_vaapi|tonemap_videotoolbox|libplacebo|tonemapx|tonemap)"
                    + "(?:=|,|;|$)");

    /** Whether {@code program} (a path or a name) is an ffmpeg: its file name contains "ffmpeg". */
    public static boolean isFfmpeg(String program) {
        int slash = program.lastIndexOf('/');
        return program.substring(slash + 1).toLowerCase(Locale.ROOT).contains("ffmpeg");
    }

    /** Reads the arguments after the program name. */
    public static FfmpegShape of(List<String> args) {
        boolean decode = false;
        boolean encode = false;
        int height = 0;
        String tonemap = null;
        int outputs = 0;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("-") || a.equals("-")) {
                outputs++;
                continue;
            }
            if (FLAGS.contains(a) || i + 1 >= args.size()) {
                continue;
            }
            String v = args.get(++i);
            String opt = a.toLowerCase(Locale.ROOT);
            if (opt.equals("-hwaccel") && Set.of("cuda", "nvdec", "cuvid").contains(v.toLowerCase(Locale.ROOT))) {
                decode = true;
            } else if (isVideoCodecOption(opt)) {
                String codec = v.toLowerCase(Locale.ROOT);
                if (codec.endsWith("_cuvid")) {
                    decode = true;
                } else if (codec.endsWith("_nvenc")) {
                    encode = true;
                }
            } else if (opt.equals("-vf") || opt.startsWith("-filter:v") || opt.startsWith("-filter_complex")
                    || opt.equals("-lavfi") || opt.startsWith("-filter")) {
                height = Math.max(height, filterHeight(v));
                Matcher t = TONEMAP.matcher(v);
                if (t.find() && tonemap == null) {
                    tonemap = tonemapKind(t.group(1));
                }
            } else if (opt.equals("-s") || opt.startsWith("-s:v")) {
                Matcher m = SIZE_OPTION.matcher(v);
                if (m.matches()) {
                    height = Math.max(height, Integer.parseInt(m.group(2)));
                }
            }
            // -i's value is an input, never an output: consumed above like any value
        }
        return new FfmpegShape(decode, encode, height, Optional.ofNullable(tonemap), Math.max(outputs, 1));
    }

    private static boolean isVideoCodecOption(String opt) {
        return opt.equals("-vcodec") || opt.startsWith("-c:v") || opt.startsWith("-codec:v");
    }

    private static int filterHeight(String filters) {
        int h = 0;
        Matcher m = SCALE.matcher(filters);
        while (m.find()) {
            String params = m.group(1);
            Matcher named = NAMED_H.matcher(params);
            Matcher positional = POSITIONAL_WH.matcher(params);
            int found = 0;
            if (named.find()) {
                found = Integer.parseInt(named.group(1));
            } else if (positional.find()) {
                found = Integer.parseInt(positional.group(2));
            }
            h = Math.max(h, found);
        }
        return h;
    }

    private static String tonemapKind(String filter) {
        return switch (filter) {
            case "tonemap_cuda" -> "cuda";
            case "tonemap_opencl" -> "opencl";
            case "tonemap_vaapi" -> "vaapi";
            case "tonemap_videotoolbox" -> "videotoolbox";
            case "libplacebo" -> "vulkan";
            default -> "cpu";
        };
    }

    /** The picture-height class: 480, 720, 1080, 1440, 2160 (the nearest at or above), 0 unknown. */
    public int heightClass() {
        if (outputHeight <= 0) {
            return 0;
        }
        for (int c : new int[] {480, 720, 1080, 1440}) {
            if (outputHeight <= c) {
                return c;
            }
        }
        return 2160;
    }

    /**
     * The learning key: {@code ffmpeg:dec=gpu,enc=gpu,out=1080p,tonemap=cuda,outputs=1}; equal
     * for invocations the table cannot tell apart, so what one of them took predicts the next.
     */
    public String signature() {
        return PREFIX + "dec=" + (gpuDecode ? "gpu" : "cpu") + ",enc=" + (gpuEncode ? "gpu" : "cpu") + ",out="
                + (heightClass() == 0 ? "same" : heightClass() + "p") + ",tonemap=" + tonemap.orElse("none")
                + ",outputs=" + outputs;
    }

    private static final Pattern SIGNATURE = Pattern.compile(
            "ffmpeg:dec=(gpu|cpu),enc=(gpu|cpu),out=(same|\\d{3,4}p),tonemap=([a-z]+),outputs=(\\d{1,3})");

    /** Reads a {@link #signature()} back; empty for anything else. */
    public static Optional<FfmpegShape> fromSignature(String signature) {
        Matcher m = SIGNATURE.matcher(signature);
        if (!m.matches()) {
            return Optional.empty();
        }
        String out = m.group(3);
        int h = out.equals("same") ? 0 : Integer.parseInt(out.substring(0, out.length() - 1));
        return Optional.of(new FfmpegShape(m.group(1).equals("gpu"), m.group(2).equals("gpu"), h,
                m.group(4).equals("none") ? Optional.empty() : Optional.of(m.group(4)), Integer.parseInt(m.group(5))));
    }

    /** Whether any of this runs on the GPU (else the table adds nothing for it). */
    public boolean usesGpu() {
        return gpuDecode || gpuEncode || tonemap.filter(t -> !t.equals("cpu")).isPresent();
    }
}
